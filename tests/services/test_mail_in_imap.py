"""E-mail in by IMAP polling, against a real Dovecot on loopback (tests/imap_testing.py).

Messages are put in the mailbox as a provider delivers them (IMAP APPEND); the beat task
polls it: each message goes through the same service as the SMTP receiver, is committed, then
moved to the done folder (refused ones flagged, their sender told why), so none is handled
twice, even when the poll dies between storing and moving.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from imap_testing import PASSWORD, USER, Dovecot
from imap_tools import MailBoxUnencrypted
from sqlalchemy import func, select


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app, dovecot) -> Iterator[MailBoxUnencrypted]:
    app.config.update(
        MAIL_IN_IMAP_HOST="127.0.0.1",
        MAIL_IN_IMAP_PORT=dovecot.port,
        MAIL_IN_IMAP_USER=USER,
        MAIL_IN_IMAP_PASSWORD=PASSWORD,
        MAIL_IN_IMAP_SSL=False,
        MAIL_IN_DOMAIN="portal.test",
    )
    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(USER, PASSWORD) as box:
        for folder in ("INBOX", "Procesados"):
            if box.folder.exists(folder):
                box.folder.set(folder)
                box.delete(box.uids())
        box.folder.set("INBOX")
        yield box


def _mail(sender: str, to: str, text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Renta 2025"
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return bytes(message)


def _left(box: MailBoxUnencrypted) -> list[str]:
    """What the poll left in the inbox, as a new look at it sees it."""
    box.folder.set("INBOX")
    return box.uids()


def _poll() -> int:
    from app.tasks.mail_in import poll_mail_in

    return int(poll_mail_in())


def _bodies(thread_id: str) -> list[str]:
    from app.extensions import db
    from app.models import Message

    db.session.expire_all()
    return list(
        db.session.execute(
            select(Message.body).where(Message.thread_id == thread_id).order_by(Message.created_at)
        ).scalars()
    )


def _audits(action: str) -> int:
    from app.extensions import db
    from app.models import AuditEvent

    return db.session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    ).scalar_one()


def test_polled_mail_is_handled_once_and_moved_out_of_the_inbox(app, world, mailbox):
    from app.extensions import db
    from app.models import OutboxMail
    from app.services import conversations, mail_addresses

    thread = conversations.create_thread(
        world.staff, world.space_a.id, subject="Renta 2025", body="¿Nos envía la nómina?"
    )
    address = mail_addresses.reply_address(thread, world.client_a)
    db.session.commit()
    reply = _mail(world.client_a.email, address, "Aquí la tiene.\n\n> ¿Nos envía la nómina?\n")
    mailbox.append(reply, "INBOX")
    mailbox.append(reply, "INBOX")  # delivered twice
    mailbox.append(_mail(world.client_b.email, address, "Soy Ana, de verdad."), "INBOX")
    auto = _mail(world.client_a.email, address, "Vuelvo el lunes.", Auto_Submitted="auto-replied")
    mailbox.append(auto, "INBOX")
    spam = _mail("premios@example.com", "reply-inventado@portal.test", "Ha ganado")
    mailbox.append(spam, "INBOX")  # refused, but its forged sender is not answered
    refused_before = _audits("mail_refused")

    assert _poll() == 5
    assert _bodies(thread.id) == ["¿Nos envía la nómina?", "Aquí la tiene."]
    assert _audits("mail_refused") == refused_before + 2
    bounces = [
        m for m in db.session.execute(select(OutboxMail)).scalars() if "recibido" in m.subject
    ]
    assert [b.to for b in bounces] == [[world.client_b.email]]
    assert "Solo puede responder" in bounces[0].body_text
    assert _left(mailbox) == []  # nothing left for the next poll
    mailbox.folder.set("Procesados")
    done = list(mailbox.fetch(mark_seen=False))
    assert len(done) == 5
    assert sum("\\Flagged" in m.flags for m in done) == 2  # the refused ones, for a person

    # The poll died after storing the reply and before moving it: it is back in the inbox.
    mailbox.copy(done[0].uid, "INBOX")
    assert _poll() == 1
    assert _bodies(thread.id) == ["¿Nos envía la nómina?", "Aquí la tiene."]
    assert _left(mailbox) == []


def test_an_oversized_polled_mail_is_refused_without_being_fetched(app, world, mailbox):
    from app.extensions import db
    from app.models import OutboxMail
    from app.services import conversations, mail_addresses

    thread = conversations.create_thread(world.staff, world.space_a.id, subject="R", body="¿?")
    address = mail_addresses.reply_address(thread, world.client_a)
    db.session.commit()
    app.config["MAIL_IN_MAX_BYTES"] = 64 * 1024
    mailbox.append(_mail(world.client_a.email, address, "x" * 100_000), "INBOX")
    assert _poll() == 1
    assert _bodies(thread.id) == ["¿?"]
    bounces = [
        mail
        for mail in db.session.execute(select(OutboxMail)).scalars()
        if "demasiado grande" in mail.body_text
    ]
    assert [bounce.to for bounce in bounces] == [[world.client_a.email]]
    assert _left(mailbox) == []
