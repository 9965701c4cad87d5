"""JSON shapes of the API (API.md)."""

from __future__ import annotations

from typing import Any

from app.models import Client, Document, DocumentVersion, Space, SpaceMember, User


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "client_id": user.client_id,
        "mfa_enabled": user.mfa_enabled,
        "locale": user.locale,
    }


def client_json(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "tax_id": client.tax_id,
        "kind": client.kind,
        "created_at": iso(client.created_at),
    }


def space_json(space: Space) -> dict[str, Any]:
    return {
        "id": space.id,
        "client_id": space.client_id,
        "name": space.name,
        "kind": space.kind,
        "label_scheme": space.label_scheme,
        "review_sla": space.review_sla or {"read_days": 2, "decision_days": 5},
        "created_at": iso(space.created_at),
    }


def member_json(member: SpaceMember) -> dict[str, Any]:
    return {
        "space_id": member.space_id,
        "user_id": member.user_id,
        "permission": member.permission,
    }


def version_json(version: DocumentVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "filename": version.filename,
        "content_type": version.content_type,
        "size": version.size,
        "sha256": version.sha256,
        "uploaded_by": version.uploaded_by_id,
        "created_at": iso(version.created_at),
        "note": version.note,
        "source": version.source,
        "review_state": version.review_state,
    }


def document_json(document: Document) -> dict[str, Any]:
    current = document.current_version
    return {
        "id": document.id,
        "space_id": document.space_id,
        "folder_id": document.folder_id,
        "title": document.title,
        "category": document.category,
        "visibility": document.visibility,
        "current_version": version_json(current) if current else None,
        "created_at": iso(document.created_at),
        "updated_at": iso(document.updated_at),
    }


def page(items: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    return {"items": items, "next": next_cursor}
