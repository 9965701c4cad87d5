"""Forms filled from a document's text: proposed values, corrections, confirmation, export.

Nothing extracted counts until a person confirms the form; exports carry only
confirmed forms.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from PIL import Image, ImageDraw
from sqlalchemy import select

import ocr
from app.extensions import db
from app.models import FormStatus, FormSubmission, OcrStatus, Permission, User
from app.models.base import utcnow
from app.services import audit
from app.services import ocr as ocr_service
from app.services.access import get_document, get_space
from app.services.errors import InvalidTransition, NotFound, ValidationFailed
from app.services.paging import Page, PageArgs, page_list
from app.services.runtime import store
from storage import local_file

MAX_VALUE_LENGTH = 500
#: Width of the page pictures shown beside the fields.
PICTURE_WIDTH = 900


def templates(page: PageArgs | None = None) -> Page[dict[str, Any]]:
    """The form templates, by name; ``page`` None: all of them."""
    return page_list(ocr.list_templates(), lambda t: (t["name"],), page, scope="form-templates")


def template_of(name: str) -> ocr.FormTemplate:
    try:
        return ocr.get_template(name)
    except ocr.UnknownTemplate:
        raise ValidationFailed({"template": _("No existe esa plantilla de formulario.")}) from None


def create_form(actor: User, space_id: str, *, template: str, document_id: str) -> FormSubmission:
    """A form for ``template`` filled from the document's current version (or once it is read)."""
    space = get_space(actor, space_id, Permission.contribute)
    template_of(template)
    document = get_document(actor, document_id)
    if document.space_id != space.id:
        raise ValidationFailed({"document_id": _("Ese documento no está en este espacio.")})
    version = document.current_version
    if version is None or not ocr_service.is_readable(version):
        raise ValidationFailed({"document_id": _("Solo se leen documentos PDF o imágenes.")})
    form = FormSubmission(
        template=template,
        space_id=space.id,
        document_id=document.id,
        version_id=version.id,
        fields={},
        status=FormStatus.pending,
        created_by_id=actor.id,
    )
    db.session.add(form)
    result = ocr_service.result_for(version.id)
    if result is None or result.status not in ocr_service.FINISHED:
        ocr_service.queue_version(version)
    db.session.flush()
    settle_form(form)
    audit.record("form_create", actor, f"form:{form.id}", template=template, document=document.id)
    return form


def settle_form(form: FormSubmission) -> None:
    """Fill a waiting form once its version's text is there (or mark it failed)."""
    if form.status != FormStatus.pending:
        return
    result = ocr_service.result_for(form.version_id)
    if result is None or result.status not in ocr_service.FINISHED:
        return
    if result.status != OcrStatus.done:
        form.status = FormStatus.failed
    else:
        filled = ocr.fill_form(form.template, ocr_service.page_texts(result))
        sizes = {p["number"]: (p["width"], p["height"]) for p in result.pages}
        fields: dict[str, Any] = {}
        for name, value in filled.items():
            width, height = sizes.get(value.page, (0, 0))
            fields[name] = {
                **value.to_dict(),
                "page_width": width,
                "page_height": height,
                "confirmed": False,
                "corrected": False,
            }
        form.fields = fields
        form.status = FormStatus.draft
    form.updated_at = utcnow()
    db.session.flush()


def settle_forms_of(version_id: str) -> int:
    """Called when a version's OCR ends: fill every form waiting for it."""
    waiting = db.session.scalars(
        select(FormSubmission).where(
            FormSubmission.version_id == version_id, FormSubmission.status == FormStatus.pending
        )
    ).all()
    for form in waiting:
        settle_form(form)
    return len(waiting)


def get_form(actor: User, form_id: str) -> FormSubmission:
    form = db.session.get(FormSubmission, str(form_id))
    if form is None:
        raise NotFound()
    get_document(actor, form.document_id)  # NotFound when the caller may not see it
    return form


