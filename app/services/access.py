"""Access rights, decided here and nowhere else.

Anything the caller may not know exists raises ``NotFound`` (HTTP 404), never
``AccessDenied``: a client must not learn that another client, space or
internal document exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, event, select
from sqlalchemy.orm import InstrumentedAttribute, ORMExecuteState, Session

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

_Row = TypeVar("_Row", bound=Any)

#: ``Session.info`` key of the membership rows already read in the current transaction.
_MEMBERSHIPS = "portal_space_memberships"


def _forget_memberships(session: Session, *_: Any) -> None:
    session.info.pop(_MEMBERSHIPS, None)


def _forget_memberships_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_MEMBERSHIPS, None)


# A page asks for the same membership several times (the space, its documents, its requests);
# one read per transaction is enough as long as any write forgets what was read.
event.listen(Session, "after_flush", _forget_memberships)
event.listen(Session, "after_transaction_end", _forget_memberships)
event.listen(Session, "do_orm_execute", _forget_memberships_on_write)


def _membership(user: User, space: Space) -> str | None:
    session = db.session()
    if session.new or session.deleted or session.dirty:
        # Unflushed changes: read through autoflush, as an uncached query would.
        session.info.pop(_MEMBERSHIPS, None)
        known: dict[tuple[str, str], str | None] = {}
    else:
        known = session.info.setdefault(_MEMBERSHIPS, {})
    key = (space.id, user.id)
    if key not in known:
        known[key] = session.execute(
            select(SpaceMember.permission).where(
                SpaceMember.space_id == space.id, SpaceMember.user_id == user.id
            )
        ).scalar_one_or_none()
    return known[key]


def space_permission(user: User, space: Space) -> Permission | None:
    """The caller's permission on a space, or None when they may not know it exists."""
    if user.is_admin:
        return Permission.manage
    if user.is_client and space.client_id != user.client_id:
        return None
    member = _membership(user, space)
    return Permission(member) if member else None


def _require(permission: Permission | None, need: Permission) -> None:
    if permission is None:
        raise NotFound()
    if PERMISSION_RANK[permission] < PERMISSION_RANK[need]:
        raise AccessDenied("Your permission on this space does not allow this.")


def visible_spaces_query(user: User) -> Select[Space]:
    query = select(Space).order_by(Space.name)
    if user.is_admin:
        return query
    query = query.join(SpaceMember, SpaceMember.space_id == Space.id).where(
        SpaceMember.user_id == user.id
    )
    if user.is_client:
        query = query.where(Space.client_id == user.client_id)
    return query


def visible_space_ids(user: User) -> Select[str]:
    """The ids of the spaces ``user`` may see, for ``IN (...)``: unsorted, and read from the
    memberships alone for staff (the header's unread count asks on every page)."""
    if user.is_admin:
        return select(Space.id)
    if user.is_client:
        return visible_spaces_query(user).with_only_columns(Space.id).order_by(None)
    return select(SpaceMember.space_id).where(SpaceMember.user_id == user.id)


def in_visible_spaces(
    query: Select[_Row], user: User, space_id: ColumnElement[str] | InstrumentedAttribute[str]
) -> Select[_Row]:
    """``query`` kept to the rows whose ``space_id`` names a space ``user`` may see.

    A staff member's memberships are joined rather than listed in ``IN (SELECT ...)``: for
    that, SQLite first builds a temporary list of every space the person is in (a thousand
    and more for the firm's partner) and then looks each one up, 0.7 ms on every page that
    counts threads or incidents; the join walks the same index without building the list.
    Memberships are unique per space and person, so no row comes twice.
    """
    if user.is_admin:  # every space: each row's space exists (a foreign key)
        return query
    if user.is_staff:
        return query.join(
            SpaceMember, and_(SpaceMember.space_id == space_id, SpaceMember.user_id == user.id)
        )
    return query.where(space_id.in_(visible_space_ids(user)))


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


def visible_clients_query(user: User) -> Select[Client]:
    query = select(Client).order_by(Client.name)
    if user.is_client:
        query = query.where(Client.id == user.client_id)
    return query


def can_manage_space(user: User, space: Space) -> bool:
    return space_permission(user, space) == Permission.manage
