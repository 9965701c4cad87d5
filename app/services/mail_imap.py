"""E-mail in by IMAP, for firms whose mail provider cannot forward a domain to ``portal mail-in``.

A beat task polls one mailbox (``PORTAL_MAIL_IN_IMAP_*``): each message in the folder goes
through ``mail_in.receive``, the same service as the SMTP receiver, with its To, Cc and
Delivered-To standing for the SMTP envelope and its Return-Path for the envelope sender. The
task commits each message, then moves it to the done folder (refused ones flagged there, and
their sender told why by e-mail, since no sending server is there to bounce it). A crash
between the commit and the move leaves the message in the folder: the next poll finds its
Message-ID already stored and only moves it.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Any

from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags

from app.services import mail, mail_in
from app.services.accounts import find_user_by_email
from app.services.runtime import setting

log = logging.getLogger(__name__)

#: A poll handles at most this many messages; the next one goes on.
POLL_LIMIT = 100


def configured() -> bool:
    return bool(setting("MAIL_IN_IMAP_HOST"))


@dataclass
class Pending:
    """A message waiting in the polled folder: its UID, size and headers."""

    uid: str
    size: int
    headers: bytes


class ImapInbox:
    """The polled mailbox, logged in, with the folder selected and the done folder made."""

    def __init__(self, box: BaseMailBox) -> None:
        self.box = box
        self.done_folder = str(setting("MAIL_IN_IMAP_DONE_FOLDER"))
        if not box.folder.exists(self.done_folder):
            box.folder.create(self.done_folder)

    def pending(self, limit: int = POLL_LIMIT) -> list[Pending]:
        """Messages still in the folder, oldest first (headers only: a big one is not fetched)."""
        found = []
        for message in self.box.fetch(
            AND(all=True), headers_only=True, mark_seen=False, bulk=50, limit=limit
        ):
            if message.uid:
                found.append(Pending(message.uid, message.size_rfc822, message.obj.as_bytes()))
        return found

    def raw(self, uid: str) -> bytes:
        """The message as the server keeps it, without marking it read."""
        status, data = self.box.client.uid("fetch", uid, "(BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"FETCH {uid}: {status}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise imaplib.IMAP4.error(f"FETCH {uid}: no message")

    def done(self, item: Pending, outcome: mail_in.Outcome) -> None:
        """Out of the polled folder: into the done folder, a refused one flagged."""
        if not outcome.accepted:
            self.box.flag(item.uid, MailMessageFlags.FLAGGED, True)
        self.box.flag(item.uid, MailMessageFlags.SEEN, True)
        self.box.move(item.uid, self.done_folder)


@contextmanager
def connect() -> Iterator[ImapInbox]:
    """The configured mailbox, logged out again when the block ends."""
    host = str(setting("MAIL_IN_IMAP_HOST"))
    port = int(setting("MAIL_IN_IMAP_PORT") or 0)
    box: BaseMailBox
    if setting("MAIL_IN_IMAP_SSL"):
        box = MailBox(host, port or 993, timeout=60)
    else:
        box = MailBoxUnencrypted(host, port or 143, timeout=60)
    box.login(
        str(setting("MAIL_IN_IMAP_USER")),
        str(setting("MAIL_IN_IMAP_PASSWORD")),
        initial_folder=str(setting("MAIL_IN_IMAP_FOLDER")),
    )
    try:
        yield ImapInbox(box)
    finally:
        try:
            box.logout()
        except (OSError, imaplib.IMAP4.error):  # the connection is gone already
            pass


def _headers(raw: bytes) -> Any:
    try:
        return BytesHeaderParser(policy=default_policy).parsebytes(raw)
    except Exception:  # noqa: BLE001 - unreadable headers: the service refuses the message
        return BytesHeaderParser(policy=default_policy).parsebytes(b"")


def receive(inbox: ImapInbox, item: Pending) -> mail_in.Outcome:
    """One polled message through the SMTP receiver's service; the caller commits, then ``done``."""
    headers = _headers(item.headers)
    try:
        recipients = mail_in.recipients_of(headers)
        return_path = headers.get("Return-Path")
        subject = str(headers.get("Subject", ""))[:200]
    except Exception:  # noqa: BLE001 - a header too broken to read names nobody
        recipients, return_path, subject = [], None, ""
    envelope_sender = None if return_path is None else mail_in.address_of(str(return_path))
    if item.size > int(setting("MAIL_IN_MAX_BYTES")):
        outcome = mail_in.receive(
            item.headers, recipients=recipients, envelope_sender=envelope_sender, size=item.size
        )
    else:
        outcome = mail_in.receive(
            inbox.raw(item.uid), recipients=recipients, envelope_sender=envelope_sender
        )
    if not outcome.accepted and outcome.tell_sender and find_user_by_email(outcome.sender):
        # No sending server waits for an SMTP answer here: the sender is told by e-mail, if
        # they are someone the portal knows (spam to made-up addresses forges its From, and
        # answering it would send the firm's mail to strangers).
        mail.queue_mail(
            [outcome.sender],
            "mail_refused",
            subject=subject,
            reason=outcome.reason,
        )
    return outcome
