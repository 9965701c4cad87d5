"""The portal's own e-mail addresses: a space's inbox, and a thread's reply address per person.

``inbox-<space id>-<mac>@<domain>``: a fixed address per space, signed with the app's secret
so that nobody can make one up for a space they do not know. ``reply-<token>@<domain>``: a
random token naming one thread and one person, kept hashed, expiring; the local part stays
under the 64 characters an e-mail address allows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Permission, ReplyToken, Thread, User
from app.services.access import get_space
from app.services.runtime import setting

REPLY_PREFIX = "reply-"
INBOX_PREFIX = "inbox-"


def mail_domain() -> str:
    """Where the portal receives mail: PORTAL_MAIL_IN_DOMAIN, else the host of the base URL."""
    configured = setting("MAIL_IN_DOMAIN")
    if configured:
        return str(configured).lower()
    return (urlsplit(str(setting("BASE_URL"))).hostname or "localhost").lower()


def _mac(value: str) -> str:
    key = str(setting("SECRET_KEY")).encode()
    digest = hmac.new(key, f"inbox:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def inbox_local(space_id: str) -> str:
    return f"{INBOX_PREFIX}{space_id}-{_mac(space_id)}"


def inbox_address(actor: User, space_id: str) -> str:
    """The space's inbox (the caller must see the space; sending needs contribute)."""
    space = get_space(actor, space_id, Permission.view)
    return f"{inbox_local(space.id)}@{mail_domain()}"


def space_of_inbox(local: str) -> str | None:
    """The space an inbox local part names, if its signature holds."""
    if not local.startswith(INBOX_PREFIX):
        return None
    space_id, _, mac = local[len(INBOX_PREFIX) :].rpartition("-")
    if not space_id or not hmac.compare_digest(mac, _mac(space_id)):
        return None
    return space_id


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reply_address(thread: Thread, user: User) -> str:
    """A fresh reply address for ``user`` on ``thread``, valid for REPLY_TOKEN_DAYS."""
    token = base64.b32encode(secrets.token_bytes(15)).decode().lower()
    db.session.add(
        ReplyToken(
            token_hash=_hash(token),
            thread_id=thread.id,
            user_id=user.id,
            expires_at=datetime.now(UTC) + timedelta(days=int(setting("REPLY_TOKEN_DAYS"))),
        )
    )
    db.session.flush()
    return f"{REPLY_PREFIX}{token}@{mail_domain()}"


def reply_token(local: str) -> ReplyToken | None:
    """The token a reply address names (expired ones too: the caller says why it refuses)."""
    if not local.startswith(REPLY_PREFIX):
        return None
    token = local[len(REPLY_PREFIX) :]
    return db.session.execute(
        select(ReplyToken).where(ReplyToken.token_hash == _hash(token))
    ).scalar_one_or_none()
