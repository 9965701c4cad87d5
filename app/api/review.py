"""Review, comments, transmittals, alerts and notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import (
    AlertSchema,
    CommentSchema,
    NotificationListSchema,
    ReviewHistorySchema,
    ReviewResultSchema,
    TransmittalSchema,
    dump_page,
)
from app.services import alerts, notifications, review, transmittals
from app.services.errors import ValidationFailed
from app.services.paging import page_args


@api_bp.post("/documents/<document_id>/review")
def review_document(document_id: str) -> Response:
    data = body()
    version = review.review_document(
        caller(),
        document_id,
        data.get("action"),
        comment=data.get("comment"),
        label=data.get("label"),
    )
    result = {"review_state": version.review_state, "version": version.number}
    return jsonify(ReviewResultSchema().dump(result))


@api_bp.get("/documents/<document_id>/review")
def review_state(document_id: str) -> Response:
    version, events = review.review_history(caller(), document_id)
    history = {"review_state": version.review_state, "number": version.number, "history": events}
    return jsonify(ReviewHistorySchema().dump(history))


def _number(value: Any, name: str, kind: type) -> Any:
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValidationFailed({name: "Debe ser un número."}) from None


@api_bp.post("/documents/<document_id>/comments")
def add_comment(document_id: str) -> tuple[Response, int]:
    data = body()
    comment = review.add_comment(
        caller(),
        document_id,
        body=data.get("body"),
        version=_number(data.get("version"), "version", int),
        page=_number(data.get("page"), "page", int),
        x=_number(data.get("x"), "x", float),
        y=_number(data.get("y"), "y", float),
    )
    return jsonify(CommentSchema().dump(comment)), 201


@api_bp.get("/documents/<document_id>/comments")
def list_comments(document_id: str) -> Response:
    found = review.list_comments(caller(), document_id, page_args(request.args))
    return jsonify(dump_page(CommentSchema, found, found.next))


@api_bp.post("/comments/<comment_id>/resolve")
def resolve_comment(comment_id: str) -> Response:
    comment = review.resolve_comment(caller(), comment_id)
    return jsonify(CommentSchema().dump(comment))


@api_bp.get("/alerts")
def list_alerts() -> Response:
    found = alerts.open_alerts_for(caller(), page_args(request.args))
    return jsonify(dump_page(AlertSchema, found, found.next))


@api_bp.get("/notifications")
def list_notifications() -> Response:
    user = caller()
    items = notifications.list_notifications(user, page_args(request.args))
    found = {"items": items, "next": items.next, "unread": notifications.unread_count(user)}
    return jsonify(NotificationListSchema().dump(found))


@api_bp.post("/notifications/read")
def read_notifications() -> tuple[str, int]:
    notifications.mark_all_read(caller())
    return "", 204


def _date(value: Any, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed({name: "Use el formato AAAA-MM-DD."}) from None


@api_bp.post("/spaces/<space_id>/transmittals")
def create_transmittal(space_id: str) -> tuple[Response, int]:
    data = body()
    transmittal = transmittals.create_transmittal(
        caller(),
        space_id,
        document_ids=data.get("document_ids"),
        recipient_ids=data.get("recipient_ids"),
        due_date=_date(data.get("due_date"), "due_date"),
        message=data.get("message"),
        today=date.today(),
    )
    return jsonify(TransmittalSchema().dump(transmittal)), 201


@api_bp.get("/transmittals/<transmittal_id>")
def get_transmittal(transmittal_id: str) -> Response:
    found = transmittals.get_transmittal(caller(), transmittal_id)
    return jsonify(TransmittalSchema().dump(found))
