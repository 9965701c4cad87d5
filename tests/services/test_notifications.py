"""Notifications by e-mail over a real SMTP server on loopback, and the daily digest."""

from __future__ import annotations

import email
import io
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from portal_testing import make_app, pdf_bytes


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_review_mail_reaches_the_right_people_with_a_safe_subject(
    tmp_path, database_url, world, smtp
):
    from app.extensions import db
    from app.services import documents, mail
    from app.services.errors import ValidationFailed

    port, inbox = smtp
    smtp_app = make_app(tmp_path, database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    with smtp_app.app_context():
        staff = db.session.merge(world.staff)
        # A title with a line break is refused outright (nothing stored, nothing mailed)...
        with pytest.raises(ValidationFailed):
            documents.upload_document(
                staff,
                world.space_a.id,
                io.BytesIO(pdf_bytes("x")),
                filename="plano.pdf",
                title='Plano <B> & "C"\r\nBcc: intruso@example.com',
            )
        db.session.rollback()
        # ...and one that breaks the line another way still makes a one-line subject.
        documents.upload_document(
            staff,
            world.space_a.id,
            io.BytesIO(pdf_bytes("x")),
            filename="plano.pdf",
            title='Plano <B> & "C"\u2028Bcc: intruso@example.com',
        )
        db.session.commit()  # the delivery job runs after the commit
        mail.deliver_pending()
        db.session.commit()
    about_plan = [(rcpt, m) for rcpt, m in inbox.messages if "Plano" in m["Subject"]]
    assert sorted(r for rcpt, _ in about_plan for r in rcpt) == [world.client_a.email]
    _, message = about_plan[0]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert 'Plano <B> & "C"' in message["Subject"]
    assert message["Bcc"] is None and "intruso" not in message["To"]
    html = message.get_body(("html",)).get_content()
    assert "&lt;B&gt; &amp;" in html and "<B>" not in html


def test_daily_digest_sends_one_mail_listing_everything(app, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail
    from app.services import documents, mail, notifications

    notifications.set_email_mode(world.client_a, "daily")
    db.session.commit()
    for n in range(3):
        documents.upload_document(
            world.staff,
            world.space_a.id,
            io.BytesIO(b"x"),
            filename=f"doc{n}.pdf",
            title=f"Documento {n}",
        )
    db.session.commit()
    def mine():
        rows = db.session.execute(select(OutboxMail)).scalars()
        return [m for m in rows if world.client_a.email in m.to]

    already = {m.id for m in mine()}
    assert [m for m in mine() if "Documento" in m.subject] == []
    assert notifications.send_daily_digests() == 1
    assert notifications.send_daily_digests() == 0  # nothing new: no second digest
    db.session.commit()
    digests = [m for m in mine() if m.id not in already]
    assert len(digests) == 1
    assert all(f"Documento {n}" in digests[0].body_text for n in range(3))
    mail.deliver_pending()


def test_people_who_turned_mail_off_still_see_the_bell(app, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail
    from app.services import documents, notifications

    notifications.set_email_mode(world.client_a, "off")
    db.session.commit()
    before = notifications.unread_count(world.client_a)
    documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(b"x"), filename="a.pdf", title="Aviso"
    )
    db.session.commit()
    assert notifications.unread_count(world.client_a) == before + 1
    assert not [
        m
        for m in db.session.execute(select(OutboxMail)).scalars()
        if world.client_a.email in m.to and "Aviso" in m.subject
    ]
    notifications.mark_all_read(world.client_a)
    db.session.commit()
    assert notifications.unread_count(world.client_a) == 0
