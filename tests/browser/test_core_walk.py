"""The core portal walked in a real browser: a firm sets up a client and shares a contract."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, make_user, pdf_bytes

pytestmark = pytest.mark.browser


def _invitation_link(outbox: Path, address: str) -> str:
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            text = message.get_payload()[0].get_payload(decode=True).decode()
            found = re.search(r"(http://\S+/invitation/\S+)", text)
            if found:
                return found.group(1)
    raise AssertionError(f"no invitation for {address}")


def _use_plain_form(page) -> None:
    """Open the single-file form (title, visibility, note) that sits under the drag-and-drop area.

    The uploader's script closes that form once it has started, so wait for it first.
    """
    page.wait_for_load_state("load")
    uploader = page.locator("[data-uploader]")
    if uploader.count():
        uploader.wait_for(state="visible", timeout=10000)
    fallback = page.locator("[data-upload-fallback]")
    if fallback.count() and fallback.get_attribute("open") is None:
        fallback.locator("summary").click()
    page.locator("#up-title, #note").first.wait_for(state="visible")


def test_firm_shares_a_contract_and_the_client_sees_only_it(app, live_server, browser, tmp_path):
    admin = make_user("admin", email="socia@despacho.es", name="Socia")
    other_firm_user = make_user("staff", email="otro@despacho.es")
    contract_v1, contract_v2 = tmp_path / "contrato.pdf", tmp_path / "contrato-v2.pdf"
    contract_v1.write_bytes(pdf_bytes("Contrato v1"))
    contract_v2.write_bytes(pdf_bytes("Contrato v2"))
    memo = tmp_path / "memo-interno.txt"
    memo.write_text("Estrategia: no compartir")

    context = browser.new_context(**DESKTOP, accept_downloads=True, locale="es-ES")
    page = context.new_page()
    page.goto(live_server + "/")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Hola, Socia").wait_for()

    # two-factor authentication
    page.get_by_role("link", name="Mi cuenta").click()
    page.get_by_role("link", name="Activar la verificación en dos pasos").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activar").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="Los he guardado, continuar").click()

    # client, client user, space
    page.get_by_role("navigation", name="Menú principal").get_by_role(
        "link", name="Clientes"
    ).click()
    page.get_by_label("Nombre o razón social").fill("Petrolera del Norte S.A.")
    page.get_by_role("button", name="Crear cliente").click()
    page.get_by_role("heading", name="Petrolera del Norte S.A.").wait_for()
    page.locator("#user-name").fill("Ana Pérez")
    page.locator("#user-email").fill("ana@petrolera.es")
    page.get_by_role("button", name="Enviar invitación").click()
    page.get_by_text("Invitación enviada por e-mail.").wait_for()
    page.get_by_label("Nombre del espacio").fill("Litigio 2026/114")
    page.get_by_role("button", name="Crear espacio").click()
    page.get_by_role("heading", name="Litigio 2026/114").wait_for()
    page.get_by_label("Persona").select_option(label="Ana Pérez <ana@petrolera.es>")
    page.get_by_label("Permiso").select_option("contribute")
    page.get_by_role("button", name="Dar acceso").click()
    page.get_by_text("Permisos actualizados.").wait_for()

    # contract, internal memo, second version
    _use_plain_form(page)
    page.get_by_label("Archivo").set_input_files(str(contract_v1))
    page.get_by_label("Título (opcional)").fill("Contrato de suministro")
    page.get_by_role("button", name="Subir", exact=True).click()
    page.get_by_role("heading", name="Contrato de suministro").wait_for()
    page.get_by_role("link", name="Litigio 2026/114").click()
    _use_plain_form(page)
    page.get_by_label("Archivo").set_input_files(str(memo))
    page.get_by_label("Título (opcional)").fill("Memorando interno")
    page.locator("#up-visibility").select_option("internal")
    page.get_by_role("button", name="Subir", exact=True).click()
    page.get_by_role("heading", name="Memorando interno").wait_for()
    page.get_by_role("link", name="Litigio 2026/114").click()
    page.get_by_role("link", name="Contrato de suministro").click()
    _use_plain_form(page)
    page.get_by_label("Archivo").set_input_files(str(contract_v2))
    page.get_by_label("Qué cambia (opcional)").fill("Cláusula 4 revisada")
    page.get_by_role("button", name="Subir versión").click()
    page.get_by_text("Nueva versión subida.").wait_for()

    # download version 1 again, then restore it
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Descargar v1").click()
    download = download_info.value
    assert download.suggested_filename == "contrato.pdf"
    assert Path(download.path()).read_bytes() == contract_v1.read_bytes()
    page.get_by_role("button", name="Restaurar v1").click()
    page.get_by_text("Versión 1 restaurada como versión 3.").wait_for()
    context.close()

    # the client accepts the invitation and logs in on a phone
    link = _invitation_link(Path(app.config["OUTBOX_DIR"]).parent / "outbox", "ana@petrolera.es")
    phone = browser.new_context(**PHONE, locale="es-ES")
    mobile = phone.new_page()
    mobile.goto(link)
    mobile.get_by_label("Nueva contraseña").fill("clave de ana 2026")
    mobile.get_by_label("Repita la contraseña").fill("clave de ana 2026")
    mobile.get_by_role("button", name="Crear mi acceso").click()
    mobile.get_by_label("E-mail").fill("ana@petrolera.es")
    mobile.get_by_label("Contraseña").fill("clave de ana 2026")
    mobile.get_by_role("button", name="Entrar").click()
    spaces = mobile.locator("ul.list li")
    expect(spaces).to_have_count(1)
    assert "Litigio 2026/114" in spaces.inner_text()
    mobile.get_by_role("link", name="Litigio 2026/114").click()
    expect(mobile.locator("main")).to_contain_text("Contrato de suministro")
    body = mobile.locator("main").inner_text()
    assert "Contrato de suministro" in body
    assert "Memorando interno" not in body
    mobile.get_by_role("link", name="Contrato de suministro").click()
    rows = mobile.locator("table.versions tbody tr")
    expect(rows).to_have_count(3)
    # nothing wider than the phone's screen
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.goto(live_server + "/clients/")
    assert "Petrolera" not in mobile.locator("main").inner_text() or mobile.url.endswith(
        "/clients/"
    )
    assert other_firm_user.email not in mobile.content()
    phone.close()
