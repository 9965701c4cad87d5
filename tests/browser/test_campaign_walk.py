"""Staff run a renta campaign on 30 clients; a client completes it from the agenda on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, build_world, pdf_bytes

pytestmark = pytest.mark.browser


def _login(page, base, user):
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()


def test_a_renta_campaign_for_30_clients_completed_from_the_agenda(
    app, live_server, browser, tmp_path
):
    from app.extensions import db
    from app.services import campaigns, clients

    world = build_world()
    campaigns.set_tags(world.admin, world.firm_a.id, ["renta"])
    for number in range(29):
        made = clients.create_client(world.admin, name=f"Contribuyente {number:02d}", kind="person")
        campaigns.set_tags(world.admin, made.id, ["renta"])
    db.session.commit()
    scan = tmp_path / "retenciones.pdf"
    scan.write_bytes(pdf_bytes("Certificado"))

    firm = browser.new_context(**DESKTOP, locale="es-ES")
    staff = firm.new_page()
    _login(staff, live_server, world.staff)
    staff.get_by_role("link", name="Campañas").click()
    staff.get_by_role("link", name="Nueva campaña").click()
    staff.get_by_label("Nombre", exact=True).fill("Renta 2026")
    staff.get_by_label("O escriba los documentos").fill(
        "Certificado de retenciones\nRecibo del IBI"
    )
    staff.get_by_label("Fecha límite", exact=True).fill(
        (date.today() + timedelta(days=20)).isoformat()
    )
    staff.get_by_label("Clientes con la etiqueta").fill("renta")
    staff.get_by_role("button", name="Crear campaña").click()
    staff.get_by_text("Campaña creada").wait_for()
    expect(staff.get_by_test_id("campaign-totals")).to_contain_text("30")
    expect(staff.get_by_test_id("campaign-board").locator("tbody tr")).to_have_count(30)
    board_url = staff.url

    phone = browser.new_context(**PHONE, locale="es-ES")
    client = phone.new_page()
    _login(client, live_server, world.client_a)
    first = client.get_by_test_id("agenda-item").first
    expect(first).to_contain_text("Certificado de retenciones")
    assert first.bounding_box()["y"] < PHONE["viewport"]["height"]  # on the first screen
    first.get_by_role("link").click()
    for _ in range(2):
        item = client.locator("[data-testid=item].item-pending").first
        item.locator("input[type=file]").set_input_files(str(scan))
        item.locator("button[type=submit].primary").click()
        client.get_by_text("¡Gracias!").wait_for()
    assert client.evaluate("document.documentElement.scrollWidth") <= 390
    client.goto(live_server + "/")
    expect(client.get_by_test_id("agenda-item").first).to_be_visible()
    expect(client.locator("main")).not_to_contain_text("Recibo del IBI")  # nothing left of it

    staff.goto(f"{board_url}?q=petrolera")
    row = staff.get_by_test_id("campaign-board").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Petrolera del Norte")
    expect(row.locator("td[data-label=Enviados]")).to_have_text("2")
    phone.close()
    firm.close()
