"""A client asks on a phone, the firm answers on the web, the client replies from their e-mail."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, _free_port, build_world

pytestmark = pytest.mark.browser

DOMAIN = "portal.test"


@pytest.fixture
def live_server_config() -> dict[str, Any]:
    return {"MAIL_IN_DOMAIN": DOMAIN}


def _login(page, base: str, user) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()


def _reply_to(outbox: Path, address: str) -> str:
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address and message["Reply-To"]:
            return str(message["Reply-To"])
    raise AssertionError(f"no mail with a reply address to {address}")


def test_a_question_answered_on_the_web_and_replied_to_by_email(app, live_server, browser):
    from app.mail_receiver import build_receiver

    world = build_world()
    app.config["MAIL_IN_DOMAIN"] = DOMAIN
    receiver = build_receiver(app, "127.0.0.1", _free_port())
    receiver.start()
    try:
        phone = browser.new_context(**PHONE, locale="es-ES")
        mobile = phone.new_page()
        _login(mobile, live_server, world.client_a)
        mobile.goto(f"{live_server}/spaces/{world.space_a.id}")
        mobile.get_by_role("link", name="Conversaciones").click()
        mobile.get_by_label("Asunto").fill("¿Qué falta para presentar la renta?")
        mobile.get_by_label("Mensaje").fill("Hola, ¿qué documentos os faltan?")
        mobile.get_by_role("button", name="Enviar").click()
        expect(mobile.get_by_test_id("message")).to_have_count(1)
        thread_url = mobile.url

        desktop = browser.new_context(**DESKTOP, locale="es-ES")
        firm = desktop.new_page()
        _login(firm, live_server, world.staff)
        expect(firm.get_by_test_id("unread-messages")).to_have_text("1")
        firm.get_by_role("link", name="Mensajes").click()
        firm.get_by_role("link", name="¿Qué falta para presentar la renta?").click()
        firm.get_by_label("Mensaje").fill("Falta el certificado de retenciones de la empresa.")
        firm.get_by_role("button", name="Responder").click()
        expect(firm.get_by_test_id("message")).to_have_count(2)
        expect(firm.get_by_test_id("unread-messages")).to_have_count(0)
        desktop.close()

        # the firm's answer reached the client's mailbox with a reply address of the thread
        address = _reply_to(Path(app.config["OUTBOX_DIR"]), world.client_a.email)
        assert address.startswith("reply-") and address.endswith("@" + DOMAIN)
        reply = EmailMessage()
        reply["From"] = world.client_a.email
        reply["To"] = address
        reply["Subject"] = "Re: ¿Qué falta para presentar la renta?"
        reply["Message-ID"] = make_msgid(domain="example.com")
        reply.set_content(
            "Lo subo esta tarde, gracias.\n\n"
            "El lun, 1 dic 2026 a las 10:00, Portal <no-reply@portal.local> escribió:\n"
            "> Falta el certificado de retenciones de la empresa.\n"
        )
        with smtplib.SMTP(receiver.hostname, receiver.port, timeout=30) as smtp:
            smtp.send_message(reply)

        mobile.goto(thread_url)
        messages = mobile.get_by_test_id("message")
        expect(messages).to_have_count(3)
        expect(messages.nth(1)).to_contain_text("Falta el certificado de retenciones")
        expect(messages.nth(2)).to_contain_text("Lo subo esta tarde, gracias.")
        expect(messages.nth(2)).to_contain_text("por e-mail")
        expect(messages.nth(2)).not_to_contain_text("escribió")
        expect(messages.nth(0)).to_contain_text("Leído por")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        phone.close()
    finally:
        receiver.stop()
