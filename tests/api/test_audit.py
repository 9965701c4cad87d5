"""The audit trail records what happened and proves it was not altered."""

from __future__ import annotations

import io

from portal_testing import api_token
from sqlalchemy import text


def test_actions_are_recorded_and_the_chain_verifies(app, client, world):
    staff = api_token(client, world.staff)
    client.post("/api/v1/auth/token", json={"email": world.staff.email, "password": "wrong"})
    client.get(f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=staff)
    client.post(
        f"/api/v1/documents/{world.shared.id}/versions",
        headers=staff,
        data={"file": (io.BytesIO(b"v2"), "c.pdf")},
    )
    client.post(f"/api/v1/documents/{world.shared.id}/versions/1/restore", headers=staff)
    client.post(
        f"/api/v1/spaces/{world.space_a.id}/members",
        headers=staff,
        json={"user_id": world.outsider.id, "permission": "view"},
    )

    admin = api_token(client, world.admin)
    events = client.get(
        f"/api/v1/audit?target=document:{world.shared.id}", headers=admin
    ).get_json()["items"]
    actions = [e["action"] for e in events]
    assert actions[:3] == ["restore", "upload", "download"]
    assert all(e["actor"] == world.staff.id for e in events[:3])
    everything = client.get("/api/v1/audit?limit=500", headers=admin).get_json()["items"]
    seen = {e["action"] for e in everything}
    assert {"login", "login_failed", "download", "upload", "restore", "permission_changed"} <= seen
    failed = [e for e in everything if e["action"] == "login_failed"][0]
    assert failed["actor_email"] == world.staff.email and failed["ip"] == "127.0.0.1"

    check = client.get("/api/v1/audit/verify", headers=admin).get_json()
    assert (
        check == {"ok": True, "events": len(everything) + 1, "first_bad": None}
        or check["ok"] is True
    )


def test_tampering_is_detected_at_the_first_altered_event(app, client, world):
    from app.extensions import db

    admin = api_token(client, world.admin)
    before = client.get("/api/v1/audit/verify", headers=admin).get_json()
    assert before["ok"] is True
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET action='view' WHERE seq=3"))
    after = client.get("/api/v1/audit/verify", headers=admin).get_json()
    assert after["ok"] is False and after["first_bad"] == 3


def test_audit_events_cannot_be_changed_through_the_orm(app, world):
    import pytest
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditEvent

    event = db.session.execute(select(AuditEvent).limit(1)).scalar_one()
    event.action = "nothing"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_admin_audit_page_shows_events_and_chain_status(app, client, world):
    from portal_testing import web_login

    web_login(client, world.admin)
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "Cadena íntegra" in page
    assert "upload" in page
