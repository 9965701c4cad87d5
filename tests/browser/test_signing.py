"""PAdES signing in a real browser: annual accounts asked for at B-LTA, signed by the client on a phone."""

from __future__ import annotations

import email
import io
import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from portal_signing import annual_accounts_pdf, next_totp
from portal_testing import DESKTOP, PASSWORD, PHONE, enable_mfa, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("signing_ready")]


def _link_in_mail(outbox: Path, address: str, subject_part: str) -> str:
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address and subject_part in str(message["Subject"]):
            text = message.get_payload()[0].get_payload(decode=True).decode()
            return re.search(r"(http://\S+/signatures/\S+)", text).group(1)
    raise AssertionError(f"no mail to {address} about {subject_part!r}")


def test_annual_accounts_signed_by_the_client_on_a_phone(app, live_server, browser, tmp_path):
    from app.extensions import db
    from app.services import clients, documents

    admin = make_user("admin", email="socia@asesoria.es", name="Socia")
    staff = make_user("staff", email="laura@asesoria.es", name="Laura Gómez")
    firm = clients.create_client(admin, name="Ferretería Ruiz S.L.")
    customer = make_user("client", client_id=firm.id, email="ana@ferreteria.es", name="Ana Ruiz")
    space = clients.create_space(admin, firm.id, name="Ejercicio 2025", kind="fiscal_year")
    clients.add_member(admin, space.id, user_id=staff.id, permission="manage")
    clients.add_member(admin, space.id, user_id=customer.id, permission="contribute")
    accounts = documents.upload_document(
        staff,
        space.id,
        io.BytesIO(annual_accounts_pdf(2)),
        filename="cuentas-anuales-2025.pdf",
        title="Cuentas anuales 2025",
        category="Cuentas anuales",
    )
    db.session.commit()
    secret = enable_mfa(customer)

    # the firm asks the client to sign (level left to the portal: B-LTA for annual accounts)
    desktop = browser.new_context(**DESKTOP, locale="es-ES")
    page = desktop.new_page()
    page.goto(live_server + "/")
    page.get_by_label("E-mail").fill(staff.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{live_server}/documents/{accounts.id}")
    page.locator("#signatures summary", has_text="Solicitar firmas").click()
    page.get_by_label("Primer firmante").select_option(label=f"Ana Ruiz <{customer.email}>")
    page.get_by_label("Mensaje para los firmantes (opcional)").fill(
        "Revise las cuentas y fírmelas, por favor."
    )
    page.get_by_role("button", name="Enviar a firmar").click()
    page.get_by_text("Solicitud de firma enviada.").wait_for()
    expect(page.locator("main")).to_contain_text("Nivel B-LTA")
    desktop.close()

    # the client opens the link in the e-mail on her phone and signs with a TOTP code
    link = _link_in_mail(Path(app.config["OUTBOX_DIR"]), customer.email, "firmar")
    phone = browser.new_context(**PHONE, locale="es-ES")
    mobile = phone.new_page()
    mobile.goto(link)
    mobile.get_by_label("E-mail").fill(customer.email)
    mobile.get_by_label("Contraseña").fill(PASSWORD)
    mobile.get_by_role("button", name="Entrar").click()
    mobile.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
    mobile.get_by_role("button", name="Verificar").click()
    if not mobile.url.startswith(link):
        mobile.goto(link)
    mobile.get_by_role("heading", name="Revise el documento").wait_for()
    frame = mobile.get_by_test_id("pdf-frame")
    assert frame.is_visible()
    shown = mobile.request.get(live_server + frame.get_attribute("src"))
    assert shown.status == 200 and shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]
    assert shown.body()[:5] == b"%PDF-"
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390

    mobile.get_by_label("Código de verificación").fill(next_totp(secret))
    mobile.get_by_role("button", name="Firmar el documento").click()
    mobile.get_by_text("Documento firmado.").wait_for()
    assert mobile.get_by_test_id("request-status").inner_text() == "Firmado por todos"

    mobile.get_by_role("link", name="Ver el informe de validación").click()
    verdict = mobile.get_by_test_id("verdict")
    assert verdict.inner_text().startswith("Válido")
    assert mobile.get_by_test_id("level").inner_text() == "B-LTA"
    assert "Ana Ruiz" in mobile.get_by_test_id("signature").inner_text()
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()
