"""Conversations and incidents (docs/api.md, "Conversations, e-mail in, incidents")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _

from app.api import api_bp, body, caller
from app.api.relationship_schemas import (
    InboxAddressSchema,
    IncidentSchema,
    ThreadSchema,
    ThreadSummarySchema,
)
from app.api.schemas import dump_page
from app.models import Incident, Message, Thread, User
from app.models.base import as_utc
from app.services import conversations, incidents, mail_addresses
from app.services.errors import ValidationFailed
from app.services.paging import page_args


def _summary(thread: Thread, unread: int) -> dict[str, Any]:
    return {
        "id": thread.id,
        "space_id": thread.space_id,
        "subject": thread.subject,
        "visibility": thread.visibility,
        "created_at": thread.created_at,
        "last_message_at": thread.last_message_at,
        "unread": unread,
    }


def _message(message: Message, receipts: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author_id,
        "author_name": message.author.name,
        "body": message.body,
        "at": message.created_at,
        "internal": message.internal,
        "attachments": list(message.attachments),
        "read_by": receipts.get(message.id, []),
        "source": message.source,
    }


def thread_view(actor: User, thread: Thread, messages: list[Message]) -> dict[str, Any]:
    receipts = conversations.read_receipts(actor, thread, messages)
    incident = incidents.incident_of_thread(actor, thread)
    incident_id = incident.id if incident is not None else None
    return {
        **_summary(thread, 0),
        "messages": [_message(m, receipts) for m in messages],
        "incident_id": incident_id,
    }


def incident_view(incident: Incident) -> dict[str, Any]:
    due = as_utc(incident.due_at)
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "priority": incident.priority,
        "category": incident.category,
        "space_id": incident.space_id,
        "thread_id": incident.thread_id,
        "due_at": due,
        "overdue": incident.status != "resolved" and due < datetime.now(UTC),
        "assignee": incident.assignee_id,
        "created_by": incident.created_by_id,
        "created_at": incident.created_at,
        "resolved_at": incident.resolved_at,
    }


def _files() -> list[conversations.Attachment]:
    return [
        conversations.Attachment(upload.stream, upload.filename)
        for upload in request.files.getlist("file")
        if upload.filename
    ]


_YES = {"true", "1", "on", "yes"}
_NO = {"false", "0", "off", "no", ""}


def _internal_flag(value: Any) -> bool:
    """`internal` as sent (JSON or a form); anything unclear is refused rather than taken as
    false, which would show the client a note staff meant to keep to themselves."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | str):
        said = str(value).strip().lower()
        if said in _YES or said in _NO:
            return said in _YES
    raise ValidationFailed({"internal": _("Indique true o false.")})


@api_bp.post("/spaces/<space_id>/threads")
def create_thread(space_id: str) -> tuple[Response, int]:
    data = body()
    thread = conversations.create_thread(
        caller(),
        space_id,
        subject=data.get("subject"),
        body=data.get("body"),
        visibility=data.get("visibility"),
        files=_files(),
    )
    _, messages = conversations.open_thread(caller(), thread.id)
    return jsonify(ThreadSchema().dump(thread_view(caller(), thread, messages))), 201


@api_bp.get("/spaces/<space_id>/threads")
def list_threads(space_id: str) -> Response:
    rows = conversations.list_threads(caller(), space_id, page_args(request.args))
    summaries = [_summary(thread, unread) for thread, unread in rows]
    return jsonify(dump_page(ThreadSummarySchema, summaries, rows.next))


@api_bp.get("/threads/<thread_id>")
def get_thread(thread_id: str) -> Response:
    thread, messages = conversations.open_thread(caller(), thread_id)
    return jsonify(ThreadSchema().dump(thread_view(caller(), thread, messages)))


@api_bp.post("/threads/<thread_id>/messages")
def post_message(thread_id: str) -> tuple[Response, int]:
    conversations.get_thread(caller(), thread_id)  # not found before anything is read
    data = body()
    message = conversations.post_message(
        caller(),
        thread_id,
        body=data.get("body"),
        files=_files(),
        internal=_internal_flag(data.get("internal")),
    )
    receipts = conversations.read_receipts(caller(), message.thread, [message])
    from app.api.relationship_schemas import MessageSchema

    return jsonify(MessageSchema().dump(_message(message, receipts))), 201


@api_bp.get("/spaces/<space_id>/inbox-address")
def inbox_address(space_id: str) -> Response:
    return jsonify(
        InboxAddressSchema().dump({"address": mail_addresses.inbox_address(caller(), space_id)})
    )


@api_bp.post("/spaces/<space_id>/incidents")
def create_incident(space_id: str) -> tuple[Response, int]:
    data = body()
    incident = incidents.create_incident(
        caller(),
        space_id,
        title=data.get("title"),
        body=data.get("body"),
        category=data.get("category"),
        priority=data.get("priority"),
    )
    return jsonify(IncidentSchema().dump(incident_view(incident))), 201


@api_bp.get("/incidents")
def list_incidents() -> Response:
    found = incidents.list_incidents(
        caller(),
        status=request.args.get("status") or None,
        priority=request.args.get("priority") or None,
        page=page_args(request.args),
    )
    return jsonify(dump_page(IncidentSchema, [incident_view(i) for i in found], found.next))


@api_bp.get("/incidents/<incident_id>")
def get_incident(incident_id: str) -> Response:
    return jsonify(
        IncidentSchema().dump(incident_view(incidents.get_incident(caller(), incident_id)))
    )


@api_bp.patch("/incidents/<incident_id>")
def update_incident(incident_id: str) -> Response:
    incidents.get_incident(caller(), incident_id)
    data = body()
    unknown = set(data) - {"status", "assignee_id", "priority"}
    if unknown:
        raise ValidationFailed({name: "Campo desconocido." for name in sorted(unknown)})
    incident = incidents.update_incident(
        caller(),
        incident_id,
        status=data.get("status"),
        assignee_id=data.get("assignee_id"),
        priority=data.get("priority"),
        unassign="assignee_id" in data and data["assignee_id"] is None,
    )
    return jsonify(IncidentSchema().dump(incident_view(incident)))
