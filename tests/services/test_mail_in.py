"""E-mail in through the real receiver (aiosmtpd) on loopback, sent with smtplib.

Replies from Gmail, Outlook and HTML-only mailers, in other charsets, become messages without
their quoted history; documents sent to a space's inbox land there; everything else is refused
with a reason the sender's server can bounce, audited, and nothing of it is stored.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def receiver(app) -> Iterator[int]:
    from app.mail_receiver import build_receiver

    port = _free_port()
    controller = build_receiver(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def thread(app, world):
    from app.extensions import db
    from app.services import conversations

    created = conversations.create_thread(
        world.staff, world.space_a.id, subject="Renta 2025", body="¿Nos envía la nómina?"
    )
    db.session.commit()
    return created


def _reply_address(thread, user) -> str:
    from app.extensions import db
    from app.services import mail_addresses

    address = mail_addresses.reply_address(thread, user)
    db.session.commit()
    return address


def _send(port: int, message, to: str, sender: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message, from_addr=sender or message["From"], to_addrs=[to])


def _messages(thread_id: str) -> list:
    from app.extensions import db
    from app.models import Message

    db.session.expire_all()
    return list(
        db.session.execute(
            select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at)
        ).scalars()
    )


def _refusals() -> int:
    from app.extensions import db
    from app.models import AuditEvent

    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mail_refused")
    ).scalar_one()


def _plain(sender: str, to: str, subject: str, text: str, charset: str = "utf-8") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(text, charset=charset)
    return message


GMAIL = """Sí, la tengo: se la mando esta tarde.

El lun, 1 dic 2026 a las 10:00, Portal <no-reply@portal.local> escribió:
> ¿Nos envía la nómina?
>
"""

OUTLOOK = """Adjunto la nómina de marzo.

Un saludo,
Ana Ruiz

________________________________
De: Portal <no-reply@portal.local>
Enviado: lunes, 1 de diciembre de 2026 10:00
Para: Ana Ruiz
Asunto: Renta 2025

