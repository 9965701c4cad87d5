"""`portal demo`: a firm trying the portal logs in and finds each part of it already at work."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture
def demo_portal(tmp_path, monkeypatch):
    from app import create_app
    from app.cli import main

    data = tmp_path / "data"
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data))
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    made = runner.invoke(main, ["demo"])
    assert made.exit_code == 0, made.output
    app = create_app({"DATA_DIR": str(data)})
    return runner, made.output, app


def _agenda(app, email: str, password: str) -> dict:
    client = app.test_client()
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.get_json()
    token = answer.get_json()["token"]
    agenda = client.get("/api/v1/me/agenda", headers={"Authorization": f"Bearer {token}"})
    assert agenda.status_code == 200
    return agenda.get_json()


def _thread_bodies(app, email: str, password: str) -> list[str]:
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    spaces = []
    for firm_client in client.get("/api/v1/clients", headers=headers).get_json()["items"]:
        listed = client.get(f"/api/v1/clients/{firm_client['id']}/spaces", headers=headers)
        spaces += listed.get_json()["items"]
    bodies = []
    for space in spaces:
        threads = client.get(f"/api/v1/spaces/{space['id']}/threads", headers=headers)
        for thread in threads.get_json()["items"]:
            whole = client.get(f"/api/v1/threads/{thread['id']}", headers=headers).get_json()
            bodies += [message["body"] for message in whole["messages"]]
    return bodies


def test_every_login_printed_works_and_each_side_finds_what_waits(demo_portal):
    from app.services import demo

    _runner, output, app = demo_portal
    for email, password in (
        (demo.STAFF_EMAIL, demo.STAFF_PASSWORD),
        (demo.CLIENT_EMAIL, demo.CLIENT_PASSWORD),
        (demo.PERSON_EMAIL, demo.PERSON_PASSWORD),
        (demo.ADMIN_EMAIL, demo.ADMIN_PASSWORD),
    ):
        assert f"{email} / {password}" in output
        _agenda(app, email, password)

    ana = _agenda(app, demo.CLIENT_EMAIL, demo.CLIENT_PASSWORD)
    asked = [item["title"] for item in ana["items"] if item["kind"] == "request_item"]
    assert any("Facturas impagadas" in title for title in asked)
    assert "message" in {item["kind"] for item in ana["items"]}  # the firm's answer, unread

    # Marta, tagged renta, is in the Renta 2026 campaign: her space and request exist
    marta = _agenda(app, demo.PERSON_EMAIL, demo.PERSON_PASSWORD)
    assert [item for item in marta["items"] if item["kind"] == "request_item"]

    laura = _agenda(app, demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    assert "incident" in {item["kind"] for item in laura["items"]}


def test_the_client_never_sees_the_internal_note_nor_the_internal_document(demo_portal):
    from app.services import demo

    _runner, _output, app = demo_portal
    staff_sees = _thread_bodies(app, demo.STAFF_EMAIL, demo.STAFF_PASSWORD)
    client_sees = _thread_bodies(app, demo.CLIENT_EMAIL, demo.CLIENT_PASSWORD)
    assert any("Nota interna" in body for body in staff_sees)
    assert client_sees and not any("Nota interna" in body for body in client_sees)

    client = app.test_client()
    token = client.post(
        "/api/v1/auth/token",
        json={"email": demo.CLIENT_EMAIL, "password": demo.CLIENT_PASSWORD},
    ).get_json()["token"]
    found = client.get(
        "/api/v1/search?q=Memorando", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert found["items"] == []


def test_a_second_demo_adds_nothing_and_says_why(demo_portal):
    from sqlalchemy import func, select

    from app.cli import main
    from app.extensions import db
    from app.models import Client

    runner, _output, app = demo_portal
    with app.app_context():
        before = db.session.execute(select(func.count(Client.id))).scalar_one()
    again = runner.invoke(main, ["demo"])
    assert again.exit_code == 1
    assert "ya tiene clientes" in again.output
    with app.app_context():
        assert db.session.execute(select(func.count(Client.id))).scalar_one() == before
