"""OCR text, forms filled from documents, and full-text search (API.md "OCR, forms and search")."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.serializers import iso
from app.models import FormStatus, FormSubmission
from app.services import forms, search
from app.services import ocr as ocr_service
from app.services.errors import ValidationFailed
from app.unit_of_work import commit_now


def form_json(form: FormSubmission) -> dict[str, Any]:
    result = ocr_service.result_for(form.version_id)
    return {
        "id": form.id,
        "template": form.template,
        "space_id": form.space_id,
        "document_id": form.document_id,
        "version": form.version.number,
        "status": form.status,
        "ocr_status": result.status if result else None,
        "ocr_error": result.error if result else None,
        "fields": {
            name: {
                key: value.get(key)
                for key in (
                    "value",
                    "confidence",
                    "low_confidence",
                    "page",
                    "box",
                    "source_text",
                    "confirmed",
                    "corrected",
                )
            }
            for name, value in (form.fields or {}).items()
        },
        "confirmed_values": forms.confirmed_values(form),
        "created_by": form.created_by_id,
        "created_at": iso(form.created_at),
        "confirmed_by": form.confirmed_by_id,
        "confirmed_at": iso(form.confirmed_at),
    }


@api_bp.get("/documents/<document_id>/versions/<int:number>/text")
def version_text(document_id: str, number: int) -> Response:
    version, result = ocr_service.version_text(caller(), document_id, number)
    return jsonify({"version": version.number, **ocr_service.text_summary(result, version)})


@api_bp.get("/form-templates")
def form_templates() -> Response:
    return jsonify({"items": forms.templates()})


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
        return jsonify({"job": {"id": job_id, "status": status}, "form": form_json(form)}), 202
    return jsonify(form_json(form)), 201


@api_bp.get("/forms/<form_id>")
def get_form(form_id: str) -> Response:
    return jsonify(form_json(forms.get_form(caller(), form_id)))


@api_bp.patch("/forms/<form_id>")
def update_form(form_id: str) -> Response:
    data = body()
    fields = data.get("fields")
    if fields is not None and not isinstance(fields, dict):
        raise ValidationFailed({"fields": "Envíe un objeto {campo: valor}."})
    form = forms.update_form(caller(), form_id, fields=fields, confirm=data.get("confirm") is True)
    return jsonify(form_json(form))


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
    hits = search.search_documents(caller(), query)
    return jsonify(
        {
            "query": query,
            "items": [
                {
                    "document_id": hit.document.id,
                    "space_id": hit.document.space_id,
                    "title": hit.document.title,
                    "snippet": hit.snippet,
                    "highlights": [text for text, matched in hit.parts if matched],
                }
                for hit in hits
            ],
        }
    )
