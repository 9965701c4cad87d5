"""Document requests in the web UI: checklists for clients, review by staff, templates."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import (
    ItemReviewForm,
    ItemUploadForm,
    NotApplicableForm,
    RequestForm,
    TemplateForm,
    errors_onto_form,
    flash_refusal,
)
from app.models import Permission, RequestItem
from app.services import requests
from app.services.access import get_space, require_staff, space_permission
from app.services.errors import DomainError, ValidationFailed

bp = Blueprint("requests", __name__)


def parse_lines(text: str) -> list[dict]:
    """One item per line; a leading "?" marks it optional; "título | descripción"."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        required = not line.startswith("?")
        line = line.lstrip("?").strip()
        title, _sep, description = line.partition("|")
        items.append(
            {"title": title.strip(), "description": description.strip(), "required": required}
        )
    return items


def format_lines(items: list[dict]) -> str:
    return "\n".join(
        ("" if i.get("required", True) else "? ")
        + i["title"]
        + (f" | {i['description']}" if i.get("description") else "")
        for i in items
    )


@bp.route("/spaces/<space_id>/requests/new", methods=["GET", "POST"])
@login_required
def new(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.contribute)
    require_staff(current_user)
    form = RequestForm()
    templates = requests.list_templates()
    form.template.choices = [("", _("Sin plantilla (escriba la lista)"))] + [
        (t.key, t.name) for t in templates
    ]
    status = 200
    if form.validate_on_submit():
        try:
            days = requests.reminder_days(form.days_before.data)
            created = requests.create_request(
                current_user,
                space.id,
                title=form.title.data,
                due_date=form.due_date.data,
                items=parse_lines(form.items.data or "") or None,
                template=form.template.data or None,
                reminders={
                    "days_before": days,
                    "on_due_date": True,
                    "overdue_every_days": form.overdue_every_days.data,
                },
                recurrence="yearly" if form.yearly.data else None,
                message=form.message.data,
                today=date.today(),
            )
        except ValidationFailed as exc:
            status = 422
            errors_onto_form(form, exc, default="items")
        else:
            flash(_("Solicitud enviada al cliente."), "success")
            return redirect(url_for("requests.detail", request_id=created.id))
    elif form.is_submitted():
        status = 422
    return render_template("requests/new.html", space=space, form=form, templates=templates), status


@bp.get("/requests/<request_id>")
@login_required
def detail(request_id: str) -> str:
    found = requests.get_request(current_user, request_id)
    permission = space_permission(current_user, found.space)
    return render_template(
        "requests/detail.html",
        req=found,
        progress=requests.progress_of(found),
        can_submit=permission in (Permission.contribute, Permission.manage),
        upload_form=ItemUploadForm(),
        na_form=NotApplicableForm(),
        review_form=ItemReviewForm(),
        today=date.today(),
    )


def _back(item: RequestItem) -> Response:
    return redirect(url_for("requests.detail", request_id=item.request_id) + f"#item-{item.id}")


def _item_or_404(item_id: str) -> RequestItem:
    return requests.get_item(current_user, item_id)


@bp.post("/request-items/<item_id>/upload")
@login_required
def upload(item_id: str) -> Response:
    item = _item_or_404(item_id)
    form = ItemUploadForm()
    if form.validate_on_submit():
        try:
            requests.upload_to_item(
                current_user, item.id, form.file.data.stream, filename=form.file.data.filename
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            flash_refusal(exc)
        else:
            flash(_("Recibido: «%(title)s». ¡Gracias!", title=item.title), "success")
    else:
        flash(_("Elija un archivo."), "error")
    return _back(item)


@bp.post("/request-items/<item_id>/not-applicable")
@login_required
def not_applicable(item_id: str) -> Response:
    item = _item_or_404(item_id)
    form = NotApplicableForm()
    if form.validate_on_submit():
        try:
            requests.mark_not_applicable(current_user, item.id, form.reason.data)
        except DomainError as exc:
            if exc.status == 404:
                raise
            flash_refusal(exc)
        else:
            flash(_("Marcado como «No aplica»."), "success")
    else:
        flash(_("Explique por qué no aplica."), "error")
    return _back(item)


@bp.post("/request-items/<item_id>/review")
@login_required
def review(item_id: str) -> Response:
    item = _item_or_404(item_id)
    form = ItemReviewForm()
    if form.validate_on_submit():
        try:
            requests.review_item(current_user, item.id, form.action.data or "", form.comment.data)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            flash_refusal(exc)
        else:
            flash(_("Hecho."), "success")
    return _back(item)


@bp.route("/request-templates", methods=["GET", "POST"])
@login_required
def templates() -> Response | tuple[str, int]:
    require_staff(current_user)
    key = request.args.get("key") or request.form.get("key")
    chosen = requests.get_template(key) if key else None
    form = TemplateForm(
        name=chosen.name if chosen else "", items=format_lines(chosen.items) if chosen else ""
    )
    status = 200
    if chosen and form.validate_on_submit():
        try:
            requests.update_template(
                current_user,
                chosen.key,
                name=form.name.data or "",
                items=parse_lines(form.items.data or ""),
            )
        except ValidationFailed as exc:
            status = 422
            errors_onto_form(form, exc, default="items")
        else:
            flash(_("Plantilla guardada."), "success")
            return redirect(url_for("requests.templates", key=chosen.key))
    listed = requests.list_templates()
    return render_template(
        "requests/templates.html", templates=listed, chosen=chosen, form=form
    ), status
