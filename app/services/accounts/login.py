"""Logging in: both factors, and the throttle on failed attempts by e-mail and by address."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _

from app.extensions import db
from app.models import LoginThrottle, User
from app.services import audit
from app.services.accounts.common import _now, _sha256, find_user_by_email, normalise_email
from app.services.accounts.passwords import hash_password, needs_rehash, password_matches
from app.services.accounts.totp import verify_second_factor
from app.services.errors import AuthFailed, MfaEnrolmentRequired, MfaRequired, Throttled
from app.services.runtime import request_ip, setting

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
    ok = password_matches(user.password_hash if user else None, password)
    if not ok or user is None or not user.password_hash or not user.active:
        _record_failure(email)
        audit.record("login_failed", None, None, actor_email=normalise_email(email)[:254])
        raise AuthFailed(_("E-mail o contraseña incorrectos."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_second_factor(user: User, code: str) -> None:
    """A TOTP code (each accepted once) or an unused recovery code."""
    if not verify_second_factor(user, code):
        _record_failure(user.email)
        audit.record("login_failed", user, f"user:{user.id}", reason="second_factor")
        raise AuthFailed(_("Código de verificación incorrecto o ya utilizado."))


def second_factor_required(user: User) -> bool:
    """Whether the firm requires a second factor of ``user`` (a setting for staff, one for clients)."""
    from app.services.settings import get_setting

    return bool(
        get_setting("require_mfa_for_staff" if user.is_staff else "require_mfa_for_clients")
    )


def second_factor_missing(user: User) -> bool:
    """Whether the firm requires a second factor of ``user`` and they have none yet.

    Every channel asks this one question: the web lets such a person in only to enrol,
    a bearer token is not issued to them at all (or, from an invitation, only to enrol).
    """
    return not user.mfa_enabled and second_factor_required(user)


def enrolment_required(user: User, *, holding_token: bool = False) -> MfaEnrolmentRequired:
    """The refusal for a person who must enrol a second factor first, saying how.

    ``holding_token``: they hold a token (their invitation's, or one from before the firm
    required it), which serves to enrol over the API; otherwise they enrol on the web.
    """
    if user.is_staff:
        detail = _(
            "El despacho exige un segundo factor al personal. Actívelo en el portal web "
            "(Mi cuenta, «Activar el segundo factor») y vuelva a pedir el token con su código."
        )
    elif holding_token:
        detail = _(
            "El despacho exige un segundo factor a sus clientes. Este token solo sirve para "
            "activarlo: POST /api/v1/me/mfa/totp y, con el código de su aplicación, "
            "POST /api/v1/me/mfa/totp/confirm; después podrá seguir."
        )
    else:
        detail = _(
            "El despacho exige un segundo factor a sus clientes. Actívelo en el portal web "
            "(se le pide al entrar) y vuelva a pedir el token con su código."
        )
    return MfaEnrolmentRequired(
        detail, mfa_enrolment_required=True, enrol_url=f"{setting('BASE_URL')}/account/mfa"
    )


def authenticate(email: str, password: str, otp: str | None = None) -> User:
    """Both factors in one call (API tokens)."""
    user = check_credentials(email, password)
    if user.mfa_enabled:
        if not otp:
            raise MfaRequired(_("Se necesita el código de verificación."), mfa_required=True)
        check_second_factor(user, otp)
    elif second_factor_missing(user):
        audit.record("login_refused", user, f"user:{user.id}", reason="second_factor_not_enrolled")
        raise enrolment_required(user)
    complete_login(user)
    return user


def complete_login(user: User) -> None:
    _clear_failures(user.email)
    audit.record("login", user, f"user:{user.id}")
