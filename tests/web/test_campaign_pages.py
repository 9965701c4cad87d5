"""Campaign pages: staff start one from a CSV, watch the board, close some, export the rest."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta

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


def _names_in_board(html: str) -> list[str]:
    body = html.split('data-testid="campaign-board"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'href="/requests/[^"]+">([^<]+)</a>', body)


def test_the_board_puts_late_clients_first_finds_any_letter_and_pages(client, world, monkeypatch):
    from app.blueprints import campaigns as board_view
    from app.extensions import db
    from app.models import CampaignClient, DocumentRequest
    from app.services import clients

    made = [
        clients.create_client(world.admin, name=name, tax_id=tax_id)
        for name, tax_id in (
            ("Ñandú S.L.", "B12345674"),
            ("Obras Ebro S.A.", "A28000008"),
            ("Árbol Verde S.L.", "B87654323"),
        )
    ]
    db.session.commit()
    web_login(client, world.staff)
    csv = b"NIF\nB12345674\nA28000008\nB87654323\n"
    board_url = _new(client, clients_csv=(io.BytesIO(csv), "c.csv")).headers["Location"]
    # Obras Ebro's request falls past its due date: it goes first, counted as late
    late = db.session.execute(
        db.select(DocumentRequest)
        .join(CampaignClient, CampaignClient.request_id == DocumentRequest.id)
        .where(CampaignClient.client_id == made[1].id)
    ).scalar_one()
    late.due_date = date.today() - timedelta(days=1)
    # and Árbol Verde's is complete (as when the firm accepts its last required item)
    complete = db.session.execute(
        db.select(DocumentRequest)
        .join(CampaignClient, CampaignClient.request_id == DocumentRequest.id)
        .where(CampaignClient.client_id == made[2].id)
    ).scalar_one()
    complete.completed_at = datetime.now(UTC)
    db.session.commit()

    page = client.get(board_url).get_data(as_text=True)
    assert _names_in_board(page)[0] == "Obras Ebro S.A."
    assert _names_in_board(page)[-1] == "Árbol Verde S.L."  # complete: last
    assert "1 de 3 clientes completos" in page  # the chart, and its data: one complete today
    assert re.search(r'data-label="Completos">1</td></tr></tbody>', page)
    assert "Preparando los clientes" not in page  # the job is done
    assert sorted(_names_in_board(page)) == ["Obras Ebro S.A.", "Árbol Verde S.L.", "Ñandú S.L."]
    assert re.search(r'Atrasados</dt><dd class="late">1</dd>', page)
    assert "3 de 3 clientes" in page

    # the client filter folds every letter, accented capitals included
    assert _names_in_board(client.get(f"{board_url}?q=ñANDÚ").get_data(as_text=True)) == [
        "Ñandú S.L."
    ]
    found = client.get(f"{board_url}?q=árbol").get_data(as_text=True)
    assert _names_in_board(found) == ["Árbol Verde S.L."] and "1 de 3 clientes" in found
    overdue = client.get(f"{board_url}?status=overdue").get_data(as_text=True)
    assert _names_in_board(overdue) == ["Obras Ebro S.A."]

    # two rows a page: the pages hold every client once, the totals stay the campaign's
    monkeypatch.setattr(board_view, "PAGE_SIZE", 2)
    first = client.get(board_url).get_data(as_text=True)
    second = client.get(f"{board_url}?page=2").get_data(as_text=True)
    beyond = client.get(f"{board_url}?page=99").get_data(as_text=True)
    assert len(_names_in_board(first)) == 2 and len(_names_in_board(second)) == 1
    assert set(_names_in_board(first) + _names_in_board(second)) == {
        "Obras Ebro S.A.",
        "Árbol Verde S.L.",
        "Ñandú S.L.",
    }
    assert _names_in_board(beyond) == _names_in_board(second)
    assert re.search(r"Clientes</dt><dd>3</dd>", second)
    assert client.get(f"{board_url}?page=x").status_code == 200

    # the campaigns list says how many are late, linking to them on the board
    listing = client.get("/campaigns").get_data(as_text=True)
    campaign_id = board_url.rsplit("/", 1)[1]
    assert f'href="/campaigns/{campaign_id}?status=overdue">1</a>' in listing


def test_the_campaigns_list_goes_on_page_by_page_newest_first(client, world):
    from app.extensions import db
    from app.models import Campaign

    start = datetime.now(UTC) - timedelta(days=200)
    for n in range(55):
        db.session.add(
            Campaign(
                name=f"Campaña {n:02d}",
                kind="request",
                items=[{"title": "Balance"}],
                due_date=date.today() + timedelta(days=30),
                space_kind="fiscal_year",
                space_name="Ejercicio {year}",
                status="done",
                created_by_id=world.staff.id,
                created_at=start + timedelta(days=n),
            )
        )
    db.session.commit()
    web_login(client, world.staff)
    first = client.get("/campaigns").get_data(as_text=True)
    names = re.findall(r">(Campaña \d\d)</a>", first)
    assert names == [f"Campaña {n:02d}" for n in range(54, 4, -1)]
    more = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert more is not None
    second = client.get(html.unescape(more.group(1))).get_data(as_text=True)
    assert re.findall(r">(Campaña \d\d)</a>", second) == [
        f"Campaña {n:02d}" for n in range(4, -1, -1)
    ]
    assert "Volver al principio" in second and 'rel="next"' not in second
    altered = client.get("/campaigns?cursor=nada", follow_redirects=True)
    assert altered.request.path == "/campaigns" and "no es válido" in altered.get_data(as_text=True)


def test_staff_retry_the_clients_that_failed_once_the_reason_is_fixed(client, world):
    from portal_signing import annual_accounts_pdf
    from portal_testing import api_token

    admin = api_token(client, world.admin)
    sent = client.post(
        "/api/v1/campaigns",
        headers=admin,
        json={
            "name": "Cuentas 2025",
            "kind": "signature",
            "due_date": DUE,
            "space_kind": "general",
            "space_name": "Cuentas 2025",  # made for client A by the job: no PDF in it
            "clients": [world.firm_a.id],
        },
    )
    assert sent.status_code in (201, 202), sent.get_json()
    board_url = f"/campaigns/{sent.get_json()['id']}"
    web_login(client, world.staff)
    page = client.get(board_url).get_data(as_text=True)
    assert "No hay ningún PDF que firmar" in page and 'data-testid="retry-failed"' in page

    # without the PDF the retry fails again, with the same reason shown
    token = csrf_token(client, board_url)
    again = client.post(f"{board_url}/retry", data={"csrf_token": token}, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "Se preparan de nuevo 1 clientes." in html.unescape(text)
    assert "No hay ningún PDF que firmar" in text

    spaces = client.get(f"/api/v1/clients/{world.firm_a.id}/spaces", headers=admin).get_json()
    (space_id,) = [s["id"] for s in spaces["items"] if s["name"] == "Cuentas 2025"]
    filed = client.post(
        f"/api/v1/spaces/{space_id}/documents",
        headers=admin,
        data={"file": (io.BytesIO(annual_accounts_pdf(pages=1)), "cuentas.pdf")},
        content_type="multipart/form-data",
    )
    assert filed.status_code == 201
    token = csrf_token(client, board_url)
    done = client.post(f"{board_url}/retry", data={"csrf_token": token}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "No hay ningún PDF que firmar" not in text
    assert 'data-testid="retry-failed"' not in text  # nothing failed any more
    assert "(0/1)" in text  # client A's person is asked to sign: none of one signed yet
