"""Dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.services import clients

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def dashboard() -> str:
    spaces = clients.list_spaces(current_user)
    client_list = clients.list_clients(current_user) if current_user.is_staff else []
    return render_template("main/dashboard.html", spaces=spaces, clients=client_list)


@bp.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
