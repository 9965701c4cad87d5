"""E-mail in through the real receiver (aiosmtpd) on loopback, sent with smtplib.

Replies from Gmail, Outlook and HTML-only mailers, in other charsets, become messages without
their quoted history; documents sent to a space's inbox land there; everything else is refused
with a reason the sender's server can bounce, audited, and nothing of it is stored.
"""

from __future__ import annotations

import io
import smtplib
import tracemalloc
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

import pytest
from portal_testing import _free_port
from sqlalchemy import func, select


@pytest.fixture
def receiver(app) -> Iterator[int]:
    from app.mail_receiver import build_receiver

    port = _free_port()
    controller = build_receiver(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()
    # every message spooled to disk while received is gone, stored or refused
    from pathlib import Path

    spool = Path(app.config["DATA_DIR"]) / "mail-in"
    assert [p for p in spool.rglob("*") if p.name != "incoming"] == []


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
        smtp.send_message(
            message, from_addr=message["From"] if sender is None else sender, to_addrs=[to]
        )


def _messages(thread_id: str) -> list:
    from app.extensions import db
    from app.models import Message

    db.session.expire_all()
    return list(
        db.session.execute(
            select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at)
        ).scalars()
    )


def _refusals(action: str = "mail_refused") -> int:
    from app.extensions import db
    from app.models import AuditEvent

    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    ).scalar_one()


def _last_audit(action: str) -> dict:
    from app.extensions import db
    from app.models import AuditEvent

    db.session.expire_all()
    event = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )
    return dict(event.details)


def _counts(app) -> tuple[int, ...]:
    """Documents, versions, messages and blob files: what a refused e-mail must not leave."""
    from pathlib import Path

    from app.extensions import db
    from app.models import Document, DocumentVersion, Message

    db.session.expire_all()
    rows = [
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Document, DocumentVersion, Message)
    ]
    blobs = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    return (*rows, sum(1 for p in blobs.rglob("*") if p.is_file()))


def _inbox(world) -> str:
    from app.services import mail_addresses

    return f"{mail_addresses.inbox_local(world.space_a.id)}@localhost"


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


def test_an_outlook_reply_with_its_original_message_line_keeps_only_what_was_written(
    app, world, thread, receiver
):
    address = _reply_address(thread, world.client_a)
    body = (
        "Adjunto lo pedido.\n\n-----Mensaje original-----\nDe: Portal <no-reply@portal.local>\n"
        "Enviado el: lunes, 1 de diciembre de 2026 10:00\nPara: Ana Ruiz\nAsunto: Renta 2025\n\n"
        "¿Nos envía la nómina?\n"
    )
    _send(receiver, _plain(world.client_a.email, address, "RE: Renta 2025", body), address)
    assert _messages(thread.id)[-1].body == "Adjunto lo pedido."


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
    from app.services import mail_addresses

    address = _reply_address(thread, world.client_a)
    token = mail_addresses.reply_token(address.split("@")[0])
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


FORWARDED = """Mira lo que me ha llegado del banco:

---------- Mensaje reenviado ---------
De: Banco <avisos@banco.es>
Date: lun, 1 dic 2026 a las 9:00
Subject: Certificado de retenciones
To: <ana@ferreteria.es>

Adjuntamos su certificado de retenciones de 2025.
"""


def test_a_forwarded_message_keeps_what_was_forwarded(app, world, thread, receiver):
    """Into a thread, the forwarded text stays; to an inbox, the files inside a forwarded
    e-mail (Outlook's "forward as attachment") become documents."""
    from app.extensions import db
    from app.models import DocumentVersion

    address = _reply_address(thread, world.client_a)
    _send(receiver, _plain(world.client_a.email, address, "Fwd: Certificado", FORWARDED), address)
    body = _messages(thread.id)[-1].body
    assert body.startswith("Mira lo que me ha llegado del banco:")
    assert body.endswith("Adjuntamos su certificado de retenciones de 2025.")

    bank = _plain("avisos@banco.es", "ana@ferreteria.es", "Certificado", "Adjuntamos…")
    bank.add_attachment(
        b"%PDF-1.4 retenciones", maintype="application", subtype="pdf", filename="retenciones.pdf"
    )
    inbox = _inbox(world)
    forward = _plain(world.client_a.email, inbox, "RV: Certificado", "Os lo reenvío.")
    forward.add_attachment(bank)  # message/rfc822
    _send(receiver, forward, inbox)
    db.session.expire_all()
    names = [v.filename for v in db.session.execute(select(DocumentVersion)).scalars()]
    assert "retenciones.pdf" in names


