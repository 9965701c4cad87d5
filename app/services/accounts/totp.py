"""The second factor: TOTP enrolment and codes, each accepted once, and recovery codes."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from datetime import UTC, datetime

import pyotp
from flask_babel import gettext as _

from app.extensions import db
from app.models import User
from app.services import audit
from app.services.accounts.common import _sha256
from app.services.errors import ValidationFailed
from app.services.runtime import setting


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
