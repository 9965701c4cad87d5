"""Dashboard."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.page_cache import cached_page
from app.services import agenda, clients, onboarding
from app.services.errors import ValidationFailed
from app.services.paging import cursor_page

#: Spaces listed on the home page at a time (a "more" link shows the next ones).
HOME_SPACES = 50
#: The most urgent things the home page's agenda shows (and how many more there are).
HOME_AGENDA = 15

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
@cached_page
def dashboard() -> str | Response:
    try:
        spaces = clients.list_spaces(
            current_user,
            page=cursor_page(request.args, limit=HOME_SPACES),
        )
    except ValidationFailed as exc:  # an altered "more" link: back to the first spaces
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("main.dashboard"))
    client_count = clients.count_clients(current_user) if current_user.is_staff else 0
    joining = onboarding.open_onboarding_for(current_user) if current_user.is_client else None
    waiting = agenda.agenda_for(current_user, top=HOME_AGENDA)
    g.unread_messages = waiting.unread_messages  # the header's count, without asking again
    return render_template(
        "main/dashboard.html",
        agenda=waiting,
        spaces=spaces,
        client_count=client_count,
        missing=waiting.missing,
        joining=joining,
    )


@bp.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