¿Nos envía la nómina?
"""


def test_a_gmail_reply_becomes_a_message_without_the_quoted_history(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    _send(receiver, _plain(world.client_a.email, address, "Re: Renta 2025", GMAIL), address)
    messages = _messages(thread.id)
    assert [m.body for m in messages][-1] == "Sí, la tengo: se la mando esta tarde."
    assert messages[-1].author_id == world.client_a.id and messages[-1].source == "email"


def test_an_outlook_reply_in_latin_1_with_an_attachment(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    message = _plain(world.client_a.email, address, "RE: Renta 2025", OUTLOOK, charset="iso-8859-1")
    message.add_attachment(
        b"%PDF-1.4 nomina", maintype="application", subtype="pdf", filename="nómina-marzo.pdf"
    )
    _send(receiver, message, address)
    last = _messages(thread.id)[-1]
    assert last.body.startswith("Adjunto la nómina de marzo.")
    assert "De: Portal" not in last.body and "¿Nos envía" not in last.body
    from app.extensions import db
    from app.models import Document

    document = db.session.get(Document, last.attachments[0])
    assert document.space_id == world.space_a.id and document.visibility == "shared"


def test_an_html_only_reply_is_read_as_text(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    message = MIMEMultipart("alternative")
    message["From"] = world.client_a.email
    message["To"] = address
    message["Subject"] = "Re: Renta 2025"
    message["Message-ID"] = make_msgid()
    message.attach(
        MIMEText(
            "<html><body><p>Enviada &amp; firmada.</p>"
            "<blockquote>¿Nos envía la nómina?</blockquote></body></html>",
            "html",
            "utf-8",
        )
    )
    _send(receiver, message, address)
    assert _messages(thread.id)[-1].body == "Enviada & firmada."


def test_a_spoofed_sender_is_refused_audited_and_nothing_is_stored(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    before, refusals = len(_messages(thread.id)), _refusals()
    for sender in (world.client_b.email, "intruso@example.com"):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _send(receiver, _plain(sender, address, "Re: Renta", "Soy Ana"), address)
        assert refused.value.smtp_code == 550
        assert b"Solo puede responder" in refused.value.smtp_error
    assert len(_messages(thread.id)) == before
    assert _refusals() == refusals + 2


def test_expired_and_unknown_reply_addresses_are_refused(app, world, thread, receiver):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.models import ReplyToken

    address = _reply_address(thread, world.client_a)
    token = db.session.execute(select(ReplyToken)).scalars().all()[-1]
    token.expires_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    with pytest.raises(smtplib.SMTPDataError) as expired:
        _send(receiver, _plain(world.client_a.email, address, "Re", "hola"), address)
    assert b"caducado" in expired.value.smtp_error
    forged = "reply-aaaaaaaaaaaaaaaaaaaaaaaa@localhost"
    with pytest.raises(smtplib.SMTPDataError):
        _send(receiver, _plain(world.client_a.email, forged, "Re", "hola"), forged)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(
            receiver, _plain(world.client_a.email, "x@otro.example", "Re", "hola"), "x@otro.example"
        )


def test_the_same_delivery_twice_is_stored_once_and_auto_replies_are_never_answered(
    app, world, thread, receiver
):
    address = _reply_address(thread, world.client_a)
    message = _plain(world.client_a.email, address, "Re: Renta", "Una sola vez")
    _send(receiver, message, address)
    _send(receiver, message, address)
    assert [m.body for m in _messages(thread.id)].count("Una sola vez") == 1
    auto = _plain(world.client_a.email, address, "Fuera de la oficina", "Vuelvo el lunes")
    auto["Auto-Submitted"] = "auto-replied"
    _send(receiver, auto, address)
    bounce = _plain("MAILER-DAEMON@example.com", address, "Undelivered", "fallo")
    _send(receiver, bounce, address, sender="")
    bodies = [m.body for m in _messages(thread.id)]
    assert "Vuelvo el lunes" not in bodies and "fallo" not in bodies


def test_documents_sent_to_a_space_inbox_land_there_or_fill_the_item(app, world, receiver):
    from app.extensions import db
    from app.models import Document, RequestItem
    from app.services import mail_addresses

    address = f"{mail_addresses.inbox_local(world.space_a.id)}@localhost"
    item = (
        db.session.execute(
            select(RequestItem).where(
                RequestItem.request_id == world.request.id, RequestItem.status == "pending"
            )
        )
        .scalars()
        .first()
    )
    message = _plain(world.client_a.email, address, item.title, "Adjunto")
    message.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="doc.pdf")
    count = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
    _send(receiver, message, address)
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == count + 1
    assert db.session.get(RequestItem, item.id).status == "submitted"

    stranger = _plain(world.client_b.email, address, "Factura", "Adjunto")
    stranger.add_attachment(b"%PDF-1.4 y", maintype="application", subtype="pdf", filename="f.pdf")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(receiver, stranger, address)
    assert b"personas del espacio" in refused.value.smtp_error
    forged_inbox = f"inbox-{world.space_a.id}-aaaaaaaaaaaaaaaa@localhost"
    with pytest.raises(smtplib.SMTPDataError):
        _send(receiver, _plain(world.client_a.email, forged_inbox, "x", "x"), forged_inbox)


def test_oversized_mail_and_refused_file_types_store_nothing(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    app.config["MAIL_IN_MAX_BYTES"] = 1024 * 1024
    big = _plain(world.client_a.email, address, "Re", "grande")
    big.add_attachment(
        b"\0" * (2 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="a.bin"
    )
    before = len(_messages(thread.id))
    with pytest.raises(
        (smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPServerDisconnected)
    ):
        _send(receiver, big, address)
    app.config["MAIL_IN_MAX_BYTES"] = 30 * 1024 * 1024
    exe = _plain(world.client_a.email, address, "Re", "programa")
    exe.add_attachment(
        b"MZ\x90\x00" + b"\0" * 200,
        maintype="application",
        subtype="octet-stream",
        filename="virus.exe",
    )
    with pytest.raises(smtplib.SMTPDataError):
        _send(receiver, exe, address)
    assert len(_messages(thread.id)) == before
