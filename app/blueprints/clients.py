"""Clients: list, create, detail with spaces and client users."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import ClientForm, ClientUserForm, SpaceForm, errors_onto_form
from app.models import Role
from app.services import accounts, clients
from app.services.access import get_client, require_staff
from app.services.errors import ValidationFailed
from app.services.paging import cursor_page

bp = Blueprint("clients", __name__, url_prefix="/clients")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Response | str:
    require_staff(current_user)
    form = ClientForm()
    if form.validate_on_submit():
        client = clients.create_client(
            current_user,
            name=form.name.data or "",
            tax_id=form.tax_id.data,
            kind=form.kind.data or "company",
        )
        flash(_("Cliente creado."), "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    try:
        found = clients.list_clients(current_user, cursor_page(request.args, limit=100))
    except ValidationFailed as exc:  # an altered "more" link: back to the first page
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("clients.index"))
    return render_template("clients/index.html", clients=found, form=form)


@bp.route("/<client_id>", methods=["GET", "POST"])
@login_required
def detail(client_id: str) -> Response | str:
    client = get_client(current_user, client_id)
    require_staff(current_user)
    space_form = SpaceForm(prefix="space")
    user_form = ClientUserForm(prefix="user")
    if request.method == "POST" and "space-name" in request.form and space_form.validate():
        space = clients.create_space(
            current_user,
            client.id,
            name=space_form.name.data or "",
            kind=space_form.kind.data or "general",
        )
        flash(_("Espacio creado."), "success")
        return redirect(url_for("spaces.detail", space_id=space.id))
    if request.method == "POST" and "user-email" in request.form and user_form.validate():
        try:
            accounts.create_user(
                current_user,
                email=user_form.email.data or "",
                name=user_form.name.data or "",
                role=Role.client,
                client_id=client.id,
                locale=user_form.locale.data or "es",
            )
        except ValidationFailed as exc:
            errors_onto_form(user_form, exc)
        else:
            flash(_("Invitación enviada por e-mail."), "success")
            return redirect(url_for("clients.detail", client_id=client.id))
    return render_template(
        "clients/detail.html",
        client=client,
        spaces=clients.list_spaces(current_user, client.id),
        users=clients.list_client_users(current_user, client.id),
        space_form=space_form,
        user_form=user_form,
    )
