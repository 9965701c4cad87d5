"""Search, and forms filled from documents: check each value beside its place on the page."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

import ocr
from app.blueprints.formatting import stored_amount
from app.models import FormStatus
from app.page_cache import cached_page
from app.services import forms, search
from app.services import ocr as ocr_service
from app.services.access import get_document
from app.services.errors import DomainError, ValidationFailed
from app.services.paging import cursor_page
from app.unit_of_work import discard_changes

bp = Blueprint("ocr", __name__)


@bp.get("/search")
@login_required
@cached_page
def search_page() -> str | Response:
    query = request.args.get("q", "").strip()
    try:
        hits = search.search_page(current_user, query, cursor_page(request.args))
    except ValidationFailed as exc:  # an altered "more results" link: the first page again
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("ocr.search_page", q=query))
    return render_template("ocr/search.html", query=query, hits=hits)


@bp.post("/documents/<document_id>/forms")
@login_required
def create_form(document_id: str) -> Response:
    document = get_document(current_user, document_id)
    form = forms.create_form(
        current_user,
        document.space_id,
        template=request.form.get("template", ""),
        document_id=document.id,
    )
    return redirect(url_for("ocr.form_page", form_id=form.id))


@bp.route("/forms/<form_id>", methods=["GET", "POST"])
@login_required
def form_page(form_id: str) -> Response | tuple[str, int]:
    form = forms.get_form(current_user, form_id)
    template = forms.template_of(form.template)
    status, error = 200, None
    typed: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {spec.name: request.form.get(f"field-{spec.name}", "") for spec in template.fields}
        values = {
            spec.name: stored_amount(typed[spec.name])
            if spec.kind == "amount"
            else typed[spec.name]
            for spec in template.fields  # amounts come in the reader's locale
        }
        try:
            forms.update_form(
                current_user, form.id, fields=values, confirm=request.form.get("confirm") == "1"
            )
        except DomainError as exc:
            # Refused: nothing is saved, and the page shows what was typed, not what is stored.
            discard_changes()
            status = exc.status
            field_errors = dict(getattr(exc, "errors", None) or {})
            error = None if field_errors else exc.detail
        else:
            return redirect(url_for("ocr.form_page", form_id=form.id))
    result = ocr_service.result_for(form.version_id)
    return render_template(
        "ocr/form.html",
        form=form,
        template=template,
        result=result,
        low_confidence=ocr.LOW_CONFIDENCE,
        editable=form.status == FormStatus.draft,
        error=error,
        typed=typed,
        field_errors=field_errors,
    ), status


@bp.get("/forms/<form_id>/fields/<name>.png")
@login_required
def field_image(form_id: str, name: str) -> Response:
    """The page a value was read from, its box drawn in: no script or inline style needed."""
    response = Response(forms.field_picture(current_user, form_id, name), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/forms/<form_id>/export.<fmt>")
@login_required
def export_form(form_id: str, fmt: str) -> Response:
    content, media_type = forms.export_form(current_user, form_id, fmt)
    response = Response(content, mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="formulario-{form_id}.{fmt}"'
    return response


@bp.app_context_processor
def ocr_helpers() -> dict:
    return {"ocr_panel": document_ocr_panel}


def document_ocr_panel(document) -> dict:  # type: ignore[no-untyped-def]
    """What the document page shows: the current version's OCR status and the templates."""
    version = document.current_version
    if version is None or not ocr_service.is_readable(version):
        return {"readable": False}
    result = ocr_service.result_for(version.id)
    return {
        "readable": True,
        "status": result.status if result else "not_started",
        "error": result.error if result else None,
        "templates": forms.templates(),
    }
