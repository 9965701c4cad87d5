"""A space's permission is read once per transaction, yet a change in that transaction counts at once."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from app.extensions import db
from app.models import Permission, SpaceMember
from app.services import clients
from app.services.access import get_space, space_permission
from app.services.errors import AccessDenied, NotFound


def test_a_removed_member_loses_the_space_in_the_same_transaction(world) -> None:
    client, space = world.client_a, world.space_a
    assert space_permission(client, space) == Permission.contribute
    clients.remove_member(world.admin, space.id, client.id)
    assert space_permission(client, space) is None
    with pytest.raises(NotFound):
        get_space(client, space.id)


def test_a_permission_changed_by_a_bulk_update_counts_at_once(world) -> None:
    client, space = world.client_a, world.space_a
    assert get_space(client, space.id, Permission.contribute) == space
    db.session.execute(
        update(SpaceMember)
        .where(SpaceMember.space_id == space.id, SpaceMember.user_id == client.id)
        .values(permission="view")
    )
    with pytest.raises(AccessDenied):
        get_space(client, space.id, Permission.contribute)
    db.session.execute(delete(SpaceMember).where(SpaceMember.user_id == client.id))
    assert space_permission(client, space) is None


def test_an_unflushed_change_counts_as_an_uncached_read_would(world) -> None:
    client, space = world.client_a, world.space_a
    assert space_permission(client, space) == Permission.contribute
    member = db.session.execute(
        db.select(SpaceMember).where(
            SpaceMember.space_id == space.id, SpaceMember.user_id == client.id
        )
    ).scalar_one()
    member.permission = "manage"  # not flushed: autoflush on the next read
    assert space_permission(client, space) == Permission.manage


def test_a_rollback_forgets_what_was_read(world) -> None:
    client, space = world.client_a, world.space_a
    clients.remove_member(world.admin, space.id, client.id)
    assert space_permission(client, space) is None
    db.session.rollback()
    assert space_permission(client, space) == Permission.contribute
