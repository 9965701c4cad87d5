"""Onboarding pages: staff start one and follow the board; the new client walks the steps."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.forms import ConfirmForm, errors_onto_form, flash_refusal
from app.models import Onboarding
from app.models.base import as_utc
from app.services import catalogue, onboarding
from app.services.access import require_staff
from app.services.errors import DomainError, ValidationFailed
from app.services.paging import PageArgs, cursor_page
from ocr.identity import IDENTITY_FIELDS

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")

FIELD_LABELS = {
    "document_type": _l("Tipo de documento"),
    "document_number": _l("Número (DNI, NIE o pasaporte)"),
    "surnames": _l("Apellidos"),
    "given_names": _l("Nombre"),
    "birth_date": _l("Fecha de nacimiento (AAAA-MM-DD)"),
    "expiry_date": _l("Válido hasta (AAAA-MM-DD)"),
    "nationality": _l("Nacionalidad (código de 3 letras)"),
}
STEP_LABELS = {
    "invitation": _l("Invitación"),
    "identity": _l("Identidad"),
    "review": _l("Revisión del despacho"),
    "engagement": _l("Hoja de encargo"),
    "activation": _l("Servicio activo"),
}
STATUS_LABELS = {
    "invited": _l("Invitado"),
    "identity": _l("Identidad"),
    "review": _l("En revisión"),
    "engagement": _l("Firma del encargo"),
    "active": _l("Activo"),
    "rejected": _l("Rechazado"),
    "expired": _l("Caducado"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StartForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Nombre y apellidos"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Tipo de cliente"),
        choices=[("person", _l("Persona física")), ("company", _l("Sociedad"))],
    )
    client_name = StringField(_l("Nombre de la sociedad"), validators=[Optional(), Length(max=200)])
    tax_id = StringField(_l("NIF o CIF (si lo sabe)"), validators=[Optional(), Length(max=32)])
    services = MultiCheckboxField(_l("Servicios"), choices=[])


class IdentityForm(FlaskForm):
    # No "capture": a phone then offers its camera and its files (a PDF from a scanner).
    front = FileField(
        _l("Cara delantera (o la página del pasaporte con la foto)"),
        render_kw={"accept": "image/*,application/pdf"},
    )
    back = FileField(
        _l("Cara trasera (DNI o NIE)"), render_kw={"accept": "image/*,application/pdf"}
    )


class ConfirmIdentityForm(FlaskForm):
    document_type = SelectField(
        FIELD_LABELS["document_type"],
        choices=[("dni", "DNI"), ("nie", "NIE"), ("passport", _l("Pasaporte"))],
    )
    document_number = StringField(FIELD_LABELS["document_number"])
    surnames = StringField(FIELD_LABELS["surnames"])
    given_names = StringField(FIELD_LABELS["given_names"])
    birth_date = StringField(FIELD_LABELS["birth_date"])
    expiry_date = StringField(FIELD_LABELS["expiry_date"])
    nationality = StringField(FIELD_LABELS["nationality"])


class ServiceForm(FlaskForm):
    key = StringField(_l("Clave (p. ej. renta-2026)"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Descripción"), validators=[Optional(), Length(max=2000)])
    space_kind = SelectField(
        _l("Tipo de espacio que abre"),
        choices=[
            ("fiscal_year", _l("Ejercicio fiscal")),
            ("project", _l("Proyecto")),
            ("case", _l("Expediente")),
            ("general", _l("General")),
        ],
    )
    space_name = StringField(
        _l("Nombre del espacio ({year} y {client} se rellenan solos)"),
        validators=[DataRequired(), Length(max=200)],
    )
    request_template = StringField(
        _l("Plantilla de solicitud al activar (clave, opcional)"),
        validators=[Optional(), Length(max=200)],
    )
    fees = StringField(_l("Honorarios"), validators=[Optional(), Length(max=300)])
    engagement_template = TextAreaField(
        _l(
            "Hoja de encargo (opcional; campos: {client_name}, {tax_id}, {address}, {service}, {fees}, {date}, {firm}, {city})"
        ),
        validators=[Optional(), Length(max=20000)],
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Motivo (lo verá el cliente)"), validators=[Length(max=2000)])


def _service_choices() -> list[tuple[str, str]]:
    return [(s.key, s.name) for s in catalogue.list_services(current_user) if s.active]


@bp.get("/")
@login_required
def board() -> Response | str:
    if not current_user.is_staff:
        mine = onboarding.open_onboarding_for(current_user) or next(
            iter(onboarding.list_onboardings(current_user)), None
        )
        if mine is None:
            return redirect(url_for("main.dashboard"))
        return redirect(url_for("onboarding.detail", onboarding_id=mine.id))
    status = request.args.get("status") or None
    page = cursor_page(request.args)
    try:
        items = onboarding.list_onboardings(current_user, status=status, page=page)
    except ValidationFailed as exc:
        if "cursor" in exc.errors:  # an altered "more" link: the newest, same filter
            flash(exc.errors["cursor"], "error")
            return redirect(url_for("onboarding.board", status=status))
        items, status = onboarding.list_onboardings(current_user, page=PageArgs()), None
    now = datetime.now(UTC)
    rows = [
        {
            "item": item,
            "step": STATUS_LABELS.get(item.status, item.status),
            "age_days": (now - as_utc(item.created_at)).days,
            "waiting_days": (now - as_utc(item.status_since)).days,
            "waiting_on": onboarding.waiting_on(item),
        }
        for item in items
    ]
    return render_template(
        "onboarding/board.html",
        rows=rows,
        page=items,
        status=status,
        statuses=STATUS_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int] | str:
    require_staff(current_user)
    form = StartForm()
    form.services.choices = _service_choices()
    if form.validate_on_submit():
        try:
            item = onboarding.start_onboarding(
                current_user,
                email=form.email.data,
                name=form.name.data,
                kind=form.kind.data,
                services=form.services.data,
                client_name=form.client_name.data,
                tax_id=form.tax_id.data,
            )
        except ValidationFailed as exc:
            errors_onto_form(form, exc)
        else:
            flash(_("Invitación enviada a %(email)s.", email=item.email), "success")
            return redirect(url_for("onboarding.detail", onboarding_id=item.id))
        return render_template("onboarding/new.html", form=form), 422
    status = 422 if request.method == "POST" else 200
    return render_template("onboarding/new.html", form=form), status


def _confirm_form(item: Onboarding) -> ConfirmIdentityForm:
    form = ConfirmIdentityForm()
    if request.method == "GET" or not form.is_submitted():
        values = dict(item.confirmed_fields or {})
        if not values and item.identity:
            values = {name: found["value"] for name, found in item.identity["fields"].items()}
        for name in IDENTITY_FIELDS:
            if values.get(name):
                form[name].data = values[name]
    return form


def _render(
    item: Onboarding,
    *,
    status: int = 200,
    identity_form: IdentityForm | None = None,
    confirm_form: ConfirmIdentityForm | None = None,
    reject_form: RejectForm | None = None,
) -> tuple[str, int]:
    view = onboarding.describe(item)
    images = len((item.identity or {}).get("documents", []))
    return (
        render_template(
            "onboarding/detail.html",
            item=item,
            view=view,
            identity_form=identity_form or IdentityForm(),
            confirm_form=confirm_form or _confirm_form(item),
            reject_form=reject_form or RejectForm(),
            confirm=ConfirmForm(),
            field_labels=FIELD_LABELS,
            step_labels=STEP_LABELS,
            status_labels=STATUS_LABELS,
            problem_text=onboarding.PROBLEM_TEXT,
            hint_text=onboarding.HINT_TEXT,
            images=range(max(images, 2 if images else 0)),
            is_person=current_user.id == item.user_id,
            letter=onboarding.engagement_document(item),
        ),
        status,
    )


@bp.get("/<onboarding_id>")
@login_required
def detail(onboarding_id: str) -> tuple[str, int]:
    return _render(onboarding.get_onboarding(current_user, onboarding_id))


@bp.get("/<onboarding_id>/images/<int:index>")
@login_required
def image(onboarding_id: str, index: int) -> Response:
    data = onboarding.identity_image(current_user, onboarding_id, index)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<onboarding_id>/identity")
@login_required
def identity(onboarding_id: str) -> Response | tuple[str, int]:
    item = onboarding.get_onboarding(current_user, onboarding_id)
    form = IdentityForm()
    if form.validate_on_submit():
        front, back = form.front.data, form.back.data
        try:
            onboarding.submit_identity(
                current_user,
                item.id,
                front=onboarding.IdentityFile(front.stream, front.filename)
                if front and front.filename
                else None,
                back=onboarding.IdentityFile(back.stream, back.filename)
                if back and back.filename
                else None,
                today=date.today(),
            )
        except DomainError as exc:
            errors_onto_form(form, exc, default="front")
            return _render(item, status=exc.status, identity_form=form)
        return redirect(url_for("onboarding.detail", onboarding_id=item.id) + "#confirmar")
    return _render(item, status=422, identity_form=form)


@bp.post("/<onboarding_id>/confirm")
@login_required
def confirm(onboarding_id: str) -> Response | tuple[str, int]:
    item = onboarding.get_onboarding(current_user, onboarding_id)
    form = ConfirmIdentityForm()
    if form.validate_on_submit():
        fields = {name: form[name].data for name in IDENTITY_FIELDS}
        try:
            onboarding.confirm_identity(current_user, item.id, fields=fields, today=date.today())
        except DomainError as exc:
            errors_onto_form(form, exc, default="document_number")
            return _render(item, status=exc.status, confirm_form=form)
        flash(_("Datos confirmados. El despacho los revisará en breve."), "success")
        return redirect(url_for("onboarding.detail", onboarding_id=item.id))
    return _render(item, status=422, confirm_form=form)


@bp.post("/<onboarding_id>/approve")
@login_required
def approve(onboarding_id: str) -> Response:
    item = onboarding.get_onboarding(current_user, onboarding_id)
    if ConfirmForm().validate_on_submit():
        try:
            onboarding.approve(current_user, item.id, today=date.today())
        except DomainError as exc:
            flash_refusal(exc)
        else:
            if item.status == "review":
                flash(_("Aprobación anotada: falta la de otra persona del despacho."), "info")
            else:
                flash(_("Alta aprobada: la hoja de encargo se ha enviado a firmar."), "success")
    return redirect(url_for("onboarding.detail", onboarding_id=item.id))


@bp.post("/<onboarding_id>/reject")
@login_required
def reject(onboarding_id: str) -> Response | tuple[str, int]:
    item = onboarding.get_onboarding(current_user, onboarding_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            onboarding.reject(current_user, item.id, reason=form.reason.data)
        except DomainError as exc:
            errors_onto_form(form, exc, default="reason")
            return _render(item, status=exc.status, reject_form=form)
        flash(_("Alta rechazada."), "info")
        return redirect(url_for("onboarding.detail", onboarding_id=item.id))
    return _render(item, status=422, reject_form=form)


@bp.route("/services", methods=["GET", "POST"])
@login_required
def services() -> Response | tuple[str, int]:
    form = ServiceForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                catalogue.create_service(
                    current_user,
                    key=form.key.data,
                    name=form.name.data,
                    description=form.description.data or None,
                    space_kind=form.space_kind.data,
                    space_name=form.space_name.data,
                    request_template=form.request_template.data or None,
                    engagement_template=form.engagement_template.data or None,
                    fees=form.fees.data or None,
                )
            except DomainError as exc:
                errors_onto_form(form, exc, default="key")
                status = exc.status
            else:
                flash(_("Servicio añadido al catálogo."), "success")
                return redirect(url_for("onboarding.services"))
        else:
            status = 422
    taken: set[str] = set()
    if current_user.is_client:
        taken = {key for o in onboarding.list_onboardings(current_user) for key in o.services}
    return (
        render_template(
            "onboarding/services.html",
            services=catalogue.list_services(current_user),
            taken=taken,
            confirm=ConfirmForm(),
            form=form if current_user.is_admin else None,
        ),
        status,
    )


@bp.post("/services/<key>/subscribe")
@login_required
def subscribe(key: str) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            item = onboarding.subscribe(current_user, key, today=date.today())
        except DomainError as exc:
            flash_refusal(exc)
        else:
            flash(_("Le hemos preparado la adenda: fírmela para activar el servicio."), "success")
            return redirect(url_for("onboarding.detail", onboarding_id=item.id))
    return redirect(url_for("onboarding.services"))
