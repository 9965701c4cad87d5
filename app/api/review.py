"""Review, comments, transmittals, alerts and notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify

from app.api import api_bp, body, caller
from app.api.serializers import iso, page
from app.models import Comment
from app.services import alerts, notifications, review, transmittals
from app.services.errors import ValidationFailed


def comment_json(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "document_id": comment.document_id,
        "version": comment.version_number,
        "author": comment.author_id,
        "author_name": comment.author.name,
        "body": comment.body,
        "page": comment.page,
        "x": comment.x,
        "y": comment.y,
        "created_at": iso(comment.created_at),
        "resolved": comment.resolved_at is not None,
        "resolved_at": iso(comment.resolved_at),
    }


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
    return jsonify({"review_state": version.review_state, "version": version.number})


@api_bp.get("/documents/<document_id>/review")
def review_state(document_id: str) -> Response:
    version, events = review.review_history(caller(), document_id)
    return jsonify(
        {
            "state": version.review_state,
            "version": version.number,
            "history": [
                {
                    "from": e.from_state,
                    "to": e.to_state,
                    "action": e.action,
                    "label": e.label,
                    "actor": e.actor_id,
                    "at": iso(e.at),
                    "comment": e.comment,
                }
                for e in events
            ],
        }
    )


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
    return jsonify(comment_json(comment)), 201


@api_bp.get("/documents/<document_id>/comments")
def list_comments(document_id: str) -> Response:
    return jsonify(page([comment_json(c) for c in review.list_comments(caller(), document_id)]))


@api_bp.post("/comments/<comment_id>/resolve")
def resolve_comment(comment_id: str) -> Response:
    comment = review.resolve_comment(caller(), comment_id)
    return jsonify(comment_json(comment))


@api_bp.get("/alerts")
def list_alerts() -> Response:
    items = [
        {
            "id": a.id,
            "kind": a.kind,
            "target": f"{a.target_type}:{a.target_id}",
            "summary": a.summary,
            "due": a.due.isoformat() if a.due else None,
            "level": a.level,
            "created_at": iso(a.created_at),
        }
        for a in alerts.open_alerts_for(caller())
    ]
    return jsonify(page(items))


@api_bp.get("/notifications")
def list_notifications() -> Response:
    user = caller()
    items = [
        {
            "id": n.id,
            "kind": n.kind,
            "text": notifications.describe(n),
            "link": n.payload.get("link"),
            "created_at": iso(n.created_at),
            "read": n.read_at is not None,
        }
        for n in notifications.list_notifications(user)
    ]
    return jsonify({**page(items), "unread": notifications.unread_count(user)})


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


def transmittal_json(transmittal: Any) -> dict[str, Any]:
    cells = transmittals.access_table(transmittal)
    return {
        "id": transmittal.id,
        "space_id": transmittal.space_id,
        "number": transmittal.number,
        "message": transmittal.message,
        "due_date": transmittal.due_date.isoformat() if transmittal.due_date else None,
        "created_at": iso(transmittal.created_at),
        "created_by": transmittal.created_by_id,
        "recipients": [r.user_id for r in transmittal.recipients],
        "items": [
            {
                "document_id": item.version.document_id,
                "version": item.version.number,
                "review_state": item.version.review_state,
                "access": [
                    {
                        "user_id": r.user_id,
                        "opened_at": iso(cells[(item.version_id, r.user_id)].opened_at)
                        if (item.version_id, r.user_id) in cells
                        else None,
                        "downloaded_at": iso(cells[(item.version_id, r.user_id)].downloaded_at)
                        if (item.version_id, r.user_id) in cells
                        else None,
                    }
                    for r in transmittal.recipients
                ],
            }
            for item in transmittal.items
        ],
    }


@api_bp.post("/spaces/<space_id>/transmittals")
def create_transmittal(space_id: str) -> tuple[Response, int]:
    data = body()
    transmittal = transmittals.create_transmittal(
        caller(),
        space_id,
        document_ids=list(data.get("document_ids") or []),
        recipient_ids=list(data.get("recipient_ids") or []),
        due_date=_date(data.get("due_date"), "due_date"),
        message=data.get("message"),
        today=date.today(),
    )
    return jsonify(transmittal_json(transmittal)), 201


@api_bp.get("/transmittals/<transmittal_id>")
def get_transmittal(transmittal_id: str) -> Response:
    return jsonify(transmittal_json(transmittals.get_transmittal(caller(), transmittal_id)))
