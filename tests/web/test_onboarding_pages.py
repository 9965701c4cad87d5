"""Onboarding pages: the staff form keeps what was typed, the board, the catalogue, who sees what."""

from __future__ import annotations

import io
import random
import re
from datetime import date

import pytest
from identity_samples import identity_document, jpeg_bytes
from portal_testing import csrf_token, web_login

pytestmark = pytest.mark.usefixtures("signing_ready")


def _start(client, name="Lucía Martínez Ruiz", email="lucia@example.com"):
    token = csrf_token(client, "/onboarding/new")
    return client.post(
        "/onboarding/new",
        data={
            "csrf_token": token,
            "email": email,
            "name": name,
            "kind": "person",
            "services": "renta",
        },
    )


def test_a_refused_start_keeps_what_was_typed(client, world):
    web_login(client, world.staff)
    token = csrf_token(client, "/onboarding/new")
    page = client.post(
        "/onboarding/new",
        data={
            "csrf_token": token,
            "email": world.client_a.email,
            "name": "Eva Pardo",
            "kind": "company",
        },
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'value="Eva Pardo"' in html
    assert "Ya existe un usuario con este e-mail." in html
    assert "Indique el nombre de la sociedad." in html
    assert "Elija al menos un servicio del catálogo." in html


def test_staff_start_one_and_see_it_on_the_board(client, world):
    web_login(client, world.staff)
    started = _start(client)
    assert started.status_code == 302
    board = client.get("/onboarding/").get_data(as_text=True)
    assert "Lucía Martínez Ruiz" in board and "lucia@example.com" in board
    assert "Invitado" in board


def test_a_client_never_sees_someone_elses_onboarding_or_photos(client, world):
    from app.extensions import db
    from app.models import Onboarding
    from app.services import onboarding

    web_login(client, world.staff)
    _start(client)
    item = db.session.query(Onboarding).one()
    person = item.user
    onboarding.invitation_accepted(person)
    card = identity_document(random.Random(0), kind="dni", today=date.today())
    onboarding.submit_identity(
        person,
        item.id,
        front=onboarding.IdentityFile(io.BytesIO(jpeg_bytes(card.front)), "a.jpg"),
        back=onboarding.IdentityFile(io.BytesIO(jpeg_bytes(card.back)), "b.jpg"),
        today=date.today(),
    )
    db.session.commit()
    assert client.get(f"/onboarding/{item.id}/images/0").mimetype == "image/jpeg"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    web_login(client, world.client_a)
    assert client.get(f"/onboarding/{item.id}").status_code == 404
    assert client.get(f"/onboarding/{item.id}/images/0").status_code == 404
    assert client.get(f"/onboarding/{item.id}/images/99999999999999999999").status_code == 404


def test_an_admin_adds_a_service_and_a_bad_one_is_explained(client, world):
    web_login(client, world.admin)
    token = csrf_token(client, "/onboarding/services")
    bad = client.post(
        "/onboarding/services",
        data={
            "csrf_token": token,
            "key": "Mal Clave",
            "name": "Nóminas",
            "space_kind": "general",
            "space_name": "Nóminas {mes}",
        },
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Solo minúsculas" in html and 'value="Nóminas"' in html
    good = client.post(
        "/onboarding/services",
        data={
            "csrf_token": token,
            "key": "nominas",
            "name": "Nóminas",
            "space_kind": "general",
            "space_name": "Nóminas {year}",
        },
    )
    assert good.status_code == 302
    assert "Nóminas" in client.get("/onboarding/services").get_data(as_text=True)
    assert re.search(
        r"Añadir un servicio", client.get("/onboarding/services").get_data(as_text=True)
    )
