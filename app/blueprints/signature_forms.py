"""Web forms of the signing pages (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

LEVELS = [
    ("", _l("Automático: B-LTA para cuentas anuales, B-T para lo demás")),
    ("B-B", _l("B-B: firma básica")),
    ("B-T", _l("B-T: con sello de tiempo")),
    ("B-LT", _l("B-LT: con datos de revocación")),
    ("B-LTA", _l("B-LTA: longeva, con sellos de archivo")),
]
SIGNER_LABELS = [
    _l("Primer firmante"),
    _l("Segundo firmante"),
    _l("Tercer firmante"),
    _l("Cuarto firmante"),
    _l("Quinto firmante"),
]


class SignatureRequestForm(FlaskForm):
    signer_1 = SelectField(SIGNER_LABELS[0], choices=[], validate_choice=False)
    signer_2 = SelectField(SIGNER_LABELS[1], choices=[], validate_choice=False)
    signer_3 = SelectField(SIGNER_LABELS[2], choices=[], validate_choice=False)
    signer_4 = SelectField(SIGNER_LABELS[3], choices=[], validate_choice=False)
    signer_5 = SelectField(SIGNER_LABELS[4], choices=[], validate_choice=False)
    any_order = BooleanField(_l("Pueden firmar en cualquier orden"))
    level = SelectField(_l("Nivel de firma"), choices=LEVELS)
    certify = BooleanField(
        _l("Certificar el documento con la primera firma (después solo se podrá firmar)")
    )
    due_date = DateField(_l("Fecha límite (opcional)"), validators=[Optional()])
    message = TextAreaField(
        _l("Mensaje para los firmantes (opcional)"), validators=[Optional(), Length(max=5000)]
    )
    stamp_page = IntegerField(
        _l("Página del sello (vacío: la última; -1 la última, 1 la primera)"),
        validators=[Optional()],
    )
    stamp_position = SelectField(
        _l("Lugar del sello"), choices=[("bottom", _l("Abajo")), ("top", _l("Arriba"))]
    )

    def signer_fields(self) -> list[SelectField]:
        return [self.signer_1, self.signer_2, self.signer_3, self.signer_4, self.signer_5]


class SignForm(FlaskForm):
    otp = StringField(
        _l("Código de verificación"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    pkcs12 = FileField(_l("Mi certificado (.p12 o .pfx)"))
    password = PasswordField(_l("Contraseña del certificado"), validators=[Optional()])
    seal = BooleanField(_l("Firmar con el sello del despacho"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo por el que no firma"), validators=[DataRequired(), Length(max=5000)]
    )


class ValidateForm(FlaskForm):
    file = FileField(_l("PDF firmado"), validators=[FileRequired(_l("Elija un archivo."))])
