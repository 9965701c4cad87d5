"""Accounts: passwords, sessions, tokens, second factor, reset and invitation links."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    AccountToken,
    ApiToken,
    Client,
    LoginThrottle,
    Role,
    User,
    UserSession,
)
from app.services import audit
from app.services.access import get_client, require_admin, require_staff
from app.services.errors import AuthFailed, MfaRequired, NotFound, Throttled, ValidationFailed
from app.services.mail import queue_mail
from app.services.runtime import request_ip, setting

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MIN_PASSWORD = 10


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed(
            {"password": _("La contraseña debe tener al menos %(n)s caracteres.", n=MIN_PASSWORD)}
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


# ---------------------------------------------------------------- throttling


def _throttle_keys(email: str) -> list[str]:
    keys = [f"email:{_sha256(normalise_email(email))}"]
    ip = request_ip()
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def check_throttle(email: str) -> None:
    now = _now()
    for key in _throttle_keys(email):
        row = db.session.get(LoginThrottle, key)
        if row and row.locked_until and row.locked_until > now:
            raise Throttled(
                _("Demasiados intentos fallidos. Espere unos minutos antes de volver a intentarlo.")
            )


def _record_failure(email: str) -> None:
    now = _now()
    lock = timedelta(minutes=int(setting("LOGIN_LOCK_MINUTES")))
    for key in _throttle_keys(email):
        limit = int(
            setting("LOGIN_IP_MAX_FAILURES" if key.startswith("ip:") else "LOGIN_MAX_FAILURES")
        )
        row = db.session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            db.session.add(row)
        if row.window_start < now - lock:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + lock
    db.session.flush()


def _clear_failures(email: str) -> None:
    row = db.session.get(LoginThrottle, f"email:{_sha256(normalise_email(email))}")
    if row is not None:
        row.failures, row.locked_until = 0, None


# ---------------------------------------------------------------- login


def check_credentials(email: str, password: str) -> User:
    """First factor. Unknown and known e-mails get the same answer in the same time."""
    check_throttle(email)
    user = find_user_by_email(email)
    ok = False
    try:
        ok = _hasher.verify(
            user.password_hash if user and user.password_hash else _DUMMY_HASH, password or ""
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash or not user.active:
        _record_failure(email)
        audit.record("login_failed", None, None, actor_email=normalise_email(email)[:254])
        raise AuthFailed(_("E-mail o contraseña incorrectos."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def check_second_factor(user: User, code: str) -> None:
    """A TOTP code (each accepted once) or an unused recovery code."""
    if not verify_second_factor(user, code):
        _record_failure(user.email)
        audit.record("login_failed", user, f"user:{user.id}", reason="second_factor")
        raise AuthFailed(_("Código de verificación incorrecto o ya utilizado."))


def authenticate(email: str, password: str, otp: str | None = None) -> User:
    """Both factors in one call (API tokens)."""
    user = check_credentials(email, password)
    if user.mfa_enabled:
        if not otp:
            raise MfaRequired(_("Se necesita el código de verificación."), mfa_required=True)
        check_second_factor(user, otp)
    complete_login(user)
    return user


def complete_login(user: User) -> None:
    _clear_failures(user.email)
    audit.record("login", user, f"user:{user.id}")


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


# ---------------------------------------------------------------- second factor


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=setting("FIRM_NAME"))


def begin_totp(user: User) -> tuple[str, str]:
    """Start enrolment: a new secret, confirmed only by a valid code."""
    secret = pyotp.random_base32()
    user.totp_pending_secret = secret
    db.session.flush()
    return secret, totp_uri(user, secret)


def _totp_counter(secret: str, code: str, at: float | None = None) -> int | None:
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for drift in (0, -1, 1):
        counter = totp.timecode(datetime.fromtimestamp(now, UTC)) + drift
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def confirm_totp(user: User, code: str) -> list[str]:
    if not user.totp_pending_secret:
        raise ValidationFailed({"otp": _("Primero inicie la activación del segundo factor.")})
    counter = _totp_counter(user.totp_pending_secret, code)
    if counter is None:
        raise ValidationFailed({"otp": _("Código incorrecto. Compruebe la hora de su teléfono.")})
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_last_counter = counter
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(10)]
    user.recovery_codes = [_sha256(c) for c in codes]
    db.session.flush()
    audit.record("mfa_enabled", user, f"user:{user.id}")
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    if not user.totp_secret:
        return False
    counter = _totp_counter(user.totp_secret, code)
    if counter is not None:
        if user.totp_last_counter is not None and counter <= user.totp_last_counter:
            return False  # replayed code
        user.totp_last_counter = counter
        db.session.flush()
        return True
    candidate = _sha256(re.sub(r"\s", "", (code or "").lower()))
    remaining = list(user.recovery_codes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, candidate):
            remaining.remove(stored)
            user.recovery_codes = remaining
            db.session.flush()
            audit.record("recovery_code_used", user, f"user:{user.id}", left=len(remaining))
            return True
    return False


def disable_totp(user: User, code: str) -> None:
    if not verify_second_factor(user, code):
        raise ValidationFailed({"otp": _("Código incorrecto o ya utilizado.")})
    user.totp_secret = None
    user.totp_last_counter = None
    user.recovery_codes = []
    audit.record("mfa_disabled", user, f"user:{user.id}")


# ---------------------------------------------------------------- passwords and links


def change_password(user: User, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise ValidationFailed(
            {"current_password": _("La contraseña actual no es correcta.")}
        ) from None
    check_password_policy(new)
    _set_password(user, new)
    audit.record("password_changed", user, f"user:{user.id}")


def _set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
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


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; the caller answers the same either way."""
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
    if row is None or row.used_at is not None or row.expires_at <= _now():
        raise NotFound(_("Este enlace no es válido, ya se usó o ha caducado."))
    if consume:
        row.used_at = _now()
    return row


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


