"""Wiring of the web layer: blueprints, API, login loading, errors, security headers."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_login import current_user

from app.extensions import login_manager
from app.services import accounts
from app.services.errors import DomainError
from app.services.runtime import set_request_ip

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def init_web(app: Flask) -> None:
    from app.api import api_bp, problem
    from app.blueprints import register_blueprints

    register_blueprints(app)
    app.register_blueprint(api_bp)

    from app.static_assets import init_static

    init_static(app)

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    from app.blueprints.formatting import amount, file_size

    app.jinja_env.filters["filesize"] = file_size
    app.jinja_env.filters["amount"] = amount

    @login_manager.user_loader
    def load_user(session_id: str):  # type: ignore[no-untyped-def]
        return accounts.load_session(session_id)

    @app.before_request
    def remember_ip() -> None:
        set_request_ip(request.remote_addr)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("X-Frame-Options", "DENY")  # a PDF shown inline allows SAMEORIGIN
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if current_user and current_user.is_authenticated:
            headers.setdefault("Cache-Control", "private, no-store")
        return response

    def wants_problem() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        if wants_problem():
            return problem(error.status, error.title, error.detail)
        return render_template("error.html", error=error), error.status

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        app.logger.warning("CSRF check failed on %s: %s", request.path, error.description)
        return render_template("error.html", status=400), 400

    for status in (400, 403, 404, 405, 413, 429, 500):

        @app.errorhandler(status)
        def http_error(error, status=status):  # type: ignore[no-untyped-def]
            if wants_problem():
                title = getattr(error, "name", "Error")
                return problem(status, title, getattr(error, "description", "") or title)
            return render_template("error.html", status=status), status
