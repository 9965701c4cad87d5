"""Passwords: hashing, the policy, changing one, and the single-use reset and invitation links."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import AccountToken, User
from app.services import audit
from app.services.accounts.common import _now, _sha256, find_user_by_email
from app.services.accounts.sessions import revoke_all_sessions
from app.services.errors import NotFound, ValidationFailed
from app.services.mail import queue_mail
from app.services.runtime import enqueue_after_commit, setting

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both answers take the same time. Made on
# first use, not at import: a hash takes argon2's 64 MiB for a moment, and every process
# (the mail receiver, a worker, a command) would otherwise peak there on starting.
_DUMMY_HASH: str | None = None
MIN_PASSWORD = 10


def _dummy_hash() -> str:
    global _DUMMY_HASH  # noqa: PLW0603 - made once, on first use
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
    return _DUMMY_HASH


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(
            {"password": _("La contraseña debe tener al menos %(n)s caracteres.", n=MIN_PASSWORD)}
        )


def password_matches(password_hash: str | None, password: str) -> bool:
    """Check a password; without a hash, a dummy one is checked so the answer takes as long."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with older parameters than the hasher's current ones."""
    return _hasher.check_needs_rehash(password_hash)


def change_password(user: User, current: str, new: str) -> None:
    if not password_matches(user.password_hash, current):
        raise ValidationFailed({"current_password": _("La contraseña actual no es correcta.")})
    check_password_policy(new)
    _set_password(user, new)
    audit.record("password_changed", user, f"user:{user.id}")


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = _now()
    revoke_all_sessions(user)


def _new_link(user: User, purpose: str, lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            purpose=purpose,
            token_hash=_sha256(token),
            user_id=user.id,
            expires_at=_now() + lifetime,
        )
    )
    db.session.flush()
    return token


RESET_TASK = "portal.send_password_reset"


def request_password_reset(email: str) -> None:
    """Queue the reset for after the answer: known and unknown e-mails take the same time.

    The request does the same for any address (one job queued after its commit); the
    lookup, the link, the e-mail and the audit event happen in the job.
    """
    if isinstance(email, str) and 0 < len(email) <= 254:
        enqueue_after_commit(RESET_TASK, email)


def send_password_reset(email: str) -> None:
    """Send a reset link if the account exists (the job queued by ``request_password_reset``)."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = _new_link(user, "reset", timedelta(minutes=int(setting("RESET_TOKEN_MINUTES"))))
    queue_mail(
        [user.email],
        "password_reset",
        locale=user.locale,
        user=user,
        link=f"{setting('BASE_URL')}/reset/{token}",
        minutes=int(setting("RESET_TOKEN_MINUTES")),
    )
    audit.record("password_reset_requested", user, f"user:{user.id}")


def _use_link(token: str, purpose: str, *, consume: bool) -> AccountToken:
    row = db.session.execute(
        select(AccountToken).where(
            AccountToken.token_hash == _sha256(token or ""), AccountToken.purpose == purpose
        )
    ).scalar_one_or_none()
    gone = NotFound(_("Este enlace no es válido, ya se usó o ha caducado."))
    if row is None or row.used_at is not None or row.expires_at <= _now() or not row.user.active:
        raise gone  # a deactivated person's links end with their account
    if consume:
        # Only if still unused and alive as written now: of two requests that read it
        # unused at once, the second finds it used (or ended) and gets nothing.
        now = _now()
        used = db.session.execute(
            update(AccountToken)
            .where(
                AccountToken.id == row.id,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise gone
        set_committed_value(row, "used_at", now)
    return row


def end_links(user: User, purpose: str) -> None:
    """Links of ``purpose`` sent to ``user`` and not used yet stop working now."""
    rows = db.session.execute(
        select(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > _now(),
        )
    ).scalars()
    for row in rows:
        row.expires_at = _now()
    db.session.flush()


def check_link(token: str, purpose: str) -> User:
    return _use_link(token, purpose, consume=False).user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a single-use link; the user then logs in with both factors."""
    check_password_policy(new_password)
    row = _use_link(token, "reset", consume=True)
    _set_password(row.user, new_password)
    audit.record("password_reset", row.user, f"user:{row.user.id}")
    return row.user


def accept_invitation(token: str, password: str) -> User:
    check_password_policy(password)
    row = _use_link(token, "invite", consume=True)
    _set_password(row.user, password)
    audit.record("invitation_accepted", row.user, f"user:{row.user.id}")
    return row.user