# ---------------------------------------------------------------- users


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    client_id: str | None = None,
    password: str | None = None,
    locale: str = "es",
) -> User:
    """Create a user; ``actor`` None means the command line. Without a password an invitation is sent."""
    errors: dict[str, str] = {}
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        errors["email"] = _("Introduzca un e-mail válido.")
    elif find_user_by_email(email):
        errors["email"] = _("Ya existe un usuario con este e-mail.")
    if not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    if role not in {r.value for r in Role}:
        errors["role"] = _("El rol debe ser admin, staff o client.")
    if role == Role.client:
        if not client_id:
            errors["client_id"] = _("Un usuario cliente necesita un cliente.")
        elif db.session.get(Client, str(client_id)) is None:
            errors["client_id"] = _("Ese cliente no existe.")
    elif client_id:
        client_id = None
    if password:
        try:
            check_password_policy(password)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if locale not in ("es", "en"):
        locale = "es"
    if errors:
        raise ValidationFailed(errors)
    if actor is not None:
        if role == Role.client:
            require_staff(actor)
            get_client(actor, client_id or "")
        else:
            require_admin(actor)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        client_id=client_id if role == Role.client else None,
        password_hash=_hasher.hash(password) if password else None,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", actor, f"user:{user.id}", role=role, client_id=user.client_id)
    if not password:
        token = _new_link(user, "invite", timedelta(days=int(setting("INVITATION_DAYS"))))
        queue_mail(
            [user.email],
            "invitation",
            locale=user.locale,
            user=user,
            inviter=actor,
            link=f"{setting('BASE_URL')}/invitation/{token}",
            days=int(setting("INVITATION_DAYS")),
        )
    return user


def set_locale(user: User, locale: str) -> None:
    if locale in ("es", "en"):
        user.locale = locale


def list_users(actor: User) -> list[User]:
    require_staff(actor)
    query = select(User).order_by(User.role, User.name)
    return list(db.session.execute(query).scalars())


def set_active(actor: User, user_id: str, active: bool) -> User:
    require_admin(actor)
    user = db.session.get(User, str(user_id))
    if user is None:
        raise NotFound()
    user.active = active
    if not active:
        revoke_all_sessions(user)
    audit.record("user_activated" if active else "user_deactivated", actor, f"user:{user.id}")
    return user
