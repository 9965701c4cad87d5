"""``portal mail-in``: the inbound SMTP receiver (aiosmtpd) for replies and e-mailed documents.

It accepts mail only for the portal's domain, reads each message once and hands it to
``app.services.mail_in.receive`` inside the application; the answer the sending server gets
is the outcome: 250 when stored (or dropped as a loop or a duplicate), 550/552 with the
reason otherwise, which that server turns into a bounce to the sender.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)


class PortalHandler:
    """aiosmtpd handler: recipients of our domain only; each message received in the app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        with app.app_context():
            from app.services import mail_addresses, mail_in

            self.domain = mail_addresses.mail_domain()
            self.spool = mail_in.spool_folder() / "incoming"
        self.spool.mkdir(parents=True, exist_ok=True)
        _forget_stale(self.spool.parent)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        spooled = getattr(envelope, "spool_path", None)
        if spooled is None:  # another SMTP class than ours: the message is in memory
            content = envelope.original_content or envelope.content or b""
            raw: bytes | Path = content if isinstance(content, bytes) else str(content).encode()
        else:
            raw = spooled
        try:
            # Stored in a worker thread: the event loop goes on with other connections.
            return await asyncio.get_running_loop().run_in_executor(
                None, self.deliver, raw, list(envelope.rcpt_tos), envelope.mail_from
            )
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)

    def deliver(self, raw: bytes | Path, recipients: list[str], envelope_sender: str | None) -> str:
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


def _forget_stale(folder: Path, hours: int = 24) -> None:
    """Spool files a receiver that died left behind (their senders' servers send them again)."""
    deadline = time.time() - hours * 3600
    for path in sorted(folder.rglob("*"), reverse=True):
        try:
            if path.stat().st_mtime >= deadline or path.name == "incoming":
                continue
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
        except OSError:  # another receiver's, or already gone
            continue


class SpoolingSMTP(SMTP):
    """aiosmtpd's SMTP, but DATA goes to a file as it arrives instead of into memory.

    aiosmtpd keeps each line of a message as its own bytearray and then joins them: a 34 MB
    message costs about three times that before the handler sees it. Here each line is
    written to a spool file (dot-unstuffed, RFC 5321 4.5.2) and the handler gets its path
    as ``envelope.spool_path``. Size and line-length limits answer as aiosmtpd does.
    """

    def __init__(self, handler: PortalHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.spool = handler.spool

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's command name
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        path = self.spool / f"{secrets.token_hex(12)}.eml"
        size, limit, problem = 0, self.data_size_limit, ""
        fragments: list[bytes] = []
        try:
            with path.open("wb", buffering=256 * 1024) as out:
                while self.transport is not None:
                    try:
                        line = await self._reader.readuntil(b"\r\n")
                    except asyncio.LimitOverrunError as exc:
                        problem = problem or "500 Line too long (see RFC5321 4.5.3.1.6)"
                        line = await self._reader.read(exc.consumed)
                    if not fragments and line == b".\r\n":
                        break
                    size += len(line)
                    if limit and size > limit:
                        problem = "552 Error: Too much mail data"
                    fragments.append(line)
                    if not line.endswith(b"\r\n"):
                        continue
                    whole = b"".join(fragments) if len(fragments) > 1 else line
                    fragments = []
                    if len(whole) > self.line_length_limit:
                        problem = problem or "500 Line too long (see RFC5321 4.5.3.1.6)"
                    if not problem:
                        out.write(whole[1:] if whole.startswith(b".") else whole)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if problem:
            path.unlink(missing_ok=True)
            self._set_post_data_state()
            await self.push(problem)
            return
        self.envelope.spool_path = path  # type: ignore[attr-defined]
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)


class PortalController(Controller):
    def factory(self) -> SMTP:
        return SpoolingSMTP(self.handler, **self.SMTP_kwargs)


def build_receiver(app: Flask, host: str, port: int) -> Controller:
    """The receiver, not started; ``start()`` serves it in a thread, ``stop()`` ends it."""
    limit = int(app.config["MAIL_IN_MAX_BYTES"])
    return PortalController(
        PortalHandler(app), hostname=host, port=port, data_size_limit=limit, decode_data=False
    )
