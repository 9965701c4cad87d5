"""Wiring of the web layer: blueprints, API, login loading, errors, security headers."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, make_response, render_template, request
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user

from app.extensions import login_manager
from app.services import accounts
from app.services.errors import DomainError
from app.services.runtime import set_request_ip
from app.unit_of_work import init_unit_of_work

#: request bodies up to this size are read to their end before an error answer goes out
DRAIN_LIMIT = 16 * 1024 * 1024

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def init_web(app: Flask) -> None:
    from app.api import api_bp, problem
    from app.blueprints import register_blueprints
    from app.page_cache import init_page_cache

    init_page_cache(app)
    register_blueprints(app)
    app.register_blueprint(api_bp)

    from app.static_assets import init_static

    init_static(app)

    app.jinja_env.globals["get_locale"] = get_locale
    _install_template_gettext(app)
    from app.blueprints.formatting import amount, datetime_text, file_size

    app.jinja_env.filters["filesize"] = file_size
    app.jinja_env.filters["datetimeformat"] = datetime_text
    app.jinja_env.filters["amount"] = amount

    @login_manager.user_loader
    def load_user(session_id: str):  # type: ignore[no-untyped-def]
        return accounts.load_session(session_id)

    @app.before_request
    def remember_ip() -> None:
        set_request_ip(request.remote_addr)

    @app.after_request
    def read_what_was_sent(response: Response) -> Response:
        """An error answered before the body was read: read the rest of a small body first.

        Otherwise the server closes the connection while the reverse proxy is still sending
        the body, and the proxy answers 502 in place of the app's 503 or 422 (an upload while
        the database restarts, seen through nginx under load). Large bodies are not read.
        """
        length = request.content_length or 0
        if response.status_code >= 400 and 0 < length <= DRAIN_LIMIT:
            try:
                while request.stream.read(1024 * 1024):
                    pass
            except Exception as error:  # noqa: BLE001 - gone, over a limit, read another way
                app.logger.debug("request body not read to its end: %s", error)
        return response

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
        if "Cache-Control" not in headers and current_user and current_user.is_authenticated:
            headers["Cache-Control"] = "private, no-store"
        return response

    def wants_problem() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        if wants_problem():
            response = problem(error.status, error.title, error.detail)
        else:
            response = make_response(render_template("error.html", error=error), error.status)
        if error.status == 503:
            response.headers["Retry-After"] = "5"
        return response

    # After the hooks above, so that it runs before them on the way out (see app.unit_of_work).
    init_unit_of_work(app, domain_error)
    _answer_outages(app, domain_error)

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


def _template_translations() -> Any:
    """The request's translations, found once per locale rather than on every ``_()``.

    Flask-Babel looks up the request context, the domain, the locale and its cache for each
    string (about 30 µs in a template; a space page translates ~150 strings). The cache here
    is keyed on the very Locale object Flask-Babel holds, so ``force_locale`` (e-mails in the
    recipient's language) and ``refresh`` still switch language at once.
    """
    try:
        state = g._flask_babel
    except (AttributeError, RuntimeError):  # no request yet, or outside an app context
        return get_translations()
    cached = getattr(state, "portal_translations", None)
    locale = getattr(state, "babel_locale", None)
    if cached is None or locale is None or cached[0] is not locale:
        translations = get_translations()
        cached = state.portal_translations = (get_locale(), translations)
    return cached[1]


def _install_template_gettext(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _template_translations().ugettext(s),
        ngettext=lambda s, p, n: _template_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _template_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def _answer_outages(app: Flask, domain_error: Any) -> None:
    """The database, the object store or the broker gone for a moment: 503 with Retry-After.

    A restart of PostgreSQL or Redis, or the object store down, must read as "try again in a
    few seconds" (tus clients and browsers retry), never as a 500 page; the request's changes
    are rolled back, so nothing half-made stays.
    """
    from kombu.exceptions import OperationalError as BrokerUnavailable
    from redis.exceptions import ConnectionError as RedisUnavailable
    from sqlalchemy.exc import InterfaceError, OperationalError, PendingRollbackError

    from app.extensions import db
    from app.services.errors import TemporarilyUnavailable
    from storage import StorageError

    def unavailable(error: Exception) -> Response:
        app.logger.warning("%s on %s: %s", type(error).__name__, request.path, error)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the pool drops it
            db.session().invalidate()
        # The error page must not touch the database that just failed: the person (loaded, or
        # expired by the rollback above) would be read again for the header and the language.
        g._login_user = login_manager.anonymous_user()
        return domain_error(  # type: ignore[no-any-return]
            TemporarilyUnavailable(
                gettext(
                    "El servicio no está disponible ahora mismo. No se ha guardado nada; "
                    "vuelva a intentarlo en unos segundos."
                )
            )
        )

    @app.teardown_appcontext
    def drop_dead_connection(_exc: BaseException | None) -> None:
        # Ending the session rolls its transaction back; on a connection the database
        # dropped (a restart) that fails, and would turn the answer already made into a 500.
        # Runs before Flask-SQLAlchemy's own teardown, which then finds the session closed.
        try:
            db.session.close()
        except (OperationalError, InterfaceError, PendingRollbackError):
            db.session().invalidate()

    for error in (
        OperationalError,
        InterfaceError,
        PendingRollbackError,
        StorageError,
        RedisUnavailable,
        BrokerUnavailable,
    ):
        app.register_error_handler(error, unavailable)
