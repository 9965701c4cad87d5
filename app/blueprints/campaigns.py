"""Campaigns in the web UI (staff): the list, a new campaign, its board, bulk actions, exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints import charts
from app.blueprints.forms import errors_onto_form, flash_refusal
from app.models import ClientKind, User
from app.services import campaign_board, campaigns, requests
from app.services.access import require_staff
from app.services.errors import DomainError, ValidationFailed
from app.services.paging import cursor_page

bp = Blueprint("campaigns", __name__)
PAGE_SIZE = 50  # board rows per page: the most urgent first

STATUS_LABELS = {
    "overdue": _l("Atrasado"),
    "failed": _l("Con error"),
    "declined": _l("Rechazado"),
    "open": _l("En curso"),
    "pending": _l("En preparación"),
    "done": _l("Completo"),
    "closed": _l("Cerrado"),
    "removed": _l("Quitado"),
}
SPACE_KINDS = {
    "fiscal_year": _l("Ejercicio fiscal"),
    "case": _l("Expediente"),
    "project": _l("Proyecto"),
    "general": _l("General"),
}


class CampaignForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        _l("Qué se pide"),
        choices=[("request", _l("Documentos")), ("signature", _l("Firmas"))],
    )
    template = SelectField(_l("Plantilla"), choices=[], validate_choice=False)
    items = TextAreaField(
        _l("O escriba los documentos, uno por línea («?» delante si es opcional)"),
        validators=[Optional(), Length(max=20000)],
    )
    due_date = DateField(_l("Fecha límite"), validators=[DataRequired()])
    space_kind = SelectField(_l("Tipo de espacio"), choices=list(SPACE_KINDS.items()))
    space_name = StringField(
        _l("Nombre del espacio ({year}: año de la fecha límite)"),
        validators=[DataRequired(), Length(max=200)],
        default="Renta {year}",
    )
    tag = StringField(_l("Clientes con la etiqueta"), validators=[Optional(), Length(max=40)])
    client_kind = SelectField(
        _l("Clientes de tipo"),
        choices=[
            ("", _l("Cualquiera")),
            (ClientKind.person.value, _l("Personas")),
            (ClientKind.company.value, _l("Empresas")),
        ],
        validators=[Optional()],
    )
    clients_csv = FileField(_l("O un CSV con los NIF de los clientes"))
    documents_zip = FileField(
        _l(
            "Firmas: ZIP con un PDF por cliente, nombrado por su NIF (sin ZIP, cada cliente "
            "firma el último PDF de su espacio)"
        )
    )


def _items(text: str) -> list[dict[str, Any]]:
    found = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            found.append({"title": line.lstrip("?").strip(), "required": not line.startswith("?")})
    return found


def _templates() -> list[Any]:
    listed = requests.list_templates()
    return list(getattr(listed, "items", listed))


@bp.get("/campaigns")
@login_required
def index() -> str | Response:
    try:
        summaries = campaign_board.campaign_summaries(
            current_user, cursor_page(request.args), today=date.today()
        )
    except ValidationFailed as exc:  # an altered "more" link: back to the newest, saying why
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("campaigns.index"))
    return render_template("campaigns/index.html", summaries=summaries)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int]:
    require_staff(current_user)
    form = CampaignForm()
    form.template.choices = [("", _("Sin plantilla (escriba la lista)"))] + [
        (t.key, t.name) for t in _templates()
    ]
    status = 200
    if form.validate_on_submit():
        csv_file = form.clients_csv.data
        zip_file = form.documents_zip.data
        chosen_filter = {
            k: v for k, v in (("tag", form.tag.data), ("kind", form.client_kind.data)) if v
        }
        try:
            made = campaigns.create_campaign(
                current_user,
                name=form.name.data,
                kind=form.kind.data,
                template=form.template.data or None,
                items=_items(form.items.data or "") or None,
                due_date=form.due_date.data,
                client_filter=chosen_filter or None,
                clients_csv=csv_file.stream if csv_file and csv_file.filename else None,
                documents_zip=zip_file.stream if zip_file and zip_file.filename else None,
                space_kind=form.space_kind.data,
                space_name=form.space_name.data,
                today=date.today(),
            )
        except ValidationFailed as exc:
            status = 422
            errors_onto_form(
                form,
                exc,
                default="name",
                fields={"clients": "tag", "client_filter": "tag", "tax_ids": "clients_csv"},
            )
        else:
            flash(_("Campaña creada: el portal prepara cada cliente."), "success")
            return redirect(url_for("campaigns.board", campaign_id=made.id))
    elif form.is_submitted():
        status = 422
    return render_template("campaigns/new.html", form=form), status


@bp.get("/campaigns/<campaign_id>")
@login_required
def board(campaign_id: str) -> str:
    chosen_status = request.args.get("status", "")
    query = (request.args.get("q") or "").strip()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    board = campaign_board.board_page(
        current_user,
        campaign_id,
        today=date.today(),
        status=chosen_status,
        query=query,
        page=page,
        per_page=PAGE_SIZE,
    )
    campaign, totals = board.campaign, board.totals
    pages = max(1, -(-board.shown // PAGE_SIZE))
    chart = charts.line_chart(
        [(d.strftime("%d/%m"), n) for d, n in board.series],
        title=_("Clientes completos por día"),
        description=_(
            "%(done)s de %(total)s clientes completos", done=totals["done"], total=totals["clients"]
        ),
        peak=totals["clients"],
    )
    return render_template(
        "campaigns/board.html",
        campaign=campaign,
        rows=board.rows,
        shown_count=board.shown,
        all_count=board.clients,
        page=min(page, pages),
        pages=pages,
        totals=totals,
        chart=chart,
        series=board.series,
        made=board.made,
        all_rows=board.clients,
        # translated once for the page, not once per row (each lazy label asks Flask-Babel
        # for the request's locale and catalogue anew)
        labels={key: str(label) for key, label in STATUS_LABELS.items()},
        space_kinds=SPACE_KINDS,
        chosen_status=chosen_status,
        query=query,
        action_form=FlaskForm(),
    )


def _selected() -> list[str]:
    return [i for i in request.form.getlist("client_ids") if i]


@bp.post("/campaigns/<campaign_id>/remind")
@login_required
def remind(campaign_id: str) -> Response:
    campaigns.get_campaign(current_user, campaign_id)  # staff only; unknown ones are 404
    if FlaskForm().validate_on_submit():
        sent = campaign_board.remind(current_user, campaign_id, today=date.today())
        flash(_("Recordatorios enviados: %(n)s.", n=sent), "success")
    return redirect(url_for("campaigns.board", campaign_id=campaign_id))


def _bulk(
    campaign_id: str,
    act: Callable[[User, str, list[str]], int],
    none_chosen: str,
    done: Callable[[int], str],
) -> Response:
    """A board action on the clients ticked: ``act`` does it, the board says how many."""
    campaigns.get_campaign(current_user, campaign_id)  # staff only; unknown ones are 404
    chosen = _selected()
    if FlaskForm().validate_on_submit():
        if not chosen:
            flash(none_chosen, "error")
        else:
            try:
                count = act(current_user, campaign_id, chosen)
            except DomainError as exc:
                if exc.status == 404:
                    raise
                flash_refusal(exc)
            else:
                flash(done(count), "success")
    return redirect(url_for("campaigns.board", campaign_id=campaign_id))


@bp.post("/campaigns/<campaign_id>/close")
@login_required
def close(campaign_id: str) -> Response:
    return _bulk(
        campaign_id,
        campaigns.close,
        _("Marque los clientes que quiere cerrar."),
        lambda n: _("Cerrados: %(n)s clientes.", n=n),
    )


@bp.post("/campaigns/<campaign_id>/retry")
@login_required
def retry(campaign_id: str) -> Response:
    """Every failed client again (the button beside the failed count)."""
    campaigns.get_campaign(current_user, campaign_id)  # staff only; unknown ones are 404
    if FlaskForm().validate_on_submit():
        count = campaigns.retry(current_user, campaign_id)
        if count:
            flash(_("Se preparan de nuevo %(n)s clientes.", n=count), "success")
        else:
            flash(_("Ningún cliente tiene la preparación fallida."), "info")
    return redirect(url_for("campaigns.board", campaign_id=campaign_id))


@bp.post("/campaigns/<campaign_id>/remove")
@login_required
def remove(campaign_id: str) -> Response:
    return _bulk(
        campaign_id,
        campaigns.remove_clients,
        _("Marque los clientes que quiere quitar."),
        lambda n: _("Quitados de la campaña: %(n)s clientes.", n=n),
    )


@bp.get("/campaigns/<campaign_id>/export")
@login_required
def export(campaign_id: str) -> Response:
    data, media_type, filename = campaign_board.export(
        current_user, campaign_id, today=date.today(), kind=request.args.get("format", "csv")
    )
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
