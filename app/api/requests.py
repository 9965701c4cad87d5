"""Document requests (docs/api.md "Document requests and alerts")."""

from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import (
    DocumentRequestSchema,
    RequestItemSchema,
    RequestTemplateSchema,
    dump_page,
)
from app.services import requests
from app.services.errors import ValidationFailed
from app.services.paging import page_args


@api_bp.post("/spaces/<space_id>/requests")
def create_request(space_id: str) -> tuple[Response, int]:
    data = body()
    due = data.get("due_date")
    try:
        due_date = date.fromisoformat(str(due)) if due else None
    except ValueError:
        raise ValidationFailed({"due_date": "Use el formato AAAA-MM-DD."}) from None
    items = data.get("items")
    if items is not None and not isinstance(items, list):
        raise ValidationFailed({"items": "items debe ser una lista."})
    reminders = data.get("reminders")
    if reminders is not None and not isinstance(reminders, dict):
        raise ValidationFailed({"reminders": "reminders debe ser un objeto."})
    created = requests.create_request(
        caller(),
        space_id,
        title=data.get("title"),
        due_date=due_date,
        items=items,
        template=data.get("template"),
        reminders=reminders,
        recurrence=data.get("recurrence"),
        message=data.get("message"),
        today=date.today(),
    )
    return jsonify(DocumentRequestSchema().dump(created)), 201


@api_bp.get("/spaces/<space_id>/requests")
def list_requests(space_id: str) -> Response:
    found = requests.list_requests(caller(), space_id, page_args(request.args))
    return jsonify(dump_page(DocumentRequestSchema, found, found.next))


@api_bp.get("/requests/<request_id>")
def get_request(request_id: str) -> Response:
    return jsonify(DocumentRequestSchema().dump(requests.get_request(caller(), request_id)))


@api_bp.get("/request-templates")
def list_request_templates() -> Response:
    templates = requests.list_templates(page_args(request.args))
    return jsonify(dump_page(RequestTemplateSchema, templates, templates.next))


@api_bp.post("/request-items/<item_id>/upload")
def upload_item(item_id: str) -> tuple[Response, int]:
    requests.get_item(caller(), item_id)  # 404 before reading the body
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": "Adjunte un archivo en el campo 'file'."})
    updated = requests.upload_to_item(caller(), item_id, upload.stream, filename=upload.filename)
    return jsonify(RequestItemSchema().dump(updated)), 201


@api_bp.post("/request-items/<item_id>/not-applicable")
def item_not_applicable(item_id: str) -> Response:
    updated = requests.mark_not_applicable(caller(), item_id, body().get("reason"))
    return jsonify(RequestItemSchema().dump(updated))


@api_bp.post("/request-items/<item_id>/review")
def review_item(item_id: str) -> Response:
    data = body()
    updated = requests.review_item(
        caller(), item_id, str(data.get("action") or ""), data.get("comment")
    )
    return jsonify(RequestItemSchema().dump(updated))
