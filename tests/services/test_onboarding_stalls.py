"""Stalled onboardings go through the one alert engine, then expire; activation runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select


def _invite(world, email="lenta@example.com"):
    from app.extensions import db
    from app.services import onboarding

    item = onboarding.start_onboarding(
        world.staff, email=email, name="Marta Lenta", kind="person", services=["renta"]
    )
    db.session.commit()
    return item


def _alerts(item_id):
    from app.extensions import db
    from app.models import Alert, AlertRecipient

    rows = db.session.execute(
        select(Alert.level, AlertRecipient.user_id)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(Alert.target_id == item_id)
        .order_by(Alert.level)
    ).all()
    return [(level, user) for level, user in rows]


def test_a_stalled_onboarding_is_reminded_escalated_then_expired(app, world):
    from app.extensions import db
    from app.services import alerts, onboarding

    item = _invite(world)
    start = item.status_since
    alerts.sweep(start + timedelta(days=1))
    assert _alerts(item.id) == []
    alerts.sweep(start + timedelta(days=4))
    assert _alerts(item.id) == [(1, item.user_id)]  # the person is reminded
    alerts.sweep(start + timedelta(days=4, hours=1))
    assert _alerts(item.id) == [(1, item.user_id)]  # once per level
    alerts.sweep(start + timedelta(days=8))
    assert (2, world.staff.id) in _alerts(item.id)  # then the staff owner is told
    assert onboarding.expire_stalled(start + timedelta(days=29)) == 0
    assert onboarding.expire_stalled(start + timedelta(days=31)) == 1
    db.session.commit()
    db.session.refresh(item)
    assert item.status == "expired" and item.reached == "invited"
    before = _alerts(item.id)
    alerts.sweep(start + timedelta(days=40))
    assert _alerts(item.id) == before  # an ended one is not chased


def test_activation_is_idempotent(app, world):
    from app.extensions import db
    from app.models import DocumentRequest, Space
    from app.services import onboarding

    item = _invite(world, "doble@example.com")
    item.status = "engagement"
    db.session.commit()
    today = datetime.now(UTC).date()
    onboarding.activate(item, today=today)
    onboarding.activate(item, today=today)
    item.status = "engagement"  # as if the completion were delivered twice
    onboarding.activate(item, today=today)
    db.session.commit()
    spaces = (
        db.session.execute(
            select(Space).where(
                Space.client_id == item.client_id, Space.name == f"Renta {today.year}"
            )
        )
        .scalars()
        .all()
    )
    assert len(spaces) == 1
    requests = (
        db.session.execute(select(DocumentRequest).where(DocumentRequest.space_id == spaces[0].id))
        .scalars()
        .all()
    )
    assert len(requests) == 1
