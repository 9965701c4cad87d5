"""The portal's Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user

from app.config import load_config
from app.extensions import babel, csrf, db, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    if not has_request_context():  # the command line and jobs speak Spanish unless told
        return "es"
    if current_user and current_user.is_authenticated:
        return current_user.locale or "es"
    chosen = session.get("lang")
    if chosen in ("es", "en"):
        return chosen
    return request.accept_languages.best_match(["es", "en"]) or "es"


def _tune_sqlite(engine: Any) -> None:
    """WAL so readers never block the writer; foreign keys enforced."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings (tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(load_config(config))
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_SIZE"]) + 1024 * 1024
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "app" / "translations")

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # sessions are server-side rows instead

    from app.services import runtime
    from storage import build_store

    app.extensions["portal_store"] = build_store(
        app.config["STORAGE_URL"], public_url=app.config.get("STORAGE_PUBLIC_URL")
    )
    runtime.install_session_hooks()

    from app.tasks import init_celery

    init_celery(app)

    from app import web
    from app.request_limits import init_request_limits

    init_request_limits(app)
    web.init_web(app)
    return app


__all__ = ["create_app", "g"]