def update_form(
    actor: User, form_id: str, *, fields: dict[str, Any] | None = None, confirm: bool = False
) -> FormSubmission:
    """Correct values and, with ``confirm``, make them count."""
    form = get_form(actor, form_id)
    get_document(actor, form.document_id, Permission.contribute)
    if form.status == FormStatus.confirmed:
        raise InvalidTransition(_("El formulario ya está confirmado."))
    if form.status != FormStatus.draft:
        raise InvalidTransition(_("El documento aún no se ha leído o no se pudo leer."))
    known = {spec.name for spec in template_of(form.template).fields}
    current = {name: dict(value) for name, value in (form.fields or {}).items()}
    errors: dict[str, str] = {}
    for name, raw in (fields or {}).items():
        if name not in known:
            errors[name] = _("Campo desconocido en esta plantilla.")
            continue
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value is not None and not isinstance(value, str | int | float):
            errors[name] = _("El valor debe ser texto.")
            continue
        text = "" if value is None else str(value).strip()
        if len(text) > MAX_VALUE_LENGTH:
            errors[name] = _("El valor es demasiado largo.")
            continue
        entry = current.setdefault(
            name,
            {"value": "", "confidence": 0.0, "page": 0, "box": [0, 0, 0, 0], "source_text": ""},
        )
        if entry.get("value") != text:
            entry["value"] = text
            entry["corrected"] = True
    if errors:
        raise ValidationFailed(errors)
    if confirm:
        for entry in current.values():
            entry["confirmed"] = True
        form.status = FormStatus.confirmed
        form.confirmed_by_id = actor.id
        form.confirmed_at = utcnow()
    form.fields = current
    form.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "form_confirm" if confirm else "form_correct",
        actor,
        f"form:{form.id}",
        fields=sorted((fields or {}).keys()),
    )
    return form


def field_picture(actor: User, form_id: str, name: str) -> bytes:
    """The page a value was read from, as a PNG with the value's box drawn in.

    The version is copied to a temporary file a piece at a time (never held whole in memory)
    and drawn within the OCR limits; a version over them, or a page that cannot be drawn,
    has no picture (``NotFound``).
    """
    form = get_form(actor, form_id)
    field = (form.fields or {}).get(name)
    if not field or not field.get("page"):
        raise NotFound()
    limits = ocr_service.limits()
    version = form.version
    if version.size > limits.max_bytes:
        raise NotFound()
    with local_file(store(), version.blob_key) as source:
        try:
            page = ocr.page_image(
                str(source), int(field["page"]), options=ocr.OcrOptions(dpi=100), limits=limits
            )
        except ocr.OcrError:
            raise NotFound() from None
        image = page.convert("RGB")  # decoded while the file is still there
    page_width = int(field.get("page_width") or 0) or image.width
    page_height = int(field.get("page_height") or 0) or image.height
    scale_x, scale_y = image.width / page_width, image.height / page_height
    x0, y0, x1, y1 = (int(v) for v in field["box"])
    box = (x0 * scale_x - 4, y0 * scale_y - 4, x1 * scale_x + 4, y1 * scale_y + 4)
    ImageDraw.Draw(image).rectangle(box, outline=(220, 30, 30), width=4)
    if image.width > PICTURE_WIDTH:
        image = image.resize(
            (PICTURE_WIDTH, round(image.height * PICTURE_WIDTH / image.width)),
            Image.Resampling.LANCZOS,
        )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def confirmed_values(form: FormSubmission) -> dict[str, str]:
    """The values that count: those of a confirmed form, in the template's order."""
    if form.status != FormStatus.confirmed:
        return {}
    order = [spec.name for spec in template_of(form.template).fields]
    values = form.fields or {}
    return {
        name: str(values[name]["value"])
        for name in order
        if name in values and values[name].get("confirmed")
    }


def export_form(actor: User, form_id: str, fmt: str) -> tuple[str, str]:
    """(content, media type) of the confirmed data as CSV or JSON."""
    form = get_form(actor, form_id)
    if form.status != FormStatus.confirmed:
        raise InvalidTransition(_("Solo se exportan formularios confirmados."))
    values = confirmed_values(form)
    if fmt == "csv":
        labels = {spec.name: spec.label_es for spec in template_of(form.template).fields}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["field", "label", "value"])
        for name, value in values.items():
            writer.writerow([name, labels.get(name, name), _csv_safe(value)])
        return out.getvalue(), "text/csv; charset=utf-8"
    if fmt == "json":
        import json

        return json.dumps(export_json(form), ensure_ascii=False, indent=2), "application/json"
    raise ValidationFailed({"format": _("Use csv o json.")})


def export_json(form: FormSubmission) -> dict[str, Any]:
    return {
        "form_id": form.id,
        "template": form.template,
        "document_id": form.document_id,
        "version_id": form.version_id,
        "confirmed_by": form.confirmed_by_id,
        "confirmed_at": form.confirmed_at.isoformat() if form.confirmed_at else None,
        "values": confirmed_values(form),
    }


def _csv_safe(value: str) -> str:
    """Keep spreadsheets from running a value as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
