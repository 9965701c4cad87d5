"""Server-side sessions for the web pages and bearer tokens for the API."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, User, UserSession
from app.services import audit
from app.services.accounts.common import _now, _sha256
from app.services.runtime import request_ip, setting


def start_session(user: User) -> str:
    """A new server-side session id (never the one from before login)."""
    sid = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id=sid,
            user_id=user.id,
            expires_at=_now() + timedelta(hours=int(setting("SESSION_HOURS"))),
            ip=request_ip(),
        )
    )
    db.session.flush()
    user.session_token = sid
    return sid


def load_session(sid: str) -> User | None:
    # Every request starts here: the session and its person in one query, not two.
    row = db.session.get(UserSession, sid, options=[joinedload(UserSession.user)])
    if row is None or row.revoked_at is not None or row.expires_at <= _now():
        return None
    user = row.user
    if not user.active:
        return None
    user.session_token = sid
    user.session_expires_at = row.expires_at
    return user


def end_session(user: User, sid: str | None) -> None:
    if sid:
        db.session.execute(
            update(UserSession).where(UserSession.id == sid).values(revoked_at=_now())
        )
    audit.record("logout", user, f"user:{user.id}")


def revoke_all_sessions(user: User) -> None:
    now = _now()
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def issue_api_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = _now() + timedelta(hours=int(setting("TOKEN_HOURS")))
    db.session.add(ApiToken(token_hash=_sha256(token), user_id=user.id, expires_at=expires))
    db.session.flush()
    return token, expires


def user_for_token(token: str) -> User | None:
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _sha256(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= _now():
        return None
    return row.user if row.user.active else None


def revoke_api_token(token: str) -> None:
    db.session.execute(
        update(ApiToken).where(ApiToken.token_hash == _sha256(token)).values(revoked_at=_now())
    )
