"""Login with a second factor, logout, password reset and invitations."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from app.blueprints.forms import (
    ForgotForm,
    LoginForm,
    NewPasswordForm,
    SecondFactorForm,
    errors_onto_form,
)
from app.extensions import limiter
from app.models import User
from app.services import accounts, onboarding
from app.services.errors import AuthFailed, NotFound, Throttled, ValidationFailed
from app.unit_of_work import keep_on_error

bp = Blueprint("auth", __name__)
MFA_WINDOW_SECONDS = 300


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("main.dashboard")


def _begin_session(user: User, next_url: str | None) -> Response:
    accounts.complete_login(user)
    session.clear()  # a fresh cookie: nothing from before login survives
    accounts.start_session(user)
    login_user(user)
    session["lang"] = user.locale
    # The new session's own form token, in the cookie from the start: pages need not rewrite
    # the cookie to add one, and can be kept as rendered from the first view (app/page_cache).
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.check_credentials(form.email.data or "", form.password.data or "")
        except (AuthFailed, Throttled) as exc:
            keep_on_error()  # the failure counters and the audit event
            error = exc.detail
        else:
            if user.mfa_enabled:
                session.clear()
                session["mfa_user"] = user.id
                session["mfa_at"] = time.time()
                session["mfa_next"] = request.args.get("next")
                return redirect(url_for("auth.second_factor"))
            return _begin_session(user, request.args.get("next"))
    return render_template("auth/login.html", form=form, error=error), 401 if error else 200


@bp.route("/login/mfa", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_factor() -> Response | str:
    user_id = session.get("mfa_user")
    started = float(session.get("mfa_at") or 0)
    user = accounts.user_by_id(user_id) if user_id else None
    if user is None or time.time() - started > MFA_WINDOW_SECONDS:
        session.clear()
        flash(_("La sesión de inicio ha caducado. Vuelva a introducir su contraseña."), "warning")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.check_throttle(user.email)
            accounts.check_second_factor(user, form.code.data or "")
        except (AuthFailed, Throttled) as exc:
            keep_on_error()  # the failed attempt counts
            error = exc.detail
        else:
            return _begin_session(user, session.get("mfa_next"))
    return render_template("auth/second_factor.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout() -> Response:
    accounts.end_session(current_user, current_user.session_token)
    logout_user()
    session.clear()
    flash(_("Ha cerrado la sesión."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot() -> Response | str:
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data or "")
        flash(
            _(
                "Si el e-mail corresponde a una cuenta, le hemos enviado un enlace para elegir una nueva contraseña."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _link_page(token: str, purpose: str, template: str) -> Response | str:
    try:
        user = accounts.check_link(token, purpose)
    except NotFound as exc:
        return render_template("auth/link_invalid.html", message=exc.detail), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            if purpose == "reset":
                accounts.reset_password(token, form.password.data or "")
            else:
                accounts.accept_invitation(token, form.password.data or "")
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="password")
        else:
            joining = onboarding.open_onboarding_for(user) if purpose == "invite" else None
            if joining is not None:
                # A new client goes on with their onboarding at once, from the same phone:
                # the link and the password just chosen are what a login would ask.
                onboarding.invitation_accepted(user)
                if current_user.is_authenticated:
                    logout_user()
                return _begin_session(user, url_for("onboarding.detail", onboarding_id=joining.id))
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Contraseña guardada. Ya puede iniciar sesión."), "success")
            return redirect(url_for("auth.login"))
    return render_template(template, form=form, user=user)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response | str:
    return _link_page(token, "reset", "auth/reset.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Response | str:
    return _link_page(token, "invite", "auth/invitation.html")


@bp.post("/language")
def set_language() -> Response:
    locale = request.form.get("locale", "es")
    if locale in ("es", "en"):
        session["lang"] = locale
        if current_user.is_authenticated:
            accounts.set_locale(current_user, locale)
    return redirect(_safe_next(request.form.get("next")))