def test_a_reply_in_windows_1252(app, world, thread, receiver):
    address = _reply_address(thread, world.client_a)
    text = "Le envío el “modelo 303”: 1.250 € a ingresar.\n\nEl lun, 1 dic 2026 a las 10:00, Portal escribió:\n> ¿Y el 303?\n"
    _send(
        receiver, _plain(world.client_a.email, address, "Re", text, charset="windows-1252"), address
    )
    assert _messages(thread.id)[-1].body == "Le envío el “modelo 303”: 1.250 € a ingresar."


def test_a_zip_bomb_is_stored_as_the_file_it_is_never_expanded(app, world, receiver):
    """A ZIP is a document like any other: kept as sent, never opened, so the e-mail costs
    what it weighs (here 100 KB that would expand to 100 MB)."""
    from app.extensions import db
    from app.models import DocumentVersion

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("facturas.pdf", bytes(100 * 1024 * 1024))
    bomb = packed.getvalue()
    assert len(bomb) < 200 * 1024
    message = _plain(world.client_a.email, _inbox(world), "Facturas", "Todas juntas")
    message.add_attachment(bomb, maintype="application", subtype="zip", filename="facturas.zip")
    tracemalloc.start()
    try:
        _send(receiver, message, _inbox(world))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    db.session.expire_all()
    version = db.session.execute(
        select(DocumentVersion).where(DocumentVersion.filename == "facturas.zip")
    ).scalar_one()
    assert version.size == len(bomb)


def test_a_subject_with_a_line_break_is_kept_as_one_line(app, world, receiver):
    """CR/LF inside an encoded word cannot start a header anywhere the subject goes."""
    from app.extensions import db
    from app.models import DocumentVersion, OutboxMail

    inbox = _inbox(world)
    message = _plain(world.client_a.email, inbox, "PLACEHOLDER", "Adjunto")
    message.add_attachment(b"%PDF-1.4 f", maintype="application", subtype="pdf", filename="f.pdf")
    raw = bytes(message).replace(  # as the sender's program wrote it, byte for byte
        b"PLACEHOLDER", b"=?utf-8?q?Factura=0D=0ABcc=3A_victima=40example=2Ecom?="
    )
    with smtplib.SMTP("127.0.0.1", receiver, timeout=30) as smtp:
        smtp.sendmail(world.client_a.email, [inbox], raw)
    db.session.expire_all()
    version = db.session.execute(
        select(DocumentVersion).where(DocumentVersion.filename == "f.pdf")
    ).scalar_one()
    note = version.note or ""
    assert "Factura Bcc: victima@example.com" in note and "\r" not in note and "\n" not in note
    for mail in db.session.execute(select(OutboxMail)).scalars():
        assert "victima" not in " ".join(mail.to) and "\n" not in mail.subject


@pytest.mark.parametrize(
    ("header", "value", "sender"),
    [
        ("Auto-Submitted", "auto-replied", None),
        ("Precedence", "bulk", None),
        ("X-Autoreply", "yes", None),
        ("Subject", "Undelivered Mail Returned to Sender", ""),  # a bounce: empty Return-Path
    ],
)
def test_loops_are_dropped_audited_and_never_answered(
    app, world, thread, receiver, header, value, sender
):
    from app.extensions import db
    from app.models import OutboxMail

    address = _reply_address(thread, world.client_a)
    message = _plain(world.client_a.email, address, "Fuera de la oficina", "Vuelvo el lunes")
    del message[header]
    message[header] = value
    before, ignored = _counts(app), _refusals("mail_ignored")
    outbox = db.session.execute(select(func.count()).select_from(OutboxMail)).scalar_one()
    _send(receiver, message, address, sender=sender)  # accepted (250): nothing to bounce
    assert _counts(app) == before
    assert _refusals("mail_ignored") == ignored + 1
    assert _last_audit("mail_ignored")["reason"] == "automatic"
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(OutboxMail)).scalar_one() == outbox


MISSING_BOUNDARY = (
    'Content-Type: multipart/mixed; boundary="nunca-aparece"\r\n\r\n'
    "--otro\r\nContent-Type: text/plain\r\n\r\nHola\r\n"
)
BROKEN_BASE64 = (
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nAdjunto\r\n"
    "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    'Content-Disposition: attachment; filename="a.pdf"\r\n\r\nJVBERi0xLjQg*%$!bm9t=a\r\n--b--\r\n'
)


