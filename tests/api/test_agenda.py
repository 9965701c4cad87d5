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


def test_a_staff_members_queue_puts_what_is_late_first_reviews_campaigns_and_stalled_onboardings(
    client, world
):
    """Versions past their space's review SLA, the staff member's campaigns with clients late
    (one item each, saying how many) and their onboardings stalled on the client come first,
    marked late; what is not late yet keeps its due date; another staff member's campaign and
    onboarding are not theirs."""
    from datetime import UTC, datetime

    from portal_testing import PASSWORD

    from app.extensions import db
    from app.models import DocumentRequest, DocumentVersion
    from app.services import accounts, campaigns, clients, documents, onboarding

    now = datetime.now(UTC)
    old = documents.upload_document(
        world.client_a, world.space_a.id, io.BytesIO(b"%PDF-1.4 vieja"), filename="vieja.pdf"
    )
    fresh = documents.upload_document(
        world.client_a, world.space_a.id, io.BytesIO(b"%PDF-1.4 nueva"), filename="nueva.pdf"
    )
    version = db.session.get(DocumentVersion, old.current_version.id)
    version.created_at = version.review_state_at = now - timedelta(days=5)  # opened within 2
    db.session.commit()

    staff = api_token(client, world.staff)
    made = []
    for number in range(3):
        firm = clients.create_client(world.admin, name=f"Sociedad {number}", kind="company")
        campaigns.set_tags(world.admin, firm.id, ["cuentas"])
        made.append(firm.id)
    db.session.commit()
    campaign = client.post(
        "/api/v1/campaigns",
        headers=staff,
        json={
            "name": "Cuentas 2026",
            "kind": "request",
            "items": [{"title": "Balance"}],
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
            "client_filter": {"tag": "cuentas"},
            "space_kind": "fiscal_year",
            "space_name": "Ejercicio {year}",
        },
    ).get_json()
    board = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=staff).get_json()
    requests_made = [db.session.get(DocumentRequest, r["request_id"]) for r in board["clients"]]
    from app.models import Campaign

    db.session.get(Campaign, campaign["id"]).due_date = date.today() - timedelta(days=2)
    for request in requests_made:  # as if the campaign had been due two days ago
        request.due_date = date.today() - timedelta(days=2)
    first = requests_made[0]  # one client sent everything: not late
    from app.services import requests as request_service

    request_service.mark_not_applicable(world.staff, first.items[0].id, "Sin actividad")

    stalled = onboarding.start_onboarding(
        world.staff, email="lenta@example.com", name="Lenta", kind="person", services=["renta"]
    )
    stalled.status_since = now - timedelta(days=4)  # the reminder delay is 3 days
    waiting = onboarding.start_onboarding(
        world.staff,
        email="reciente@example.com",
        name="Reciente",
        kind="person",
        services=["renta"],
    )
    colleague = accounts.create_user(
        world.admin, email="otra@despacho.es", name="Otra", role="staff", password=PASSWORD
    )
    theirs = onboarding.start_onboarding(
        colleague, email="suya@example.com", name="Suya", kind="person", services=["renta"]
    )
    theirs.status_since = now - timedelta(days=4)
    db.session.commit()

    agenda = client.get("/api/v1/me/agenda?limit=500", headers=staff).get_json()
    by_target = {item["target"]: item for item in agenda["items"]}
    late = by_target[f"campaign:{campaign['id']}"]
    assert late["kind"] == "request_item" and late["overdue"] is True
    assert late["context"] == "2 clientes atrasados"
    assert late["link"] == f"/campaigns/{campaign['id']}?status=overdue"
    assert by_target[f"document:{old.id}"]["overdue"] is True
    assert by_target[f"document:{fresh.id}"]["overdue"] is False
    assert (
        by_target[f"document:{fresh.id}"]["due"] == (date.today() + timedelta(days=2)).isoformat()
    )
    assert by_target[f"onboarding:{stalled.id}"]["overdue"] is True
    assert f"onboarding:{waiting.id}" not in by_target  # the client's turn, not stalled yet
    assert f"onboarding:{theirs.id}" not in by_target  # a colleague's
    # what is late comes before anything that is not
    flags = [item["overdue"] for item in agenda["items"]]
    assert flags == sorted(flags, reverse=True)

    mine = client.get("/api/v1/me/agenda", headers=api_token(client, colleague)).get_json()
    targets = {item["target"] for item in mine["items"]}
    assert f"campaign:{campaign['id']}" not in targets and f"onboarding:{theirs.id}" in targets

    # the home page says it in words, late things first
    from portal_testing import web_login

    browser = client.application.test_client()
    web_login(browser, world.staff)
    home = browser.get("/").get_data(as_text=True)
    assert "Campaña con clientes atrasados · 2 clientes atrasados" in home
    assert home.index("Cuentas 2026") < home.index("nueva.pdf")
