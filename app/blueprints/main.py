"""Dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.page_cache import cached_page
from app.services import agenda, clients, onboarding, requests

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
@cached_page
def dashboard() -> str:
    spaces = clients.list_spaces(current_user)
    client_list = clients.list_clients(current_user) if current_user.is_staff else []
    missing = requests.missing_by_client(current_user) if current_user.is_client else {}
    joining = onboarding.open_onboarding_for(current_user) if current_user.is_client else None
    return render_template(
        "main/dashboard.html",
        agenda=agenda.agenda_for(current_user),
        spaces=spaces,
        clients=client_list,
        missing=missing,
        joining=joining,
    )


@bp.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
