"""Upload settings: the kinds of file accepted (admin) and each client's storage quota (admin).

Also gives the templates what the drag-and-drop uploader (templates/uploads/_uploader.html)
needs: whether the Uppy bundle is installed, and sizes in words.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.blueprints.formatting import LocaleDecimalField, file_size
from app.blueprints.forms import errors_onto_form
from app.models import Client
from app.services import file_types, quotas
from app.services.access import get_client, require_admin
from app.services.errors import ValidationFailed
from app.services.settings import get_setting, update_setting

bp = Blueprint("uploads", __name__)

GB = 1024**3
UPPY_BUNDLE = Path("vendor") / "uppy" / "uppy.min.js"


class FileTypesForm(FlaskForm):
    kinds = TextAreaField(
        _l("Tipos de archivo admitidos (extensiones separadas por comas)"),
        validators=[DataRequired()],
    )


class QuotaForm(FlaskForm):
    quota_gb = LocaleDecimalField(
        _l("Cuota de almacenamiento en GB (vacío: sin límite)"),
        places=None,
        validators=[Optional(), NumberRange(min=0)],
    )


@cache
def _bundle_installed(static_folder: str) -> bool:
    return (Path(static_folder) / UPPY_BUNDLE).is_file()


def quota_panel(client: Client) -> dict[str, object]:
    """What the client page shows an admin: usage, quota and the form to change it."""
    quota = client.storage_quota
    return {
        "used": quotas.client_usage(client.id),
        "quota": quota,
        "form": QuotaForm(quota_gb=None if quota is None else round(quota / GB, 3)),
    }


@bp.app_context_processor
def uploader_context() -> dict[str, object]:
    return {
        "uploader_ready": _bundle_installed(str(current_app.static_folder)),
        "human_size": file_size,
        "quota_panel": quota_panel,
    }


@bp.route("/admin/uploads", methods=["GET", "POST"])
@login_required
def settings() -> Response | tuple[str, int]:
    require_admin(current_user)
    form = FileTypesForm(kinds=", ".join(get_setting(file_types.SETTING)))
    status = 200
    if form.validate_on_submit():
        try:
            kinds = file_types.parse_kinds(form.kinds.data or "")
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="kinds")
        else:
            update_setting(current_user, file_types.SETTING, kinds)
            flash(_("Tipos de archivo guardados."), "success")
            return redirect(url_for("uploads.settings"))
    if form.is_submitted():
        status = 422
    return (
        render_template(
            "uploads/settings.html",
            form=form,
            known=sorted(file_types.KNOWN_KINDS),
            max_size=int(current_app.config["MAX_UPLOAD_SIZE"]),
        ),
        status,
    )


@bp.post("/clients/<client_id>/quota")
@login_required
def set_quota(client_id: str) -> Response:
    client = get_client(current_user, client_id)
    require_admin(current_user)
    form = QuotaForm()
    if form.validate_on_submit():
        value = form.quota_gb.data
        quotas.set_quota(current_user, client.id, None if value is None else int(value * GB))
        flash(_("Cuota guardada."), "success")
    else:
        flash(_("Indique la cuota en GB, o déjela vacía para no limitar."), "error")
    return redirect(url_for("clients.detail", client_id=client.id))
