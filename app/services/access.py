"""Access rights, decided here and nowhere else.

Anything the caller may not know exists raises ``NotFound`` (HTTP 404), never
``AccessDenied``: a client must not learn that another client, space or
internal document exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select

from app.extensions import db
from app.models import (
    PERMISSION_RANK,
    Client,
    Document,
    Permission,
    Space,
    SpaceMember,
    User,
    Visibility,
)
from app.services.errors import AccessDenied, NotFound


def space_permission(user: User, space: Space) -> Permission | None:
    """The caller's permission on a space, or None when they may not know it exists."""
    if user.is_admin:
        return Permission.manage
    if user.is_client and space.client_id != user.client_id:
        return None
    member = db.session.execute(
        select(SpaceMember.permission).where(
            SpaceMember.space_id == space.id, SpaceMember.user_id == user.id
        )
    ).scalar_one_or_none()
    return Permission(member) if member else None


def _require(permission: Permission | None, need: Permission) -> None:
    if permission is None:
        raise NotFound()
    if PERMISSION_RANK[permission] < PERMISSION_RANK[need]:
        raise AccessDenied("Your permission on this space does not allow this.")


def visible_spaces_query(user: User) -> Select[tuple[Space]]:
    query = select(Space).order_by(Space.name)
    if user.is_admin:
        return query
    query = query.join(SpaceMember, SpaceMember.space_id == Space.id).where(
        SpaceMember.user_id == user.id
    )
    if user.is_client:
        query = query.where(Space.client_id == user.client_id)
    return query


def get_space(user: User, space_id: str, need: Permission = Permission.view) -> Space:
    space = db.session.get(Space, str(space_id))
    if space is None:
        raise NotFound()
    _require(space_permission(user, space), need)
    return space


def can_see_document(user: User, document: Document) -> bool:
    if document.deleted_at is not None:
        return False
    if user.is_client and document.visibility != Visibility.shared:
        return False
    return space_permission(user, document.space) is not None


def visible_documents(user: User, documents: Iterable[Document]) -> list[Document]:
    """The documents ``can_see_document`` allows, in order, with one permission lookup per space."""
    permissions: dict[str, Permission | None] = {}
    allowed: list[Document] = []
    for document in documents:
        if document.deleted_at is not None:
            continue
        if user.is_client and document.visibility != Visibility.shared:
            continue
        if document.space_id not in permissions:
            permissions[document.space_id] = space_permission(user, document.space)
        if permissions[document.space_id] is not None:
            allowed.append(document)
    return allowed


def get_document(user: User, document_id: str, need: Permission = Permission.view) -> Document:
    document = db.session.get(Document, str(document_id))
    if document is None or not can_see_document(user, document):
        raise NotFound()
    _require(space_permission(user, document.space), need)
    return document


def get_client(user: User, client_id: str) -> Client:
    client = db.session.get(Client, str(client_id))
    if client is None or (user.is_client and user.client_id != client.id):
        raise NotFound()
    return client


def require_staff(user: User) -> None:
    if not user.is_staff:
        raise AccessDenied("Only the firm's staff can do this.")


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise AccessDenied("Only an administrator can do this.")


def visible_clients_query(user: User) -> Select[tuple[Client]]:
    query = select(Client).order_by(Client.name)
    if user.is_client:
        query = query.where(Client.id == user.client_id)
    return query


def can_manage_space(user: User, space: Space) -> bool:
    return space_permission(user, space) == Permission.manage
