"""A new client activates themselves on a phone: invitation, DNI photos, letter signed, space open."""

from __future__ import annotations

import email
import random
import re
from datetime import date
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from identity_samples import identity_document, jpeg_bytes, photographed
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("signing_ready")]


def _mails(outbox: Path, address: str) -> list[email.message.Message]:
    found = []
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            found.append(message)
    return found


def _text(message: email.message.Message) -> str:
    part = message.get_payload()[0] if message.is_multipart() else message
    return part.get_payload(decode=True).decode()


def _subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _sign_with_emailed_code(page, outbox: Path, address: str) -> None:
    page.get_by_role("button", name="Enviarme un código por e-mail").click()
    page.get_by_text("Le hemos enviado un código por e-mail").wait_for()
    code = _subject(_mails(outbox, address)[-1]).rsplit(" ", 1)[-1]
    page.get_by_label("Código de verificación").fill(code)
    page.get_by_role("button", name="Firmar el documento").click()
    page.get_by_text("Documento firmado.").wait_for()


def test_a_new_client_goes_from_the_invitation_to_an_active_space(
    app, live_server, browser, tmp_path
):
    from app.extensions import db

    staff = make_user("staff", email="laura@asesoria.es", name="Laura Gómez")
    make_user("admin", email="socia@asesoria.es", name="Socia")
    db.session.commit()
    outbox = Path(app.config["OUTBOX_DIR"])
    rng = random.Random(0)
    card = identity_document(rng, kind="dni", today=date.today())
    full_name = f"{card.expected['given_names']} {card.expected['surnames']}".title()
    front = tmp_path / "dni-delante.jpg"
    back = tmp_path / "dni-detras.jpg"
    front.write_bytes(jpeg_bytes(photographed(card.front, rng)))
    back.write_bytes(jpeg_bytes(photographed(card.back, rng)))

    # the firm invites the new client from one form
    desktop = browser.new_context(**DESKTOP, locale="es-ES")
    firm = desktop.new_page()
    firm.goto(live_server + "/login")
    firm.get_by_label("E-mail").fill(staff.email)
    firm.get_by_label("Contraseña").fill(PASSWORD)
    firm.get_by_role("button", name="Entrar").click()
    firm.get_by_role("link", name="Altas").click()
    firm.get_by_role("link", name="Nueva alta").click()
    firm.get_by_label("E-mail").fill("nuevo.cliente@example.com")
    firm.get_by_label("Nombre y apellidos").fill(full_name)
    firm.get_by_label("Renta de persona física").check()
    firm.get_by_role("button", name="Enviar invitación").click()
    firm.get_by_text("Invitación enviada a nuevo.cliente@example.com.").wait_for()
    onboarding_url = firm.url

    # the client opens the e-mail on a phone, chooses a password and is signed in
    invitation = _mails(outbox, "nuevo.cliente@example.com")[-1]
    link = re.search(r"(http://\S+/invitation/\S+)", _text(invitation)).group(1)
    phone = browser.new_context(**PHONE, locale="es-ES")
    mobile = phone.new_page()
    mobile.goto(link)
    mobile.get_by_label("Nueva contraseña").fill("mi-contraseña-segura")
    mobile.get_by_label("Repita la contraseña").fill("mi-contraseña-segura")
    mobile.get_by_role("button", name="Crear mi acceso").click()
    mobile.get_by_role("heading", name="Su documento de identidad").wait_for()

    # the DNI, both sides, as photos; what was read is shown boxed and confirmed
    mobile.get_by_label("Cara delantera").set_input_files(str(front))
    mobile.get_by_label("Cara trasera").set_input_files(str(back))
    mobile.get_by_role("button", name="Enviar").click()
    mobile.get_by_role("heading", name="Compruebe sus datos").wait_for()
    expect(mobile.get_by_label("Número (DNI, NIE o pasaporte)")).to_have_value(
        card.expected["document_number"]
    )
    images = mobile.locator(".identity-images img")
    expect(images).to_have_count(2)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    # what could not be read is typed, as the person would (the photo is taken at an angle)
    for label, value in (
        ("Nacionalidad (código de 3 letras)", card.expected["nationality"]),
        ("Fecha de nacimiento (AAAA-MM-DD)", card.expected["birth_date"]),
        ("Válido hasta (AAAA-MM-DD)", card.expected["expiry_date"]),
    ):
        box = mobile.get_by_label(label)
        if not box.input_value():
            box.fill(value)
    mobile.get_by_role("button", name="Confirmar mis datos").click()
    mobile.get_by_text("Datos confirmados.").wait_for()

    # the firm approves; the engagement letter goes out for signature
    firm.goto(onboarding_url)
    expect(firm.locator("main")).to_contain_text(card.expected["document_number"])
    firm.get_by_role("button", name="Aprobar y enviar la hoja de encargo").click()
    firm.get_by_text("Alta aprobada").wait_for()

    # the client signs first, on the phone
    mobile.reload()
    mobile.get_by_test_id("sign-letter").click()
    _sign_with_emailed_code(mobile, outbox, "nuevo.cliente@example.com")

    # then the firm countersigns
    firm.goto(onboarding_url)
    firm.get_by_test_id("sign-letter").click()
    _sign_with_emailed_code(firm, outbox, staff.email)
    desktop.close()

    # the client's space is open, with the renta checklist waiting
    mobile.goto(live_server + "/onboarding/")
    space_link = mobile.get_by_test_id("active-space")
    expect(space_link).to_have_text(f"Renta {date.today().year}")
    space_link.click()
    expect(mobile.locator("main")).to_contain_text("Declaración de la renta")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()


def test_a_firm_requiring_a_second_factor_has_the_new_client_enrol_it_on_the_phone(
    app, live_server, browser
):
    import pyotp

    from app.extensions import db
    from app.services import onboarding
    from app.services.settings import update_setting

    staff = make_user("staff")
    update_setting(make_user("admin"), "require_mfa_for_clients", True)
    onboarding.start_onboarding(
        staff, email="con.totp@example.com", name="Ana Pérez", kind="person", services=["renta"]
    )
    db.session.commit()
    invitation = _mails(Path(app.config["OUTBOX_DIR"]), "con.totp@example.com")[-1]
    link = re.search(r"(/invitation/\S+)", _text(invitation)).group(1)

    phone = browser.new_context(**PHONE, locale="es-ES")
    mobile = phone.new_page()
    mobile.goto(live_server + link)
    mobile.get_by_label("Nueva contraseña").fill("mi-contraseña-segura")
    mobile.get_by_label("Repita la contraseña").fill("mi-contraseña-segura")
    mobile.get_by_role("button", name="Crear mi acceso").click()
    # the QR and the key to type, before any step
    mobile.get_by_role("heading", name="Activar la verificación en dos pasos").wait_for()
    expect(
        mobile.get_by_role("img", name="Código QR para la aplicación de autenticación")
    ).to_be_visible()
    secret = mobile.get_by_test_id("totp-secret").inner_text()
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.get_by_label("Código de verificación").fill("000000")
    mobile.get_by_role("button", name="Activar").click()
    mobile.get_by_text("Código incorrecto.").wait_for()
    mobile.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
    mobile.get_by_role("button", name="Activar").click()
    expect(mobile.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    mobile.get_by_role("link", name="Los he guardado, continuar").click()
    mobile.get_by_role("heading", name="Su documento de identidad").wait_for()
    phone.close()
