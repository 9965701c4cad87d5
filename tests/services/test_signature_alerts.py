"""Overdue signature requests go through the one alert engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from portal_signing import signable_document
from portal_testing import api_token


def test_an_overdue_signature_alerts_the_signer_then_the_requester(
    app, client, world, signing_ready
):
    from app.extensions import db
    from app.services import alerts, signatures

    document = signable_document(world)
    due = date.today() + timedelta(days=5)
    signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], due_date=due
    )
    db.session.commit()
    with time_machine.travel(datetime(due.year, due.month, due.day, 12, tzinfo=UTC), tick=False):
        assert [a for a in alerts.open_alerts_for(world.client_a) if a.kind == "signature"] == []
    with time_machine.travel(
        datetime(due.year, due.month, due.day, 12, tzinfo=UTC) + timedelta(days=1), tick=False
    ):
        alerts.sweep()
        alerts.sweep()
        db.session.commit()
        signer = client.get("/api/v1/alerts", headers=api_token(client, world.client_a)).get_json()[
            "items"
        ]
        assert [(a["kind"], a["level"], a["due"]) for a in signer if a["kind"] == "signature"] == [
            ("signature", 1, due.isoformat())
        ]
        requester = client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()[
            "items"
        ]
        assert [a for a in requester if a["kind"] == "signature"] == []
    with time_machine.travel(
        datetime(due.year, due.month, due.day, 12, tzinfo=UTC) + timedelta(days=4), tick=False
    ):
        alerts.sweep()
        db.session.commit()
        requester = client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()[
            "items"
        ]
        assert [(a["kind"], a["level"]) for a in requester if a["kind"] == "signature"] == [
            ("signature", 2)
        ]


def test_pending_signatures_show_on_the_client_waiting_page(app, client, world, signing_ready):
    from portal_testing import web_login

    from app.extensions import db
    from app.services import signatures

    document = signable_document(world)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    assert [r.id for r in signatures.waiting_for(world.client_a)] == [request.id]
    assert signatures.waiting_for(world.client_b) == []
    web_login(client, world.client_a)
    page = client.get("/overview").get_data(as_text=True)
    assert "Pendiente de su firma" in page and f"/signatures/{request.id}" in page
