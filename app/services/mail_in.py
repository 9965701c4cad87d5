"""E-mail in: a reply to a thread becomes a message; documents sent to a space's inbox land there.

``receive`` takes one e-mail as it arrived (bytes, the SMTP envelope) and either stores it
whole or refuses it with a reason the sending server turns into a bounce; nothing is ever
half-stored. Loops are never answered: automatic replies and bounces (RFC 3834 headers, an
empty envelope sender) are accepted and dropped. A second delivery of the same Message-ID is
stored once. Every refusal is audited.

The sender must be the person the reply token was issued to (or, for an inbox, a member of
the space who may add documents, or the firm's staff). When the receiving server recorded
that DMARC failed, or SPF failed with no DKIM signature that passed, for the From address,
the message is refused as spoofed.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import functools
import html
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import DocumentRequest, InboundMail, Permission, RequestItem
from app.models.base import as_utc
from app.services import (
    audit,
    conversations,
    documents,
    mail_addresses,
    mail_spool,
    requests,
)
from app.services.access import space_permission
from app.services.accounts import find_user_by_email
from app.services.errors import DomainError, NotFound
from app.services.runtime import setting

MAX_ATTACHMENTS = 10
_LOOP_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply)@", re.I)


@dataclass
class Outcome:
    """What happened to one e-mail: stored, dropped (a loop, a duplicate) or refused (why)."""

    status: str  # stored | duplicate | loop | refused
    reason: str = ""
    smtp_code: int = 250
    stored: list[str] = field(default_factory=list)
    sender: str = ""
    #: A refusal worth a bounce to ``sender`` (not for forged senders: they are someone else).
    tell_sender: bool = False

    @property
    def accepted(self) -> bool:
        return self.status != "refused"


class Refused(DomainError):
    """An e-mail the portal will not take; ``smtp_code`` is what the sender's server is told."""

    def __init__(self, reason: str, smtp_code: int = 550, audit_reason: str = "") -> None:
        super().__init__(reason)
        self.smtp_code = smtp_code
        self.audit_reason = audit_reason or reason


def address_of(value: str | None) -> str:
    """The bare address of a header value, lower-cased ("" when there is none, or when it
    carries control characters: nobody's address does, and no row or audit event may)."""
    address = parseaddr(value or "")[1].strip().lower()
    return "" if address != one_line(address) else address


def is_loop(message: EmailMessage, envelope_sender: str | None) -> bool:
    """Automatic mail that must never be answered (or it answers back, forever)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in _LOOP_PRECEDENCE:
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if envelope_sender is not None and envelope_sender.strip() in ("", "<>"):
        return True  # a bounce
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        return True
    return bool(_DAEMONS.match(address_of(message.get("From"))))


def _spoofed(message: EmailMessage) -> bool:
    """What the receiving server recorded says the From address is not the sender's: DMARC
    failed, or SPF failed with no DKIM signature that passed (most forged mail is not signed
    at all: dkim=none). A header the sender added cannot hide the server's own failures."""
    results = " ".join(str(v) for v in message.get_all("Authentication-Results", []) or []).lower()
    if "dmarc=fail" in results:
        return True
    return "spf=fail" in results and ("dkim=fail" in results or "dkim=pass" not in results)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "blockquote"):
            self.parts.append("\n")
        if tag == "blockquote":
            self.parts.append("> ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return html.unescape("".join(parser.parts))


def body_text(message: EmailMessage) -> str:
    """The message's text (the plain part, else the HTML one as text), in its own charset."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("latin-1", errors="replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        content = _html_to_text(str(content))
    return str(content)


#: The line a mail program puts above a forwarded message (Gmail, Outlook, Apple Mail, in
#: Spanish and English): what follows is what the person means to send, not a quote to cut.
_FORWARD_MARK = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|mensaje reenviado)[ \t]*-{2,}"
    r"|begin forwarded message:|inicio del mensaje reenviado:)[ \t]*$",
    re.I | re.M,
)


def reply_text(text: str) -> str:
    """Only what the person wrote: quoted history and signature removed (mail-parser-reply).

    A forwarded message is kept whole below what the person wrote above it.
    """
    text = text.replace("\r\n", "\n")
    forward = _FORWARD_MARK.search(text)
    if forward is not None:
        own = _reply_only(text[: forward.start()]) if forward.start() else ""
        return "\n\n".join(part for part in (own, text[forward.start() :].strip()) if part)
    return _reply_only(text)


def _reply_only(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    parsed = EmailReplyParser(languages=["es", "en"]).read(text=_before_original(text))
    latest = parsed.replies[0].body if parsed.replies else text
    return _without_quoted_tail(latest).strip() or text.strip()


#: The line Outlook puts above the message replied to: "-----Mensaje original-----",
#: "-----Original Message-----", or a row of underscores followed by its "De:"/"From:" line.
_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*(?:-{3,}[ \t]*(?:mensaje original|original message)[ \t]*-{3,}"
    r"|_{10,}[ \t]*\n[ \t]*(?:de|from):)",
    re.I | re.M,
)


def _before_original(text: str) -> str:
    """What comes before Outlook's "original message" line (mail-parser-reply misses the
    Spanish Outlook headers, "Enviado el:", and left the line and the header in the reply)."""
    found = _ORIGINAL_MESSAGE.search(text)
    return text[: found.start()] if found and found.start() else text


#: Gmail's Spanish header ("El lun, 1 dic 2026 a las 10:00, Ana <ana@…> escribió:"), which
#: mail-parser-reply does not know yet.
_QUOTE_HEADER = re.compile(r"^\s*El .{4,200}escribi[óo]:\s*$", re.I)


def _without_quoted_tail(text: str) -> str:
    """Cut a quoted block at the end: its header line, then only "> " lines or blank ones."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        rest = lines[index + 1 :]
        quoted_after = all(not r.strip() or r.lstrip().startswith(">") for r in rest)
        if (_QUOTE_HEADER.match(line) and quoted_after) or (
            line.lstrip().startswith(">") and quoted_after
        ):
            return "\n".join(lines[:index])
    return text


