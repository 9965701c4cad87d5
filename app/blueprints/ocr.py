"""Search, and forms filled from documents: check each value beside its place on the page."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from PIL import Image, ImageDraw

import ocr
from app.blueprints.formatting import stored_amount
from app.extensions import db
from app.models import FormStatus
from app.page_cache import cached_page
from app.services import forms, search
from app.services import ocr as ocr_service
from app.services.access import get_document
from app.services.errors import DomainError
from app.services.runtime import store

bp = Blueprint("ocr", __name__)

#: Width of the page images shown beside the fields.
PREVIEW_WIDTH = 900


@bp.get("/search")
@login_required
@cached_page
def search_page() -> str:
    query = request.args.get("q", "").strip()
    hits = search.search_documents(current_user, query) if query else []
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
    db.session.commit()
    return redirect(url_for("ocr.form_page", form_id=form.id))


@bp.route("/forms/<form_id>", methods=["GET", "POST"])
@login_required
def form_page(form_id: str) -> str | Response:
    form = forms.get_form(current_user, form_id)
    error = None
    if request.method == "POST":
        template = forms.template_of(form.template)
        values = {spec.name: request.form.get(f"field-{spec.name}", "") for spec in template.fields}
        for spec in template.fields:  # amounts come in the reader's locale
            if spec.kind == "amount":
                values[spec.name] = stored_amount(values[spec.name])
        try:
            forms.update_form(
                current_user, form.id, fields=values, confirm=request.form.get("confirm") == "1"
            )
            db.session.commit()
            return redirect(url_for("ocr.form_page", form_id=form.id))
        except DomainError as exc:
            db.session.rollback()
            error = exc.detail or exc.title
            form = forms.get_form(current_user, form_id)
    template = forms.template_of(form.template)
    result = ocr_service.result_for(form.version_id)
    return render_template(
        "ocr/form.html",
        form=form,
        template=template,
        result=result,
        low_confidence=ocr.LOW_CONFIDENCE,
        editable=form.status == FormStatus.draft,
        error=error,
    )


@bp.get("/forms/<form_id>/fields/<name>.png")
@login_required
def field_image(form_id: str, name: str) -> Response:
    """The page a value was read from, its box drawn in: no script or inline style needed."""
    form = forms.get_form(current_user, form_id)
    field = (form.fields or {}).get(name)
    if not field or not field.get("page"):
        abort(404)
    data = b"".join(store().open_range(form.version.blob_key))
    try:
        page = ocr.page_image(
            data,
            int(field["page"]),
            options=ocr.OcrOptions(dpi=100),
            limits=ocr_service.limits(),
        )
    except ocr.OcrError:
        abort(404)
    image = page.convert("RGB")
    page_width = int(field.get("page_width") or 0) or image.width
    page_height = int(field.get("page_height") or 0) or image.height
    scale_x, scale_y = image.width / page_width, image.height / page_height
    x0, y0, x1, y1 = (int(v) for v in field["box"])
    box = (x0 * scale_x - 4, y0 * scale_y - 4, x1 * scale_x + 4, y1 * scale_y + 4)
    ImageDraw.Draw(image).rectangle(box, outline=(220, 30, 30), width=4)
    if image.width > PREVIEW_WIDTH:
        image = image.resize(
            (PREVIEW_WIDTH, round(image.height * PREVIEW_WIDTH / image.width)),
            Image.Resampling.LANCZOS,
        )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    response = Response(out.getvalue(), mimetype="image/png")
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
