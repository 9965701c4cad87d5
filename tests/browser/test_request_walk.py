"""The renta checklist: the firm sends it, the client completes it from a phone, the firm accepts."""

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


def test_renta_checklist_completed_from_a_phone(app, live_server, browser, tmp_path):
    world = build_world()
    scan = tmp_path / "dni.pdf"
    scan.write_bytes(pdf_bytes("DNI"))

    firm = browser.new_context(**DESKTOP, locale="es-ES")
    staff = firm.new_page()
    _login(staff, live_server, world.staff)
    staff.goto(f"{live_server}/spaces/{world.space_a.id}")
    staff.get_by_role("link", name="Pedir documentos al cliente").click()
    staff.get_by_label("Plantilla").select_option("renta")
    staff.get_by_label("Título").fill("IRPF 2025 de Ana")
    staff.get_by_label("Fecha límite").fill((date.today() + timedelta(days=30)).isoformat())
    staff.get_by_role("button", name="Enviar solicitud").click()
    staff.get_by_text("Solicitud enviada al cliente.").wait_for()
    request_url = staff.url

    phone = browser.new_context(**PHONE, locale="es-ES")
    client = phone.new_page()
    _login(client, live_server, world.client_a)
    client.get_by_role("link", name="IRPF 2025 de Ana").click()
    expect(client.get_by_test_id("item")).to_have_count(8)
    items = client.get_by_test_id("item")
    for index in (0, 1):
        items.nth(index).locator("input[type=file]").set_input_files(str(scan))
        items.nth(index).locator("button[type=submit].primary").click()
        client.get_by_text("¡Gracias!").wait_for()
    for index in (2, 3, 4):
        item = client.get_by_test_id("item").nth(index)
        item.locator("summary").click()
        item.get_by_label("¿Por qué no aplica?").fill("No tengo cuentas en ese banco")
        item.get_by_role("button", name="Marcar «No aplica»").click()
        client.get_by_text("Marcado como «No aplica».").wait_for()
    expect(client.locator("main")).to_contain_text("3 de 5")
    assert client.evaluate("document.documentElement.scrollWidth") <= 390

    staff.goto(request_url)
    for _ in range(2):
        staff.get_by_role("button", name="Aceptar").first.click()
        staff.get_by_text("Hecho.").wait_for()
    expect(staff.locator("main")).to_contain_text("Completa")
    client.reload()
    expect(client.locator("main")).to_contain_text("Completa")
    expect(client.locator("main")).to_contain_text("5 de 5")
    firm.close()
    phone.close()