def _files(message: EmailMessage, depth: int = 0) -> Iterator[EmailMessage]:
    """The attached files, those of a forwarded e-mail (message/rfc822) included."""
    for part in message.iter_attachments():
        if part.get_content_type() == "message/rfc822" and depth < 3:
            inner = part.get_payload()
            for forwarded in inner if isinstance(inner, list) else [inner]:
                if isinstance(forwarded, EmailMessage):
                    yield from _files(forwarded, depth + 1)
        else:
            yield part


def attachments(
    message: EmailMessage, reading: _Reading | None = None
) -> list[conversations.Attachment]:
    """The message's files; those decoded to disk while reading it are streamed from there."""
    found = []
    for part in _files(message):
        spooled = mail_spool.spooled_file(part, reading.spooled) if reading else None
        stream: BinaryIO
        if spooled is not None and reading is not None:
            if not spooled.stat().st_size:
                continue
            stream = reading.files.enter_context(spooled.open("rb"))
        else:
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes) or not payload:
                continue
            stream = BytesIO(payload)
        name = part.get_filename() or f"adjunto.{part.get_content_subtype()}"
        found.append(conversations.Attachment(stream, name))
        if len(found) > MAX_ATTACHMENTS:
            raise Refused(_("Como mucho %(n)s archivos por e-mail.", n=MAX_ATTACHMENTS), 552)
    return found


@dataclass
class _Reading:
    """One e-mail being received: its skeleton's decoded files, open while it is stored."""

    spooled: mail_spool.Spooled
    files: ExitStack = field(default_factory=ExitStack)


#: Defects after which a message cannot be read as its sender wrote it: its parts run
#: together, or a file's bytes would be stored corrupt. Anything milder is read as it is.
_BROKEN = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64LengthDefect,
)


def _malformed(message: EmailMessage) -> bool:
    """A structure the parser had to guess at, or a file whose encoding is broken."""
    for part in message.walk():
        if any(isinstance(defect, _BROKEN) for defect in part.defects):
            return True
        if part.get_content_maintype() != "multipart" and part.get_filename():
            cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
            if cte == "base64" and _bad_base64(part):
                return True
    return False


