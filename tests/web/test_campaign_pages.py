"""Campaign pages: staff start one from a CSV, watch the board, close some, export the rest."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from portal_testing import csrf_token, web_login

DUE = (date.today() + timedelta(days=20)).isoformat()


def _new(client, **fields):
    form = {
        "csrf_token": csrf_token(client, "/campaigns/new"),
        "name": "Renta 2026",
        "kind": "request",
        "template": "",
        "items": "Certificado de retenciones\n? Recibo del IBI",
        "due_date": DUE,
        "space_kind": "fiscal_year",
        "space_name": "Renta {year}",
        "tag": "",
        "client_kind": "",
        **fields,
    }
    return client.post("/campaigns/new", data=form, content_type="multipart/form-data")


def test_staff_start_a_campaign_from_a_csv_and_work_its_board(client, world):
    from app.extensions import db
    from app.services import clients

    made = [
        clients.create_client(world.admin, name=name, tax_id=tax_id)
        for name, tax_id in (("Ñandú S.L.", "B12345674"), ("Obras Ebro S.A.", "A28000008"))
    ]
    db.session.commit()
    web_login(client, world.staff)
    assert "Campañas" in client.get("/").get_data(as_text=True)  # in the staff navigation

    # an unknown tax id: the form comes back with the line named and what was typed kept
    bad = _new(client, clients_csv=(io.BytesIO(b"NIF\nB12345674\nB76543214\n"), "c.csv"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "línea 3: B76543214" in html
    assert 'value="Renta 2026"' in html

    csv = "NIF;Nombre\r\nB12345674;Ñandú\r\nA28000008;Obras\r\n".encode("cp1252")
    started = _new(client, clients_csv=(io.BytesIO(csv), "clientes.csv"))
    assert started.status_code == 302
    board_url = started.headers["Location"]
    page = client.get(board_url).get_data(as_text=True)
    assert 'data-testid="campaign-board"' in page and "<svg" in page and "Ñandú S.L." in page
    assert re.search(r"Clientes</dt><dd>2</dd>", page)

    campaign_id = board_url.rstrip("/").rsplit("/", 1)[-1]
    token = csrf_token(client, board_url)
    closed = client.post(
        f"/campaigns/{campaign_id}/close",
        data={"csrf_token": token, "client_ids": made[0].id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Cerrados: 1 clientes." in closed
    only_closed = client.get(f"{board_url}?status=closed").get_data(as_text=True)
    assert "Ñandú S.L." in only_closed and "Obras Ebro S.A." not in only_closed
    nothing = client.post(
        f"/campaigns/{campaign_id}/remove", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Marque los clientes que quiere quitar." in nothing.get_data(as_text=True)

    exported = client.get(f"/campaigns/{campaign_id}/export?format=csv")
    lines = exported.get_data().decode("utf-8-sig").splitlines()
    assert exported.status_code == 200 and len(lines) == 3
    listing = client.get("/campaigns").get_data(as_text=True)
    assert "Renta 2026" in listing and 'value="1"' in listing  # one of two complete
