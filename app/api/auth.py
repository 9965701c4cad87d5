"""Auth and the caller's own account."""

from __future__ import annotations

from flask import Response, g, jsonify

from app.api import api_bp, body, caller, problem
from app.api.schemas import RecoveryCodesSchema, TokenSchema, TotpStartSchema, UserSchema
from app.extensions import limiter
from app.services import accounts
from app.services.errors import MfaRequired
from app.unit_of_work import keep_on_error


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config["RATELIMIT_LOGIN"])


@api_bp.post("/auth/token")
@limiter.limit(_login_limit)
def issue_token() -> Response | tuple[Response, int]:
    data = body()
    try:
        user = accounts.authenticate(
            str(data.get("email") or ""), str(data.get("password") or ""), data.get("otp") or None
        )
    except MfaRequired as exc:
        keep_on_error()  # the failure counters and audit event
        return problem(401, exc.title, exc.detail, mfa_required=True)
    except Exception:
        keep_on_error()  # the failure counters and audit event
        raise
    token, expires = accounts.issue_api_token(user)
    return jsonify(TokenSchema().dump({"token": token, "expires_at": expires, "user": user}))


@api_bp.delete("/auth/token")
def revoke_token() -> tuple[str, int]:
    accounts.revoke_api_token(g.api_token)
    return "", 204


@api_bp.get("/me")
def me() -> Response:
    return jsonify(UserSchema().dump(caller()))


@api_bp.post("/me/mfa/totp")
def start_totp() -> Response:
    secret, uri = accounts.begin_totp(caller())
    return jsonify(TotpStartSchema().dump({"secret": secret, "otpauth_uri": uri}))


@api_bp.post("/me/mfa/totp/confirm")
def confirm_totp() -> Response:
    codes = accounts.confirm_totp(caller(), str(body().get("otp") or ""))
    return jsonify(RecoveryCodesSchema().dump({"recovery_codes": codes}))
