"""E-mail: queued in the outbox table with the transaction, delivered by a job."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail
from app.services.runtime import enqueue_after_commit, setting

DELIVER_TASK = "portal.deliver_mail"


def queue_mail(
    to: list[str],
    template: str,
    locale: str = "es",
    *,
    reply_to: str | None = None,
    **context: object,
) -> OutboxMail:
    """Render ``templates/emails/<template>.{subject,txt,html}`` and queue it."""
    with force_locale(locale):
        context.setdefault("firm_name", setting("FIRM_NAME"))
        context.setdefault("base_url", setting("BASE_URL"))
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    mail = OutboxMail(
        to=to,
        subject=" ".join(subject.split()),
        body_text=text,
        body_html=html,
        reply_to=reply_to,
    )
    db.session.add(mail)
    db.session.flush()
    enqueue_after_commit(DELIVER_TASK)
    return mail


def _message(mail: OutboxMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = setting("MAIL_FROM")
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="portal.local")
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    # Automatic mail: an auto-responder must not answer it (RFC 3834), so no loops.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


def deliver_pending(limit: int = 100) -> int:
    """Send queued mail over SMTP, or write ``.eml`` files in embedded mode."""
    rows = db.session.execute(
        select(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < 10)
        .order_by(OutboxMail.created_at)
        .limit(limit)
    ).scalars()
    sent = 0
    host = setting("SMTP_HOST")
    for mail in rows:
        message = _message(mail)
        mail.attempts += 1
        try:
            if host:
                with smtplib.SMTP(host, int(setting("SMTP_PORT")), timeout=30) as smtp:
                    if setting("SMTP_STARTTLS"):
                        smtp.starttls()
                    if setting("SMTP_USER"):
                        smtp.login(setting("SMTP_USER"), setting("SMTP_PASSWORD"))
                    smtp.send_message(message)
            else:
                outbox = Path(setting("OUTBOX_DIR"))
                outbox.mkdir(parents=True, exist_ok=True)
                (outbox / f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id}.eml").write_bytes(
                    bytes(message)
                )
        except (OSError, smtplib.SMTPException) as exc:
            mail.last_error = str(exc)[:500]
            continue
        mail.sent_at = datetime.now(UTC)
        sent += 1
    db.session.flush()
    return sent
