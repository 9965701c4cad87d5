"""Review states, comments, transmittals and alerts through the API."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import time_machine
from portal_testing import api_token, pdf_bytes


def _upload(client, headers, space_id, title="Plano A-101"):
    response = client.post(
        f"/api/v1/spaces/{space_id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(pdf_bytes(title)), f"{title}.pdf"), "title": title},
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def test_client_reviews_what_the_firm_shares(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    doc = _upload(client, staff, world.space_a.id)
    assert (
        client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()["state"]
        == "received"
    )
    # the firm cannot review its own upload
    own = client.post(f"/api/v1/documents/{doc}/review", headers=staff, json={"action": "validate"})
    assert own.status_code == 403
    # opening the content as the reviewer marks it read (the uploader's own look does not)
    client.get(f"/api/v1/documents/{doc}/versions/1/content", headers=staff)
    assert (
        client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()["state"]
        == "received"
    )
    client.get(f"/api/v1/documents/{doc}/versions/1/content", headers=customer)
    assert (
        client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()["state"] == "read"
    )

    checked = client.post(
        f"/api/v1/documents/{doc}/review", headers=customer, json={"action": "check"}
    )
    assert checked.status_code == 200 and checked.get_json()["review_state"] == "checked"
    no_reason = client.post(
        f"/api/v1/documents/{doc}/review", headers=customer, json={"action": "request_changes"}
    )
    assert no_reason.status_code == 422 and "comment" in no_reason.get_json()["errors"]
    asked = client.post(
        f"/api/v1/documents/{doc}/review",
        headers=customer,
        json={"action": "request_changes", "comment": "Falta la cota del pilar 3"},
    )
    assert asked.get_json()["review_state"] == "changes_requested"
    again = client.post(
        f"/api/v1/documents/{doc}/review", headers=customer, json={"action": "validate"}
    )
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    history = client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("received", "read"),
        ("read", "checked"),
        ("checked", "changes_requested"),
    ]
    assert history[-1]["comment"] == "Falta la cota del pilar 3"
    assert history[-1]["actor"] == world.client_a.id

    # a new version starts again at received; the old one keeps its state
    client.post(
        f"/api/v1/documents/{doc}/versions",
        headers=staff,
        data={"file": (io.BytesIO(pdf_bytes("Plano v2")), "plano-v2.pdf")},
    )
    review = client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()
    assert review["state"] == "received" and review["version"] == 2 and review["history"] == []
    versions = client.get(f"/api/v1/documents/{doc}/versions", headers=staff).get_json()["items"]
    assert [(v["number"], v["review_state"]) for v in versions] == [
        (2, "received"),
        (1, "changes_requested"),
    ]
    validated = client.post(
        f"/api/v1/documents/{doc}/review", headers=customer, json={"action": "validate"}
    )
    assert validated.get_json()["review_state"] == "validated"


def test_the_firm_reviews_what_the_client_uploads(client, world):
    from portal_testing import make_user

    from app.extensions import db
    from app.services import clients

    colleague = make_user("client", client_id=world.firm_a.id)
    clients.add_member(world.admin, world.space_a.id, user_id=colleague.id, permission="view")
    db.session.commit()
    customer = api_token(client, world.client_a)
    doc = _upload(client, customer, world.space_a.id, "Nómina marzo")
    for who in (customer, api_token(client, colleague)):
        refused = client.post(
            f"/api/v1/documents/{doc}/review", headers=who, json={"action": "validate"}
        )
        assert refused.status_code == 403
    ok = client.post(
        f"/api/v1/documents/{doc}/review",
        headers=api_token(client, world.staff),
        json={"action": "validate"},
    )
    assert ok.get_json()["review_state"] == "validated"


def test_project_spaces_answer_with_procore_labels(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    configured = client.patch(
        f"/api/v1/spaces/{world.space_a.id}", headers=staff, json={"label_scheme": "procore"}
    )
    assert configured.status_code == 200 and configured.get_json()["label_scheme"] == "procore"
    bad = client.patch(
        f"/api/v1/spaces/{world.space_a.id}", headers=staff, json={"label_scheme": "nope"}
    )
    assert bad.status_code == 422
    doc = _upload(client, staff, world.space_a.id)
    need_comment = client.post(
        f"/api/v1/documents/{doc}/review", headers=customer, json={"label": "revisar y reenviar"}
    )
    assert need_comment.status_code == 422
    answered = client.post(
        f"/api/v1/documents/{doc}/review",
        headers=customer,
        json={"label": "Revisar y reenviar", "comment": "Cambiar la escalera"},
    )
    assert answered.get_json()["review_state"] == "changes_requested"
    history = client.get(f"/api/v1/documents/{doc}/review", headers=staff).get_json()["history"]
    assert history[-1]["label"]
    doc2 = _upload(client, staff, world.space_a.id, "Plano B")
    approved = client.post(
        f"/api/v1/documents/{doc2}/review",
        headers=customer,
        json={"label": "aprobado con comentarios", "comment": "ok"},
    )
    assert approved.get_json()["review_state"] == "validated"


def test_pinned_comments_and_resolution(client, world):
    customer = api_token(client, world.client_a)
    created = client.post(
        f"/api/v1/documents/{world.shared.id}/comments",
        headers=customer,
        json={"body": "Esta firma no es legible", "page": 1, "x": 0.42, "y": 0.81},
    )
    assert created.status_code == 201
    body = created.get_json()
    assert (body["page"], body["x"], body["y"], body["version"]) == (1, 0.42, 0.81, 1)
    outside = client.post(
        f"/api/v1/documents/{world.shared.id}/comments",
        headers=customer,
        json={"body": "x", "page": 1, "x": 1.5, "y": 0.2},
    )
    assert outside.status_code == 422 and "x" in outside.get_json()["errors"]
    empty = client.post(
        f"/api/v1/documents/{world.shared.id}/comments", headers=customer, json={"body": " "}
    )
    assert empty.status_code == 422
    resolved = client.post(
        f"/api/v1/comments/{body['id']}/resolve", headers=api_token(client, world.staff)
    )
    assert resolved.get_json()["resolved"] is True
    listed = client.get(
        f"/api/v1/documents/{world.shared.id}/comments", headers=customer
    ).get_json()["items"]
    assert [c["body"] for c in listed][-1] == "Esta firma no es legible" and listed[-1][
        "resolved"
    ] is True


def test_transmittal_shows_who_opened_and_downloaded(client, world):
    from portal_testing import make_user

    from app.extensions import db
    from app.services import clients

    second = make_user("client", client_id=world.firm_a.id)
    clients.add_member(world.admin, world.space_a.id, user_id=second.id, permission="view")
    db.session.commit()
    staff = api_token(client, world.staff)
    plans = [_upload(client, staff, world.space_a.id, f"Plano {n}") for n in (1, 2, 3)]
    sent = client.post(
        f"/api/v1/spaces/{world.space_a.id}/transmittals",
        headers=staff,
        json={
            "document_ids": plans,
            "recipient_ids": [world.client_a.id, second.id],
            "due_date": "2099-01-31",
            "message": "Revisión de planos",
        },
    )
    assert sent.status_code == 201
    transmittal = sent.get_json()
    assert len(transmittal["items"]) == 3 and transmittal["due_date"] == "2099-01-31"
    client.get(
        f"/api/v1/documents/{plans[0]}/versions/1/content",
        headers=api_token(client, world.client_a),
    )
    detail = client.get(f"/api/v1/transmittals/{transmittal['id']}", headers=staff).get_json()
    first = {a["user_id"]: a for a in detail["items"][0]["access"]}
    assert first[world.client_a.id]["downloaded_at"] is not None
    assert first[second.id]["downloaded_at"] is None
    assert all(a["downloaded_at"] is None for item in detail["items"][1:] for a in item["access"])
    assert detail["items"][0]["review_state"] == "read"
    past = client.post(
        f"/api/v1/spaces/{world.space_a.id}/transmittals",
        headers=staff,
        json={
            "document_ids": plans,
            "recipient_ids": [world.client_a.id],
            "due_date": "2001-01-01",
        },
    )
    assert past.status_code == 422 and "due_date" in past.get_json()["errors"]
    internal = client.post(
        f"/api/v1/spaces/{world.space_a.id}/transmittals",
        headers=staff,
        json={"document_ids": [world.internal.id], "recipient_ids": [world.client_a.id]},
    )
    assert internal.status_code == 422


def test_sweep_creates_each_alert_once_and_escalates_on_time(app, client, world):
    from app.extensions import db
    from app.services import alerts

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        doc = _upload(client, api_token(client, world.staff), world.space_a.id, "Plano con SLA")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert alerts.sweep() == 0
    with time_machine.travel(start + timedelta(days=2, minutes=1), tick=False):
        assert alerts.sweep() == 1
        assert alerts.sweep() == 0  # idempotent
        db.session.commit()
        mine = client.get("/api/v1/alerts", headers=api_token(client, world.client_a)).get_json()[
            "items"
        ]
        assert [
            (a["kind"], a["level"], a["target"].split(":")[0])
            for a in mine
            if a["summary"] == "Plano con SLA"
        ] == [("review", 1, "version")]
        assert mine[0]["due"] == "2026-03-04"
    with time_machine.travel(start + timedelta(days=4, minutes=2), tick=False):
        assert alerts.sweep() == 1  # escalation to the space manager
        assert alerts.sweep() == 0
        db.session.commit()
        manager = client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()[
            "items"
        ]
        assert [a["level"] for a in manager if a["summary"] == "Plano con SLA"] == [2]
        client.post(
            f"/api/v1/documents/{doc}/review",
            headers=api_token(client, world.client_a),
            json={"action": "validate"},
        )
        assert (
            client.get("/api/v1/alerts", headers=api_token(client, world.client_a)).get_json()[
                "items"
            ]
            == []
        )
        assert (
            client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()["items"]
            == []
        )


def test_a_client_hears_nothing_about_internal_documents(app, client, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Notification
    from app.services import alerts

    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _upload(client, api_token(client, world.admin), world.space_a.id, "Estrategia interna")
        internal = client.post(
            f"/api/v1/spaces/{world.space_a.id}/documents",
            headers=api_token(client, world.staff),
            data={
                "file": (io.BytesIO(b"secreto"), "secreto.txt"),
                "title": "Secreto",
                "visibility": "internal",
            },
        ).get_json()
        client.post(
            f"/api/v1/documents/{internal['id']}/comments",
            headers=api_token(client, world.staff),
            json={"body": "ojo"},
        )
    with time_machine.travel(start + timedelta(days=9), tick=False):
        alerts.sweep()
        db.session.commit()
    texts = [
        str(n.payload)
        for n in db.session.execute(
            select(Notification).where(Notification.user_id == world.client_a.id)
        ).scalars()
    ]
    assert texts and not any("Secreto" in t or "Nota interna" in t or "Memo" in t for t in texts)
    staff_texts = [
        str(n.payload)
        for n in db.session.execute(
            select(Notification).where(Notification.user_id == world.admin.id)
        ).scalars()
    ]
    assert any("Secreto" in t for t in staff_texts)
