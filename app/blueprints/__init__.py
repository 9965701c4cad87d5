"""The web UI: one blueprint per area."""

from __future__ import annotations

from flask import Flask, g, redirect, request, url_for
from flask_login import current_user

from app.services import accounts

OPEN_ENDPOINTS = {
    "static",
    "auth.logout",
    "account.mfa_setup",
    "account.index",
    "auth.set_language",
}


def register_blueprints(app: Flask) -> None:
    from app.blueprints import (
        account,
        admin,
        auth,
        clients,
        documents,
        main,
        requests,
        review,
        spaces,
    )

    for module in (auth, account, main, clients, spaces, documents, admin, review, requests):
        app.register_blueprint(module.bp)
    from app.blueprints import pki, signatures  # signing pages, public CA and TSA

    app.register_blueprint(pki.bp)
    app.register_blueprint(signatures.bp)
    from app.blueprints import ocr  # search, forms filled from documents

    app.register_blueprint(ocr.bp)
    from app.blueprints import uploads  # upload settings, quotas, the uploader

    app.register_blueprint(uploads.bp)
    from app.blueprints import previews  # thumbnails and in-browser views

    app.register_blueprint(previews.bp)
    from app.blueprints import compare  # what changed between two versions

    app.register_blueprint(compare.bp)
    app.register_blueprint(compare.files_bp)
    from app.blueprints import onboarding  # self-activation of new clients

    app.register_blueprint(onboarding.bp)
    from app.blueprints import conversations  # threads, messages and incidents

    app.register_blueprint(conversations.bp)
    from app.blueprints import campaigns  # one request or signature for many clients

    app.register_blueprint(campaigns.bp)
    from app.blueprints import metrics  # the firm's metrics (admin)

    app.register_blueprint(metrics.bp)

    @app.before_request
    def enforce_staff_mfa():  # type: ignore[no-untyped-def]
        if (
            request.blueprint in (None, "api", "auth")
            or request.endpoint in OPEN_ENDPOINTS
            or not current_user.is_authenticated
        ):
            return None
        if accounts.second_factor_missing(current_user):
            # where the person was going: they get there once enrolled
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("account.mfa_setup", required=1, next=back))
        return None

    @app.context_processor
    def bell() -> dict:
        if current_user and current_user.is_authenticated:
            from app.services.conversations import unread_count as unread_messages
            from app.services.notifications import unread_count

            # the home page's agenda has just counted them
            messages = g.get("unread_messages")
            return {
                "unread_notifications": unread_count(current_user),
                "unread_messages": unread_messages(current_user) if messages is None else messages,
            }
        return {}
