"""Conversations and incidents over the API (docs/api.md), and who may see what."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from portal_testing import api_token


def _tokens(client, world):
    return api_token(client, world.staff), api_token(client, world.client_a)


def test_a_client_asks_the_firm_answers_and_both_see_who_read_what(client, world):
    staff, customer = _tokens(client, world)
    opened = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=customer,
        json={"subject": "¿Qué falta para la renta?", "body": "Hola, ¿qué os falta?"},
    )
    assert opened.status_code == 201, opened.get_json()
    thread = opened.get_json()
    assert thread["visibility"] == "shared" and len(thread["messages"]) == 1

    listed = client.get(f"/api/v1/spaces/{world.space_a.id}/threads", headers=staff).get_json()
    assert [(t["id"], t["unread"]) for t in listed["items"]] == [(thread["id"], 1)]

    answer = client.post(
        f"/api/v1/threads/{thread['id']}/messages",
        headers=staff,
        data={
            "body": "Falta el certificado del banco.",
            "file": (io.BytesIO(b"%PDF-1.4 lista"), "lista.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.get_json()
    attached = answer.get_json()["attachments"]
    assert len(attached) == 1
    document = client.get(f"/api/v1/documents/{attached[0]}", headers=customer).get_json()
    assert document["visibility"] == "shared" and document["current_version"]["review_state"]

    mine = client.get(f"/api/v1/spaces/{world.space_a.id}/threads", headers=customer).get_json()
    assert mine["items"][0]["unread"] == 1
    seen = client.get(f"/api/v1/threads/{thread['id']}", headers=customer).get_json()
    first, second = seen["messages"]
    assert first["read_by"] == [world.staff.id] and second["read_by"] == [world.client_a.id]
    again = client.get(f"/api/v1/spaces/{world.space_a.id}/threads", headers=customer).get_json()
    assert again["items"][0]["unread"] == 0


def test_internal_threads_and_notes_never_reach_a_client(client, world):
    staff, customer = _tokens(client, world)
    internal = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=staff,
        json={
            "subject": "Riesgo de inspección",
            "body": "Solo para nosotros",
            "visibility": "internal",
        },
    ).get_json()
    shared = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=staff,
        json={"subject": "Cierre del ejercicio", "body": "Le escribimos por el cierre"},
    ).get_json()
    note = client.post(
        f"/api/v1/threads/{shared['id']}/messages",
        headers=staff,
        json={"body": "Nota interna: revisar su IVA", "internal": True},
    )
    assert note.status_code == 201 and note.get_json()["internal"] is True

    listed = client.get(f"/api/v1/spaces/{world.space_a.id}/threads", headers=customer).get_json()
    assert [t["id"] for t in listed["items"]] == [shared["id"]]
    assert listed["items"][0]["unread"] == 1  # the note is not counted
    assert client.get(f"/api/v1/threads/{internal['id']}", headers=customer).status_code == 404
    assert (
        client.post(
            f"/api/v1/threads/{internal['id']}/messages", headers=customer, json={"body": "hola"}
        ).status_code
        == 404
    )
    seen = client.get(f"/api/v1/threads/{shared['id']}", headers=customer).get_json()
    assert [m["body"] for m in seen["messages"]] == ["Le escribimos por el cierre"]
    # a client who asks for internal gets a shared thread, never an internal one
    forced = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=customer,
        json={"subject": "x", "body": "y", "visibility": "internal"},
    ).get_json()
    assert forced["visibility"] == "shared"
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Notification

    db.session.expire_all()
    kinds = db.session.execute(
        select(Notification.payload).where(Notification.user_id == world.client_a.id)
    ).scalars()
    assert not any("Nota interna" in str(p) or "Riesgo" in str(p) for p in kinds)


def test_other_clients_threads_are_not_found(client, world):
    staff, customer = _tokens(client, world)
    other = client.post(
        f"/api/v1/spaces/{world.space_b.id}/threads",
        headers=api_token(client, world.admin),
        json={"subject": "Privado de B", "body": "..."},
    ).get_json()
    assert client.get(f"/api/v1/threads/{other['id']}", headers=customer).status_code == 404
    assert (
        client.get(f"/api/v1/spaces/{world.space_b.id}/threads", headers=customer).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/spaces/{world.space_b.id}/inbox-address", headers=customer).status_code
        == 404
    )
    address = client.get(
        f"/api/v1/spaces/{world.space_a.id}/inbox-address", headers=customer
    ).get_json()
    assert address["address"].startswith("inbox-") and address["address"].endswith("@localhost")


def test_bad_messages_are_invalid_fields(client, world):
    staff, _customer = _tokens(client, world)
    for body in (
        {"subject": "", "body": "x"},
        {"subject": "x", "body": ""},
        {"subject": "a" * 301, "body": "x"},
    ):
        response = client.post(
            f"/api/v1/spaces/{world.space_a.id}/threads", headers=staff, json=body
        )
        assert response.status_code == 422, body


def test_incidents_open_move_and_stay_with_their_client(client, world):
    staff, customer = _tokens(client, world)
    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/incidents",
        headers=customer,
        json={"title": "No puedo subir la nómina", "body": "Me da error", "priority": "high"},
    )
    assert created.status_code == 201, created.get_json()
    incident = created.get_json()
    assert incident["status"] == "open" and incident["priority"] == "high"
    due = datetime.fromisoformat(incident["due_at"])
    assert timedelta(hours=7) < due - datetime.now(UTC) <= timedelta(hours=8)
    thread = client.get(f"/api/v1/threads/{incident['thread_id']}", headers=customer).get_json()
    assert thread["incident_id"] == incident["id"]

    bad = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=customer, json={"priority": "low"}
    )
    assert bad.status_code == 403
    moved = client.patch(
        f"/api/v1/incidents/{incident['id']}",
        headers=staff,
        json={"status": "in_progress", "assignee_id": world.staff.id},
    )
    assert moved.status_code == 200 and moved.get_json()["assignee"] == world.staff.id
    kept = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=staff, json={"priority": "high"}
    )
    assert kept.get_json()["assignee"] == world.staff.id  # not named: left as it was
    unassigned = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=staff, json={"assignee_id": None}
    )
    assert unassigned.status_code == 200 and unassigned.get_json()["assignee"] is None
    not_hers = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=customer, json={"assignee_id": None}
    )
    assert not_hers.status_code == 403
    wrong = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=staff, json={"status": "cerrada"}
    )
    assert wrong.status_code == 422
    resolved = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=customer, json={"status": "resolved"}
    )
    assert resolved.status_code == 200 and resolved.get_json()["resolved_at"]
    reopened = client.patch(
        f"/api/v1/incidents/{incident['id']}", headers=customer, json={"status": "open"}
    )
    assert reopened.get_json()["status"] == "open"

    assert [
        i["id"]
        for i in client.get("/api/v1/incidents?status=open", headers=staff).get_json()["items"]
    ] == [incident["id"]]
    assert client.get("/api/v1/incidents?priority=urgent", headers=staff).get_json()["items"] == []
    assert client.get("/api/v1/incidents?status=nada", headers=staff).status_code == 422
    other = api_token(client, world.client_b)
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/incidents", headers=other).get_json()["items"] == []


def test_an_incident_past_its_due_time_goes_to_the_alert_engine(app, client, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Alert
    from app.services import alerts

    staff, customer = _tokens(client, world)
    incident = client.post(
        f"/api/v1/spaces/{world.space_a.id}/incidents",
        headers=customer,
        json={"title": "Urgente", "body": "Se cae", "priority": "urgent"},
    ).get_json()
    alerts.sweep(datetime.now(UTC) + timedelta(hours=3))
    db.session.commit()
    levels = (
        db.session.execute(select(Alert.level).where(Alert.target_id == incident["id"]))
        .scalars()
        .all()
    )
    assert levels == [1]
    alerts.sweep(datetime.now(UTC) + timedelta(hours=5))
    db.session.commit()
    levels = sorted(
        db.session.execute(select(Alert.level).where(Alert.target_id == incident["id"])).scalars()
    )
    assert levels == [1, 2]


def test_staff_count_what_is_unread_in_their_own_spaces_only(client, world):
    staff, customer = _tokens(client, world)
    admin = api_token(client, world.admin)
    outsider = api_token(client, world.outsider)
    other = api_token(client, world.client_b)

    def unread(headers):
        items = client.get("/api/v1/me/agenda", headers=headers).get_json()["items"]
        return sorted(i["target"] for i in items if i["kind"] == "message")

    mine = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=customer,
        json={"subject": "¿Qué falta?", "body": "Hola"},
    ).get_json()
    theirs = client.post(
        f"/api/v1/spaces/{world.space_b.id}/threads",
        headers=other,
        json={"subject": "Duda de B", "body": "Hola"},
    ).get_json()
    assert unread(staff) == [f"thread:{mine['id']}"]  # a member of space A only
    assert unread(outsider) == []
    assert unread(admin) == sorted([f"thread:{mine['id']}", f"thread:{theirs['id']}"])

    client.get(f"/api/v1/threads/{mine['id']}", headers=staff)
    assert unread(staff) == []
    client.post(f"/api/v1/threads/{mine['id']}/messages", headers=staff, json={"body": "Nada"})
    assert unread(staff) == []  # their own answer is not unread
    client.post(f"/api/v1/threads/{mine['id']}/messages", headers=customer, json={"body": "¿Y?"})
    assert unread(staff) == [f"thread:{mine['id']}"]

    raised = client.post(
        f"/api/v1/spaces/{world.space_b.id}/incidents",
        headers=other,
        json={"title": "Error al subir", "body": "...", "priority": "normal"},
    ).get_json()
    seen = {
        who: [i["id"] for i in client.get("/api/v1/incidents", headers=h).get_json()["items"]]
        for who, h in (("staff", staff), ("outsider", outsider), ("admin", admin))
    }
    assert seen == {"staff": [], "outsider": [], "admin": [raised["id"]]}


def test_a_visibility_or_priority_of_the_wrong_type_is_a_named_invalid_field(client, world):
    staff, _customer = _tokens(client, world)
    for value in ([], {}, ["internal"], 0, False):
        thread = client.post(
            f"/api/v1/spaces/{world.space_a.id}/threads",
            headers=staff,
            json={"subject": "Asunto", "body": "Texto", "visibility": value},
        )
        assert thread.status_code == 422, (value, thread.get_json())
        assert set(thread.get_json()["errors"]) == {"visibility"}
        incident = client.post(
            f"/api/v1/spaces/{world.space_a.id}/incidents",
            headers=staff,
            json={"title": "Algo falla", "body": "Detalle", "priority": value},
        )
        assert incident.status_code == 422, (value, incident.get_json())
        assert set(incident.get_json()["errors"]) == {"priority"}
    unsaid = client.post(
        f"/api/v1/spaces/{world.space_a.id}/incidents",
        headers=staff,
        json={"title": "Algo falla", "body": "Detalle"},
    )
    assert unsaid.status_code == 201 and unsaid.get_json()["priority"] == "normal"
    listed = client.get(f"/api/v1/spaces/{world.space_a.id}/threads", headers=staff).get_json()
    assert [t["visibility"] for t in listed["items"]] == ["shared"]


def test_an_internal_note_flag_is_read_as_sent_or_refused_never_shared_by_mistake(client, world):
    staff, customer = _tokens(client, world)
    shared = client.post(
        f"/api/v1/spaces/{world.space_a.id}/threads",
        headers=staff,
        json={"subject": "Cierre", "body": "Le escribimos por el cierre"},
    ).get_json()
    for value in ("True", "TRUE", "yes"):
        note = client.post(
            f"/api/v1/threads/{shared['id']}/messages",
            headers=staff,
            json={"body": f"Nota {value}", "internal": value},
        )
        assert note.status_code == 201 and note.get_json()["internal"] is True, value
    form = client.post(
        f"/api/v1/threads/{shared['id']}/messages",
        headers=staff,
        data={"body": "Nota con archivo", "internal": "True"},
        content_type="multipart/form-data",
    )
    assert form.status_code == 201 and form.get_json()["internal"] is True
    for value in ("si", 2, [], {}, "internal"):
        unclear = client.post(
            f"/api/v1/threads/{shared['id']}/messages",
            headers=staff,
            json={"body": "¿interna?", "internal": value},
        )
        assert unclear.status_code == 422, (value, unclear.get_json())
        assert set(unclear.get_json()["errors"]) == {"internal"}
    plain = client.post(
        f"/api/v1/threads/{shared['id']}/messages",
        headers=staff,
        json={"body": "Para el cliente", "internal": "false"},
    )
    assert plain.status_code == 201 and plain.get_json()["internal"] is False
    seen = client.get(f"/api/v1/threads/{shared['id']}", headers=customer).get_json()
    assert [m["body"] for m in seen["messages"]] == [
        "Le escribimos por el cierre",
        "Para el cliente",
    ]
