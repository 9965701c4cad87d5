"""Web forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from app.services.errors import DomainError
from app.unit_of_work import discard_changes


def errors_onto_form(
    form: FlaskForm,
    error: DomainError,
    default: str | None = None,
    fields: dict[str, str] | None = None,
) -> None:
    """Show what a service refused next to the fields it is about.

    Each of a ``ValidationFailed``'s messages goes to the form's field of the same name (or
    the one ``fields`` names for it, where the service calls it otherwise); the rest, and the
    message of any other refusal, go to the ``default`` field, else to the form's own errors.
    Nothing the refused call changed is stored.
    """
    discard_changes()
    messages = getattr(error, "errors", None) or {"": error.detail}
    for key, message in messages.items():
        name = (fields or {}).get(key, key)
        field = form._fields.get(name) if name else None
        if field is None and default is not None:
            field = form._fields[default]
        if field is None:
            form.form_errors = [*form.form_errors, message]
        else:
            field.errors = [*field.errors, message]


def flash_refusal(error: DomainError) -> None:
    """Say what a service refused in a message shown on the next page (after a redirect).

    Nothing the refused call changed is stored.
    """
    discard_changes()
    messages = getattr(error, "errors", None)
    flash(" ".join(messages.values()) if messages else error.detail, "error")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired()])


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Código de verificación"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nueva contraseña"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    confirm = PasswordField(
        _l("Repita la contraseña"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("Las contraseñas no coinciden.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Contraseña actual"), validators=[DataRequired()])


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Idioma"), choices=[("es", "Español"), ("en", "English")])


class ClientForm(FlaskForm):
    name = StringField(_l("Nombre o razón social"), validators=[DataRequired(), Length(max=200)])
    tax_id = StringField(_l("NIF / CIF"), validators=[Optional(), Length(max=32)])
    kind = SelectField(
        _l("Tipo"), choices=[("company", _l("Empresa")), ("person", _l("Persona física"))]
    )


SPACE_KINDS = [
    ("case", _l("Expediente")),
    ("fiscal_year", _l("Ejercicio fiscal")),
    ("project", _l("Proyecto")),
    ("general", _l("General")),
]


class SpaceForm(FlaskForm):
    name = StringField(_l("Nombre del espacio"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Tipo"), choices=SPACE_KINDS)


class UserForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    role = SelectField(
        _l("Rol"),
        choices=[("staff", _l("Personal del despacho")), ("admin", _l("Administrador"))],
    )
    locale = SelectField(_l("Idioma"), choices=[("es", "Español"), ("en", "English")])


class ClientUserForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    locale = SelectField(_l("Idioma"), choices=[("es", "Español"), ("en", "English")])


PERMISSIONS = [
    ("view", _l("Ver")),
    ("contribute", _l("Aportar documentos")),
    ("manage", _l("Gestionar")),
]


class MemberForm(FlaskForm):
    user_id = SelectField(_l("Persona"), choices=[])
    permission = SelectField(_l("Permiso"), choices=PERMISSIONS)


class FolderForm(FlaskForm):
    name = StringField(_l("Nueva carpeta"), validators=[DataRequired(), Length(max=200)])


class UploadForm(FlaskForm):
    file = FileField(_l("Archivo"), validators=[FileRequired(_l("Elija un archivo."))])
    title = StringField(_l("Título (opcional)"), validators=[Optional(), Length(max=300)])
    category = StringField(_l("Categoría (opcional)"), validators=[Optional(), Length(max=100)])
    visibility = SelectField(
        _l("Visibilidad"),
        choices=[
            ("shared", _l("Compartido con el cliente")),
            ("internal", _l("Interno (solo el despacho)")),
        ],
    )
    folder_id = SelectField(_l("Carpeta"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Nota (opcional)"), validators=[Optional(), Length(max=2000)])


class VersionForm(FlaskForm):
    file = FileField(_l("Archivo"), validators=[FileRequired(_l("Elija un archivo."))])
    note = TextAreaField(_l("Qué cambia (opcional)"), validators=[Optional(), Length(max=2000)])


class RenameForm(FlaskForm):
    title = StringField(
        _l("Título"), validators=[DataRequired(_l("Escriba un título.")), Length(max=300)]
    )


class ConfirmForm(FlaskForm):
    """A bare form: a button that only carries the CSRF token."""


class RevokeCertificateForm(FlaskForm):
    reason = SelectField(
        _l("Motivo"),
        choices=[
            ("", _l("Elija un motivo…")),
            ("key_compromise", _l("La clave puede estar en manos de otra persona")),
            ("affiliation_changed", _l("La persona ya no pertenece a la organización")),
            ("superseded", _l("Se sustituye por un certificado nuevo")),
            ("cessation_of_operation", _l("La persona ya no firmará en el portal")),
            ("privilege_withdrawn", _l("Se le retira el permiso para firmar")),
            ("unspecified", _l("Otro motivo")),
        ],
        validators=[DataRequired(_l("Elija un motivo."))],
    )
    note = TextAreaField(
        _l("Nota para la auditoría (opcional)"), validators=[Optional(), Length(max=1000)]
    )
    confirm = BooleanField(
        _l("Entiendo que la revocación no se puede deshacer"),
        validators=[DataRequired(_l("Confirme que quiere revocar el certificado."))],
    )


class SettingsForm(FlaskForm):
    require_mfa_for_staff = BooleanField(
        _l("Exigir el segundo factor a todo el personal del despacho")
    )
    require_mfa_for_clients = BooleanField(
        _l("Exigir a los clientes un segundo factor (código TOTP de una aplicación)")
    )


class ReviewForm(FlaskForm):
    action = StringField(validators=[Optional(), Length(max=30)])
    label = StringField(validators=[Optional(), Length(max=40)])
    comment = TextAreaField(_l("Comentario"), validators=[Optional(), Length(max=5000)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comentario"), validators=[DataRequired(), Length(max=5000)])
    page = StringField(_l("Página"), validators=[Optional(), Length(max=6)])
    x = StringField(validators=[Optional(), Length(max=20)])
    y = StringField(validators=[Optional(), Length(max=20)])


class TransmittalForm(FlaskForm):
    document_ids = SelectMultipleField(_l("Documentos"), choices=[], validate_choice=False)
    recipient_ids = SelectMultipleField(_l("Destinatarios"), choices=[], validate_choice=False)
    due_date = DateField(_l("Fecha límite"), validators=[Optional()])
    message = TextAreaField(_l("Mensaje"), validators=[Optional(), Length(max=5000)])


class NotificationSettingsForm(FlaskForm):
    notify_email = SelectField(
        _l("Avisos por e-mail"),
        choices=[
            ("immediate", _l("En el momento")),
            ("daily", _l("Un resumen al día")),
            ("off", _l("No enviar e-mails")),
        ],
    )


class SpaceSettingsForm(FlaskForm):
    label_scheme = SelectField(
        _l("Respuestas de revisión"),
        choices=[
            ("default", _l("Estándar (revisado, validado, cambios)")),
            ("iso19650", _l("ISO 19650 (códigos S1–S5, A, B)")),
            ("procore", _l("Estilo Procore (aprobado, revisar y reenviar…)")),
        ],
    )
    read_days = IntegerField(
        _l("Días para leer"), validators=[DataRequired(), NumberRange(min=1, max=365)]
    )
    decision_days = IntegerField(
        _l("Días para decidir"), validators=[DataRequired(), NumberRange(min=1, max=365)]
    )


class RequestForm(FlaskForm):
    title = StringField(_l("Título"), validators=[Optional(), Length(max=300)])
    template = SelectField(_l("Plantilla"), choices=[], validate_choice=False)
    due_date = DateField(_l("Fecha límite"), validators=[DataRequired()])
    items = TextAreaField(
        _l("Documentos que pide (uno por línea; empiece con «?» los opcionales)"),
        validators=[Optional(), Length(max=20000)],
    )
    days_before = StringField(
        _l("Recordar días antes (p. ej. 7,1)"), default="7,1", validators=[Length(max=40)]
    )
    overdue_every_days = IntegerField(
        _l("Después del vencimiento, recordar cada (días)"),
        default=3,
        validators=[NumberRange(min=1, max=60)],
    )
    yearly = BooleanField(_l("Repetir cada año"))
    message = TextAreaField(
        _l("Mensaje para el cliente"), validators=[Optional(), Length(max=5000)]
    )


class ItemUploadForm(FlaskForm):
    file = FileField(_l("Archivo"), validators=[FileRequired(_l("Elija un archivo."))])


class NotApplicableForm(FlaskForm):
    reason = TextAreaField(_l("Motivo"), validators=[DataRequired(), Length(max=2000)])


class ItemReviewForm(FlaskForm):
    action = StringField(validators=[DataRequired(), Length(max=20)])
    comment = TextAreaField(
        _l("Comentario para el cliente"), validators=[Optional(), Length(max=2000)]
    )


class TemplateForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    items = TextAreaField(
        _l("Documentos (uno por línea; empiece con «?» los opcionales)"),
        validators=[DataRequired(), Length(max=20000)],
    )
