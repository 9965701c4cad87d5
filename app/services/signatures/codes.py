"""The fresh second factor a signer gives before signing: TOTP, or a one-time code by e-mail."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import SignatureCode, SignatureRequest, User
from app.services import accounts, audit
from app.services.errors import Throttled, ValidationFailed
from app.services.mail import queue_mail
from app.services.runtime import setting
from app.services.signatures.requests import _now, _turn_signer, get_request, target_of

CODE_LIFETIME = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(seconds=30)
CODE_MAX_ATTEMPTS = 5


class SecondFactorRejected(ValidationFailed):
    """Wrong, expired or replayed code. Views commit before answering: the attempt counts."""

    def __init__(self, message: str) -> None:
        super().__init__({"otp": message}, message)


def _code_hash(user: User, request: SignatureRequest, code: str) -> str:
    key = str(setting("SECRET_KEY")).encode()
    message = f"{request.id}:{user.id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def send_signature_code(actor: User, request_id: str) -> SignatureCode:
    """E-mail a one-time code to a signer whose turn it is and who has no TOTP."""
    request = get_request(actor, request_id)
    _turn_signer(request, actor)
    if actor.mfa_enabled:
        raise ValidationFailed(
            {
                "otp": _(
                    "Use el código de su aplicación de verificación (o un código de recuperación)."
                )
            }
        )
    now = _now()
    previous = list(
        db.session.execute(
            select(SignatureCode).where(
                SignatureCode.user_id == actor.id,
                SignatureCode.request_id == request.id,
                SignatureCode.used_at.is_(None),
                SignatureCode.expires_at > now,
            )
        ).scalars()
    )
    if any(now - code.created_at < CODE_RESEND_AFTER for code in previous):
        raise Throttled(
            _("Ya le hemos enviado un código; espere unos segundos antes de pedir otro.")
        )
    for code in previous:
        code.expires_at = now  # only the newest code works
    plain = f"{secrets.randbelow(10**6):06d}"
    row = SignatureCode(
        user_id=actor.id,
        request_id=request.id,
        code_hash=_code_hash(actor, request, plain),
        expires_at=now + CODE_LIFETIME,
    )
    db.session.add(row)
    db.session.flush()
    queue_mail(
        [actor.email],
        "signature_code",
        actor.locale or "es",
        user=actor,
        code=plain,
        document=request.document,
        minutes=int(CODE_LIFETIME.total_seconds() // 60),
    )
    audit.record("signature_code_sent", actor, target_of(request))
    return row


def _use_email_code(actor: User, request: SignatureRequest, code: str) -> bool:
    now = _now()
    row = db.session.execute(
        select(SignatureCode)
        .where(
            SignatureCode.user_id == actor.id,
            SignatureCode.request_id == request.id,
            SignatureCode.used_at.is_(None),
            SignatureCode.expires_at > now,
        )
        .order_by(SignatureCode.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return False
    if hmac.compare_digest(row.code_hash, _code_hash(actor, request, code)):
        row.used_at = now
        db.session.flush()
        return True
    row.attempts += 1
    if row.attempts >= CODE_MAX_ATTEMPTS:
        row.expires_at = now
    db.session.flush()
    return False


def _check_second_factor(actor: User, request: SignatureRequest, otp: str | None) -> str:
    code = re.sub(r"\s", "", otp or "")
    if not code:
        raise ValidationFailed(
            {"otp": _("Escriba el código de su aplicación de verificación o el que le enviamos.")}
        )
    if actor.mfa_enabled and accounts.verify_second_factor(actor, code):
        return "totp"
    if _use_email_code(actor, request, code):
        return "email"
    audit.record("signature_code_rejected", actor, target_of(request))
    raise SecondFactorRejected(_("Código incorrecto, caducado o ya utilizado."))