@pytest.mark.parametrize("body", [MISSING_BOUNDARY, BROKEN_BASE64], ids=["boundary", "base64"])
def test_malformed_mime_is_refused_audited_and_nothing_is_stored(app, world, receiver, body):
    inbox = _inbox(world)
    raw = (
        f"From: {world.client_a.email}\r\nTo: {inbox}\r\nSubject: Roto\r\n"
        f"Message-ID: <roto-{len(body)}@example.com>\r\nMIME-Version: 1.0\r\n{body}"
    )
    before, refusals = _counts(app), _refusals()
    with smtplib.SMTP("127.0.0.1", receiver, timeout=30) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail(world.client_a.email, [inbox], raw.encode())
    assert refused.value.smtp_code == 550 and b"mal formado" in refused.value.smtp_error
    assert _counts(app) == before
    assert _refusals() == refusals + 1 and _last_audit("mail_refused")["reason"] == "malformed"


def test_a_reply_from_someone_who_no_longer_sees_the_thread_is_refused(
    app, world, thread, receiver
):
    """The address still names the person, but they left the space: nothing is posted."""
    from app.extensions import db
    from app.services import clients

    address = _reply_address(thread, world.client_a)
    clients.remove_member(world.staff, world.space_a.id, world.client_a.id)
    db.session.commit()
    before, refusals = _counts(app), _refusals()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(receiver, _plain(world.client_a.email, address, "Re", "¿Sigo aquí?"), address)
    assert refused.value.smtp_code == 550
    assert "ya no tiene acceso" in refused.value.smtp_error.decode()
    assert _counts(app) == before
    assert _refusals() == refusals + 1 and _last_audit("mail_refused")["reason"] == "no_access"


def test_control_characters_in_message_id_or_sender_never_reach_the_database(
    app, world, thread, receiver
):
    from app.extensions import db
    from app.models import InboundMail

    address = _reply_address(thread, world.client_a)
    raw = (
        f"From: {world.client_a.email}\r\nTo: {address}\r\nSubject: Re: Renta\r\n"
        "Message-ID: <uno\x00dos@example.com>\r\n\r\nCon un NUL en el Message-ID\r\n"
    ).encode()
    forged = (
        f"From: ana\x00{world.client_a.email}\r\nTo: {address}\r\nSubject: Re: Renta\r\n"
        "Message-ID: <tres@example.com>\r\n\r\nCon un NUL en el remitente\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", receiver, timeout=30) as smtp:
        smtp.sendmail(world.client_a.email, [address], raw)
        smtp.sendmail(world.client_a.email, [address], raw)  # the same delivery again
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail(world.client_a.email, [address], forged)
    assert refused.value.smtp_code == 550
    bodies = [m.body for m in _messages(thread.id)]
    assert bodies.count("Con un NUL en el Message-ID") == 1
    assert "Con un NUL en el remitente" not in bodies
    stored = db.session.execute(select(InboundMail.message_id)).scalars().all()
    assert stored and not any("\x00" in value for value in stored)
    assert "\x00" not in str(_last_audit("mail_refused"))


@pytest.mark.parametrize(
    ("results", "stored"),
    [
        ("mx.portal.test; spf=fail smtp.mailfrom=example.com; dkim=fail", False),
        ("mx.portal.test; spf=fail smtp.mailfrom=example.com; dkim=none", False),
        ("mx.portal.test; spf=softfail; dkim=none; dmarc=fail header.from=example.com", False),
        ("mx.portal.test; spf=fail smtp.mailfrom=example.com; dkim=pass", True),
        ("mx.portal.test; spf=pass smtp.mailfrom=example.com; dkim=none", True),
    ],
)
def test_a_sender_the_receiving_server_could_not_verify_is_refused_as_spoofed(
    app, world, thread, receiver, results, stored
):
    address = _reply_address(thread, world.client_a)
    message = _plain(world.client_a.email, address, "Re: Renta", f"Soy Ana ({results})")
    message["Authentication-Results"] = results
    if stored:
        _send(receiver, message, address)
    else:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _send(receiver, message, address)
        assert refused.value.smtp_code == 550
        assert _last_audit("mail_refused")["reason"] == "spoofed"
    assert (f"Soy Ana ({results})" in [m.body for m in _messages(thread.id)]) is stored