def _bad_base64(part: EmailMessage) -> bool:
    import binascii

    payload = part.get_payload()
    if not isinstance(payload, str):
        return False
    try:
        binascii.a2b_base64("".join(payload.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return True
    return False


def one_line(text: str) -> str:
    """A header's text on one line: line breaks and other control characters become spaces."""
    return " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text).split())


def _our(recipient: str) -> str | None:
    local, _sep, domain = address_of(recipient).rpartition("@")
    if domain != mail_addresses.mail_domain():
        return None
    return local


def receive(
    raw: bytes | Path,
    *,
    recipients: list[str],
    envelope_sender: str | None = None,
    size: int | None = None,
) -> Outcome:
    """Store one e-mail whole, or refuse it; the caller commits (and on refusal, keeps the audit).

    ``raw``: the message as it arrived, or the file the receiver spooled it to. Its attached
    files are decoded to disk under the data directory and streamed to the store from there,
    so that a large one is never held in memory. ``size``: the message's whole size when
    ``raw`` holds only its headers (IMAP, a message too big to fetch).
    """
    if size is None:
        size = raw.stat().st_size if isinstance(raw, Path) else len(raw)
    if size > int(setting("MAIL_IN_MAX_BYTES")):
        head = _head(raw)
        return _refuse(
            one_line(head.get("Message-ID", ""))[:300],
            address_of(head.get("From")),
            Refused(_("El e-mail es demasiado grande."), 552, "too_large"),
        )
    folder = spool_folder() / secrets.token_hex(8)
    try:
        with raw.open("rb") if isinstance(raw, Path) else BytesIO(raw) as source:
            reading = _Reading(mail_spool.split(source, folder))
        with reading.files:
            return _receive(reading, recipients, envelope_sender)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spool_folder() -> Path:
    """Where e-mails being received are kept on disk (under the data directory)."""
    return Path(setting("DATA_DIR")) / "mail-in"


def _receive(reading: _Reading, recipients: list[str], envelope_sender: str | None) -> Outcome:
    try:
        message = email.message_from_bytes(reading.spooled.skeleton, policy=_POLICY)
        sender = address_of(str(message.get("From", "")))
        message_id = one_line(str(message.get("Message-ID", "")))[:300]
    except Exception:  # noqa: BLE001 - any parser failure is a malformed message
        return _refuse(None, "", Refused(_("El e-mail está mal formado."), 550, "malformed"))
    if not isinstance(message, EmailMessage) or not sender:
        return _refuse(
            None, sender, Refused(_("El e-mail no dice quién lo envía."), 550, "no_from")
        )
    if reading.spooled.broken or _malformed(message):
        return _refuse(
            message_id, sender, Refused(_("El e-mail está mal formado."), 550, "malformed")
        )
    if is_loop(message, envelope_sender):
        audit.record(
            "mail_ignored", None, None, sender=sender, reason="automatic", message_id=message_id
        )
        return Outcome("loop", "automatic message: not answered")
    if (
        message_id
        and db.session.execute(
            select(InboundMail.id).where(InboundMail.message_id == message_id)
        ).first()
    ):
        return Outcome("duplicate", "already received")
    try:
        if _spoofed(message):
            raise Refused(_("El remitente no está verificado."), 550, "spoofed")
        ours = [local for local in (_our(r) for r in recipients) if local]
        if not ours:
            raise Refused(_("Esa dirección no existe."), 550, "unknown_recipient")
        stored: list[str] = []
        for local in dict.fromkeys(ours):
            stored.extend(_deliver(local, message, sender, message_id, reading))
    except Refused as exc:
        db.session.rollback()
        return _refuse(message_id, sender, exc)
    except DomainError as exc:  # a refused file (type, size, quota) refuses the whole e-mail
        db.session.rollback()
        return _refuse(message_id, sender, Refused(exc.detail, 552 if exc.status == 413 else 550))
    if message_id:
        db.session.add(InboundMail(message_id=message_id, sender=sender, outcome="stored"))
    db.session.flush()
    return Outcome("stored", "", 250, stored)


class _Policy(email.policy.EmailPolicy):
    """The standard policy, but a header is parsed once per message rather than on every read.

    ``EmailMessage.get`` parses the header's text anew each time, and reading one message
    asks for Content-Type and the like some fifty times over its parts.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return _parsed_header(name, value)


@functools.lru_cache(maxsize=512)
def _parsed_header(name: str, value: str) -> Any:
    return email.policy.default.header_fetch_parse(name, value)


_POLICY = _Policy()


def _head(raw: bytes | Path) -> dict[str, str]:
    """From and Message-ID of a message's headers, for the audit of one refused unread."""
    from email.parser import BytesHeaderParser

    if isinstance(raw, Path):
        with raw.open("rb") as source:
            raw = source.read(64 * 1024)
    try:
        headers = BytesHeaderParser().parsebytes(raw[: 64 * 1024], headersonly=True)
        return {name: str(headers.get(name, "")) for name in ("From", "Message-ID")}
    except Exception:  # noqa: BLE001 - unreadable headers: audited without them
        return {}


def _refuse(message_id: str | None, sender: str, exc: Refused) -> Outcome:
    audit.record(
        "mail_refused",
        None,
        None,
        sender=sender,
        reason=exc.audit_reason,
        message_id=message_id or "",
    )
    db.session.flush()
    tell = bool(sender) and exc.audit_reason not in ("spoofed", "no_from")
    return Outcome("refused", exc.detail, exc.smtp_code, sender=sender, tell_sender=tell)


def _deliver(
    local: str, message: EmailMessage, sender: str, message_id: str, reading: _Reading
) -> list[str]:
    if local.startswith(mail_addresses.REPLY_PREFIX):
        return [_reply(local, message, sender, message_id, reading)]
    space_id = mail_addresses.space_of_inbox(local)
    if space_id is not None:
        return _to_inbox(space_id, message, sender, reading)
    raise Refused(_("Esa dirección no existe."), 550, "unknown_recipient")


def _reply(
    local: str, message: EmailMessage, sender: str, message_id: str, reading: _Reading
) -> str:
    token = mail_addresses.reply_token(local)
    if token is None:
        raise Refused(_("Esa dirección de respuesta no existe."), 550, "unknown_token")
    expires = as_utc(token.expires_at)
    if expires < datetime.now(UTC):
        raise Refused(
            _("Esta dirección de respuesta ha caducado: conteste desde el portal."), 550, "expired"
        )
    user = token.user
    if sender != user.email.lower() or not user.active:
        raise Refused(
            _("Solo puede responder la persona a quien se envió el e-mail."), 550, "wrong_sender"
        )
    try:
        conversations.get_thread(user, token.thread_id)
    except NotFound:
        raise Refused(
            _("Usted ya no tiene acceso a esta conversación: su respuesta no se ha guardado."),
            550,
            "no_access",
        ) from None
    text = reply_text(body_text(message))
    files = attachments(message, reading)
    if not text and files:
        text = _("(archivos adjuntos)")
    created = conversations.post_message(
        user,
        token.thread_id,
        body=text,
        files=files,
        source="email",
        email_message_id=message_id or None,
    )
    return created.id


def _to_inbox(space_id: str, message: EmailMessage, sender: str, reading: _Reading) -> list[str]:
    from app.models import Space

    space = db.session.get(Space, space_id)
    user = find_user_by_email(sender)
    permission = space_permission(user, space) if user and space and user.active else None
    if (
        user is None
        or space is None
        or permission not in (Permission.contribute, Permission.manage)
    ):
        raise Refused(
            _("Solo las personas del espacio pueden enviarle documentos por e-mail."),
            550,
            "not_a_member",
        )
    files = attachments(message, reading)
    if not files:
        raise Refused(_("El e-mail no trae ningún documento adjunto."), 550, "no_attachments")
    subject = one_line(str(message.get("Subject", "")))
    stored = []
    for upload in files:
        item = _matching_item(space.id, subject, upload.filename or "")
        if item is not None and user.is_client:
            requests.upload_to_item(user, item.id, upload.stream, filename=upload.filename)
            stored.append(item.id)
        else:
            document = documents.upload_document(
                user,
                space.id,
                upload.stream,
                filename=upload.filename,
                note=_("Recibido por e-mail: %(subject)s", subject=subject[:200])
                if subject
                else None,
            )
            stored.append(document.id)
    return stored


def _words(text: str) -> set[str]:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return {w for w in re.split(r"[^a-z0-9]+", plain) if len(w) > 2}


def _matching_item(space_id: str, subject: str, filename: str) -> RequestItem | None:
    """The one open request item whose title the subject or file name names, if exactly one."""
    said = _words(subject) | _words(filename.rsplit(".", 1)[0])
    if not said:
        return None
    items = db.session.execute(
        select(RequestItem)
        .join(DocumentRequest, DocumentRequest.id == RequestItem.request_id)
        .where(DocumentRequest.space_id == space_id, RequestItem.status == "pending")
    ).scalars()
    matches = [item for item in items if _words(item.title) and _words(item.title) <= said]
    return matches[0] if len(matches) == 1 else None


def recipients_of(message: Message) -> list[str]:
    """To and Cc of a message (for mail fetched by IMAP, which has no SMTP envelope)."""
    values = [str(v) for h in ("To", "Cc", "Delivered-To") for v in message.get_all(h, []) or []]
    return [address for _name, address in getaddresses(values) if address]
