"""The public REST API, version 1 (docs/api.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.extensions import csrf
from app.models import User
from app.services import accounts
from app.services.errors import AccessDenied, DomainError

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

PUBLIC = {"api.issue_token", "api.openapi"}
# Endpoints the web UI also calls from its pages (the Uppy uploader): without a bearer
# token they accept the browser session, with the CSRF token in a header for anything
# that changes state. Filled by the modules that define them.
SESSION_ENDPOINTS: set[str] = set()
# What a person the firm requires a second factor of may call before enrolling one (the
# token from their invitation): who they are, the enrolment itself, signing out.
ENROL_ENDPOINTS = {"api.me", "api.start_totp", "api.confirm_totp", "api.revoke_token"}


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@api_bp.before_request
def authenticate() -> Response | None:
    if request.endpoint in PUBLIC:
        return None
    token = bearer_token()
    user = accounts.user_for_token(token) if token else None
    if token is None and request.endpoint in SESSION_ENDPOINTS:
        user = session_user()
    if user is None:
        response = problem(401, "Not authenticated", "A valid bearer token is required.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
        return response
    if request.endpoint not in ENROL_ENDPOINTS and accounts.second_factor_missing(user):
        return domain_error(accounts.enrolment_required(user, holding_token=True))
    g.api_user = user
    g.api_token = token
    return None


def session_user() -> User | None:
    """The user of the browser session, once the CSRF token checks out for unsafe methods."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        # The blueprint is exempt for bearer tokens; a cookie alone is not enough.
        from flask_wtf.csrf import CSRFError

        try:
            csrf.protect()
        except CSRFError as exc:
            raise AccessDenied(
                "The CSRF token (X-CSRFToken header) is missing or invalid."
            ) from exc
    return current_user._get_current_object()  # type: ignore[no-any-return]


def caller() -> User:
    return g.api_user  # type: ignore[no-any-return]


def body() -> dict[str, Any]:
    """The JSON object sent, or the form fields of a multipart request."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise DomainError("The body must be a JSON object.")
        return data
    return request.form.to_dict()


@api_bp.errorhandler(DomainError)
def domain_error(error: DomainError) -> Response:
    extra = dict(error.extra)
    if hasattr(error, "errors"):
        extra["errors"] = error.errors
    response = problem(error.status, error.title, error.detail, **extra)
    if error.status == 503:  # the database, the store or the broker gone for a moment
        response.headers["Retry-After"] = "5"
    return response


@api_bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return problem(error.code or 500, error.name, error.description or "")


from app.api import (  # noqa: E402,F401
    agenda,
    audit,
    auth,
    campaigns,
    compare,
    conversations,
    documents,
    ocr,
    onboarding,
    openapi,
    people,
    requests,
    review,
    signatures,
    spaces,
    uploads,
)
