"""Administration: users, settings, audit trail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import (
    ConfirmForm,
    RevokeCertificateForm,
    SettingsForm,
    UserForm,
    errors_onto_form,
)
from app.services import accounts, audit, pki
from app.services.access import require_admin
from app.services.errors import InvalidTransition, ValidationFailed
from app.services.paging import cursor_page
from app.services.settings import get_setting, update_setting

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> Response | tuple[str, int]:
    require_admin(current_user)
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_user(
                current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "staff",
                locale=form.locale.data or "es",
            )
        except ValidationFailed as exc:
            status = 422
            errors_onto_form(form, exc)
        else:
            flash(_("Usuario creado; le hemos enviado una invitación por e-mail."), "success")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 422
    try:
        people = accounts.list_users(current_user, cursor_page(request.args, limit=100))
    except ValidationFailed as exc:  # an altered "more" link: the first people
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("admin.users"))
    return (
        render_template(
            "admin/users.html",
            users=people,
            form=form,
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.post("/users/<user_id>/active")
@login_required
def toggle_active(user_id: str) -> Response:
    if ConfirmForm().validate_on_submit():
        accounts.set_active(current_user, user_id, request.form.get("active") == "1")
    return redirect(url_for("admin.users"))


@bp.get("/certificates")
@login_required
def certificates() -> str:
    """The signing certificates the internal CA issued to people, and whether they stand."""
    return render_template(
        "admin/certificates.html", certificates=pki.list_signer_certificates(current_user)
    )


@bp.route("/certificates/<certificate_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_certificate(certificate_id: str) -> Response | tuple[str, int]:
    """Confirm, with a reason, then revoke a signer's certificate at the CA."""
    status = pki.get_signer_certificate(current_user, certificate_id)
    form = RevokeCertificateForm()
    code = 200
    if status.revoked:
        code = 409 if form.is_submitted() else 200
    elif form.validate_on_submit():
        try:
            pki.revoke_certificate(
                current_user, certificate_id, form.reason.data or "", form.note.data
            )
        except ValidationFailed as exc:
            code = 422
            errors_onto_form(form, exc)
        except InvalidTransition as exc:
            code = 409
            flash(exc.detail, "error")
        else:
            flash(
                _(
                    "Certificado de %(name)s revocado. Ya no sirve para firmar y las firmas "
                    "hechas con él dejan de validar.",
                    name=status.certificate.user.name,
                ),
                "success",
            )
            return redirect(url_for("admin.certificates"))
    elif form.is_submitted():
        code = 422
    return render_template("admin/revoke_certificate.html", status=status, form=form), code


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | str:
    require_admin(current_user)
    keys = ("require_mfa_for_staff", "require_mfa_for_clients")
    form = SettingsForm(**{key: get_setting(key) for key in keys})
    if form.validate_on_submit():
        for key in keys:
            if bool(form[key].data) != bool(get_setting(key)):
                update_setting(current_user, key, bool(form[key].data))
        flash(_("Ajustes guardados."), "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


@bp.get("/audit")
@login_required
def audit_log() -> str | Response:
    require_admin(current_user)
    try:
        events = audit.list_events(
            target=request.args.get("target") or None,
            actor=request.args.get("actor") or None,
            page=cursor_page(request.args, limit=100),
        )
    except ValidationFailed as exc:  # an altered "older" link: back to the newest
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("admin.audit_log"))
    check = audit.verify_chain() if request.args.get("verify") else None
    return render_template("admin/audit.html", events=events, check=check)
