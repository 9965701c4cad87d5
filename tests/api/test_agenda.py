"""GET /api/v1/me/agenda: what waits for each person, most urgent first, and only theirs."""

from __future__ import annotations

import io
from datetime import date, timedelta

from portal_testing import api_token


def _kinds(agenda: dict) -> list[str]:
    return [item["kind"] for item in agenda["items"]]


def test_a_clients_agenda_lists_what_the_firm_waits_for_most_urgent_first(client, world):
    from app.extensions import db
    from app.services import conversations, incidents, requests

    late = requests.create_request(
        world.staff,
        world.space_a.id,
        title="Renta atrasada",
        due_date=date.today() + timedelta(days=1),
        items=[{"title": "Certificado de retenciones"}],
        today=date.today(),
    )
    late.due_date = date.today() - timedelta(days=2)  # as if it had been due two days ago
    thread = conversations.create_thread(
        world.staff, world.space_a.id, subject="Pregunta del despacho", body="¿Está?"
    )
    incident = incidents.create_incident(
        world.client_a, world.space_a.id, title="No puedo subir", body="Error"
    )
    incidents.update_incident(world.staff, incident.id, status="waiting_client")
    db.session.commit()

    agenda = client.get("/api/v1/me/agenda", headers=api_token(client, world.client_a)).get_json()
    first = agenda["items"][0]
    assert first["kind"] == "request_item" and first["overdue"] is True
    assert first["title"] == "Certificado de retenciones"
    assert {"request_item", "message", "incident"} <= set(_kinds(agenda))
    targets = {item["target"] for item in agenda["items"]}
    assert f"thread:{thread.id}" in targets and f"incident:{incident.id}" in targets
    assert agenda["counts"]["request_item"] >= 2  # the world's request and the late one

    other = client.get("/api/v1/me/agenda", headers=api_token(client, world.client_b)).get_json()
    assert not any(item["target"] in targets for item in other["items"]), (
        "another client's things never show"
    )


def test_staff_see_versions_to_review_open_incidents_and_onboardings_to_approve(client, world):
    from app.extensions import db
    from app.services import documents, incidents, onboarding

    uploaded = documents.upload_document(
        world.client_a, world.space_a.id, io.BytesIO(b"%PDF-1.4 nomina"), filename="nomina.pdf"
    )
    incident = incidents.create_incident(
        world.client_a, world.space_a.id, title="Urgente", body="Ayuda", priority="urgent"
    )
    started = onboarding.start_onboarding(
        world.staff, email="n@example.com", name="Nuevo", kind="person", services=["renta"]
    )
    started.status = "review"
    db.session.commit()
    agenda = client.get("/api/v1/me/agenda", headers=api_token(client, world.staff)).get_json()
    targets = {item["target"] for item in agenda["items"]}
    assert f"document:{uploaded.id}" in targets
    assert f"incident:{incident.id}" in targets
    assert f"onboarding:{started.id}" in targets
    outsider = client.get("/api/v1/me/agenda", headers=api_token(client, world.outsider)).get_json()
    assert f"document:{uploaded.id}" not in {i["target"] for i in outsider["items"]}


def test_new_since_last_visit_counts_what_others_added(client, world):
    from app.extensions import db
    from app.services import conversations, documents

    api_token(client, world.client_a)  # a first visit
    documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(b"%PDF-1.4 nuevo"), filename="nuevo.pdf"
    )
    documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(b"interno"),
        filename="memo.txt",
        visibility="internal",
    )
    conversations.create_thread(world.staff, world.space_a.id, subject="Hola", body="Novedad")
    db.session.commit()
    agenda = client.get("/api/v1/me/agenda", headers=api_token(client, world.client_a)).get_json()
    new = agenda["new_since_last_visit"]
    assert new["since"] and new["documents"] == 1 and new["messages"] == 1


def test_a_requests_items_due_the_same_day_come_in_the_firms_order_on_every_page(client, world):
    from app.extensions import db
    from app.services import requests

    due = date.today() + timedelta(days=3)
    titles = [f"Documento {letter}" for letter in "ZYXWVUTSRQ"]  # ids and titles in no order
    for first, second in ((titles[:5], "Renta 2026"), (titles[5:], "Sociedades 2026")):
        requests.create_request(
            world.staff,
            world.space_a.id,
            title=second,
            due_date=due,
            items=[{"title": title} for title in first],
            today=date.today(),
        )
    db.session.commit()
    headers = api_token(client, world.client_a)
    whole = client.get("/api/v1/me/agenda?limit=500", headers=headers).get_json()
    mine = [i["title"] for i in whole["items"] if i["title"] in titles]
    assert mine == titles  # the first request's items as listed, then the second's
    walked, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/me/agenda?limit=3" + (f"&cursor={cursor}" if cursor else ""), headers=headers
        ).get_json()
        walked += [i["title"] for i in page["items"]]
        assert page["counts"] == whole["counts"]  # the counts are of the whole agenda
        cursor = page["next"]
        if cursor is None:
            break
    assert walked == [i["title"] for i in whole["items"]]


def test_versions_to_review_come_waiting_longest_first(client, world):
    from app.extensions import db
    from app.services import documents

    titles = [f"Nómina {month}" for month in ("enero", "febrero", "marzo", "abril", "mayo")]
    for title in titles:
        documents.upload_document(
            world.client_a,
            world.space_a.id,
            io.BytesIO(b"%PDF-1.4 nomina"),
            filename="nomina.pdf",
            title=title,
        )
        db.session.commit()
    agenda = client.get("/api/v1/me/agenda", headers=api_token(client, world.staff)).get_json()
    reviews = [
        i["title"] for i in agenda["items"] if i["kind"] == "review" and i["title"] in titles
    ]
    assert reviews == titles
