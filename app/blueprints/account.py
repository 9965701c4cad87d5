"""The user's own account: language, password, second factor."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.blueprints.forms import (
    ChangePasswordForm,
    LocaleForm,
    NotificationSettingsForm,
    SecondFactorForm,
    errors_onto_form,
)
from app.services import accounts, notifications
from app.services.errors import ValidationFailed

bp = Blueprint("account", __name__, url_prefix="/account")


def _qr_svg(data: str) -> Markup:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    return Markup(svg)  # noqa: S704 - generated locally from our own otpauth URI


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Response | str:
    locale_form = LocaleForm(prefix="loc", locale=current_user.locale)
    password_form = ChangePasswordForm(prefix="pw")
    disable_form = SecondFactorForm(prefix="off")
    notify_form = NotificationSettingsForm(prefix="notif", notify_email=current_user.notify_email)
    if request.method == "POST" and "notif-notify_email" in request.form and notify_form.validate():
        notifications.set_email_mode(current_user, notify_form.notify_email.data or "immediate")
        flash(_("Preferencias de avisos guardadas."), "success")
        return redirect(url_for("account.index"))
    if request.method == "POST" and "loc-locale" in request.form and locale_form.validate():
        accounts.set_locale(current_user, locale_form.locale.data or "es")
        session["lang"] = current_user.locale
        flash(_("Idioma guardado."), "success")
        return redirect(url_for("account.index"))
    if request.method == "POST" and "pw-password" in request.form and password_form.validate():
        try:
            accounts.change_password(
                current_user,
                password_form.current_password.data or "",
                password_form.password.data or "",
            )
        except ValidationFailed as exc:
            errors_onto_form(password_form, exc, default="password")
        else:
            # Every other session ends; this browser gets a fresh one.
            user = current_user._get_current_object()
            session.clear()
            accounts.start_session(user)
            login_user(user)
            flash(_("Contraseña cambiada. Las demás sesiones se han cerrado."), "success")
            return redirect(url_for("account.index"))
    if request.method == "POST" and "off-code" in request.form and disable_form.validate():
        if accounts.second_factor_required(current_user):
            if current_user.is_staff:
                flash(_("El despacho exige el segundo factor para el personal."), "error")
            else:
                flash(_("El despacho exige el segundo factor a sus clientes."), "error")
        else:
            try:
                accounts.disable_totp(current_user, disable_form.code.data or "")
            except ValidationFailed as exc:
                errors_onto_form(disable_form, exc, default="code")
            else:
                flash(_("Segundo factor desactivado."), "success")
                return redirect(url_for("account.index"))
    return render_template(
        "account/index.html",
        locale_form=locale_form,
        password_form=password_form,
        disable_form=disable_form,
        notify_form=notify_form,
    )


@bp.route("/mfa", methods=["GET", "POST"])
@login_required
def mfa_setup() -> Response | str:
    form = SecondFactorForm()
    if current_user.mfa_enabled:
        return redirect(url_for("account.index"))
    # A reload shows the same secret, so a code from an already scanned QR still works.
    if not current_user.totp_pending_secret:
        secret, uri = accounts.begin_totp(current_user)
    else:
        secret = current_user.totp_pending_secret
        uri = accounts.totp_uri(current_user, secret)
    if form.validate_on_submit():
        try:
            codes = accounts.confirm_totp(current_user, form.code.data or "")
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="code")
        else:
            return render_template(
                "account/recovery_codes.html",
                codes=codes,
                next_url=_local(request.args.get("next")),
            )
    return render_template(
        "account/mfa_setup.html",
        form=form,
        secret=secret,
        qr=_qr_svg(uri),
        required=request.args.get("required"),
    )


def _local(target: str | None) -> str:
    """Where to go on after enrolling: a path of this site only, else the home page."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("main.dashboard")
