"""OCR text, forms filled from documents, and full-text search (docs/api.md "OCR, forms and search")."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import (
    FormAcceptedSchema,
    FormSchema,
    FormTemplatesSchema,
    SearchResultsSchema,
    VersionTextSchema,
)
from app.models import FormStatus
from app.services import forms, search
from app.services import ocr as ocr_service
from app.services.errors import ValidationFailed
from app.services.paging import page_args
from app.unit_of_work import commit_now


@api_bp.get("/documents/<document_id>/versions/<int:number>/text")
def version_text(document_id: str, number: int) -> Response:
    version, result = ocr_service.version_text(caller(), document_id, number)
    summary = ocr_service.text_summary(result, version)
    return jsonify(VersionTextSchema().dump({"version": version.number, **summary}))


@api_bp.get("/form-templates")
def form_templates() -> Response:
    found = forms.templates(page_args(request.args))
    return jsonify(FormTemplatesSchema().dump({"items": found, "next": found.next}))


@api_bp.post("/spaces/<space_id>/forms")
def create_form(space_id: str) -> tuple[Response, int]:
    data = body()
    form = forms.create_form(
        caller(),
        space_id,
        template=str(data.get("template") or ""),
        document_id=str(data.get("document_id") or ""),
    )
    waiting = form.status == FormStatus.pending
    job = ocr_service.result_for(form.version_id)
    job_id = job.id if job is not None else None
    commit_now()  # a waiting form's OCR job starts here (and has run where jobs run inline)
    if waiting:
        job = ocr_service.result_for(form.version_id)
        status = job.status if job is not None else None
        accepted = {"job": {"id": job_id, "status": status}, "form": form}
        return jsonify(FormAcceptedSchema().dump(accepted)), 202
    return jsonify(FormSchema().dump(form)), 201


@api_bp.get("/forms/<form_id>")
def get_form(form_id: str) -> Response:
    return jsonify(FormSchema().dump(forms.get_form(caller(), form_id)))


@api_bp.patch("/forms/<form_id>")
def update_form(form_id: str) -> Response:
    data = body()
    fields = data.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise ValidationFailed({"fields": "Envíe un objeto {campo: valor}."})
    form = forms.update_form(caller(), form_id, fields=fields, confirm=data.get("confirm") is True)
    return jsonify(FormSchema().dump(form))


@api_bp.get("/forms/<form_id>/export")
def export_form(form_id: str) -> Response:
    fmt = request.args.get("format", "json")
    content, media_type = forms.export_form(caller(), form_id, fmt)
    response = Response(content, mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="formulario-{form_id}.{fmt}"'
    return response


@api_bp.get("/search")
def search_documents() -> Response:
    query = request.args.get("q", "")
    hits = search.search_page(caller(), query, page_args(request.args))
    return jsonify(SearchResultsSchema().dump({"query": query, "items": hits, "next": hits.next}))
