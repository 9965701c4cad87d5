"""``portal mail-in``: the inbound SMTP receiver (aiosmtpd) for replies and e-mailed documents.

It accepts mail only for the portal's domain, reads each message once and hands it to
``app.services.mail_in.receive`` inside the application; the answer the sending server gets
is the outcome: 250 when stored (or dropped as a loop or a duplicate), 550/552 with the
reason otherwise, which that server turns into a bounce to the sender.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)


class PortalHandler:
    """aiosmtpd handler: recipients of our domain only; each message received in the app."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        from app.services import mail_addresses

        with self.app.app_context():
            domain = mail_addresses.mail_domain()
        if address.rpartition("@")[2].lower() != domain:
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else str(content).encode()
        return self.deliver(raw, list(envelope.rcpt_tos), envelope.mail_from)

    def deliver(self, raw: bytes, recipients: list[str], envelope_sender: str | None) -> str:
        from app.services import mail_in

        with self.app.app_context():
            try:
                outcome = mail_in.receive(
                    raw, recipients=recipients, envelope_sender=envelope_sender
                )
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("inbound mail from %s could not be stored", envelope_sender)
                return "451 4.3.0 Temporary failure, try again later"
            finally:
                db.session.remove()
        if outcome.accepted:
            return "250 OK"
        reason = " ".join(outcome.reason.split())[:400]
        status = "5.3.4" if outcome.smtp_code == 552 else "5.7.1"
        return f"{outcome.smtp_code} {status} {reason}"


def build_receiver(app: Flask, host: str, port: int) -> Controller:
    """The receiver, not started; ``start()`` serves it in a thread, ``stop()`` ends it."""
    limit = int(app.config["MAIL_IN_MAX_BYTES"])
    return Controller(
        PortalHandler(app), hostname=host, port=port, data_size_limit=limit, decode_data=False
    )
