"""Incidents ("incidencias"): a problem reported in a space, with a thread and a due time.

Statuses ``open → in_progress → waiting_client → resolved`` (staff move them freely; a client
may only resolve their own or reopen it). The due time comes from the priority (a setting);
one that is not resolved in time goes through the one alert engine: to the assignee (or the
space's staff), then to the space's managers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, select

from app.extensions import db
from app.models import Incident, Permission, Thread, User
from app.models.base import as_utc
from app.services import alerts, audit, conversations
from app.services.access import get_space, in_visible_spaces, space_permission
from app.services.alerts import LateThing
from app.services.errors import AccessDenied, NotFound, ValidationFailed
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.review import space_people
from app.services.settings import get_setting
from app.services.text import checked_text

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "waiting_client", "resolved")
#: What a client may do with their own incident: resolve it, or reopen it.
CLIENT_STATUSES = ("open", "resolved")


def _now() -> datetime:
    return datetime.now(UTC)


def due_after(priority: str) -> timedelta:
    hours = get_setting("incident_due_hours")
    return timedelta(hours=float(hours.get(priority, hours.get("normal", 48))))


def get_incident(actor: User, incident_id: str) -> Incident:
    found = db.session.get(Incident, str(incident_id or ""))
    if found is None or space_permission(actor, found.space) is None:
        raise NotFound()
    return found


def incident_of_thread(actor: User, thread: Thread) -> Incident | None:
    """The incident a thread belongs to, if any (the caller already sees the thread)."""
    return db.session.execute(
        select(Incident).where(Incident.thread_id == thread.id)
    ).scalar_one_or_none()


def create_incident(
    actor: User,
    space_id: str,
    *,
    title: Any,
    body: Any,
    category: Any = None,
    priority: Any = None,
) -> Incident:
    space = get_space(actor, space_id, Permission.view)
    errors: dict[str, str] = {}
    clean_title = checked_text(errors, "title", title, max_length=300, required=True)
    clean_body = checked_text(errors, "body", body, max_length=20000, required=True, multiline=True)
    clean_category = checked_text(errors, "category", category, max_length=100)
    chosen = "normal" if priority in (None, "") else priority  # not said: normal
    if chosen not in PRIORITIES:
        errors["priority"] = _("La prioridad debe ser low, normal, high o urgent.")
    if errors:
        raise ValidationFailed(errors)
    thread = conversations.create_thread(
        actor, space.id, subject=clean_title, body=clean_body, visibility="shared"
    )
    now = _now()
    incident = Incident(
        space_id=space.id,
        thread_id=thread.id,
        title=clean_title or "",
        category=clean_category,
        priority=chosen,
        status="open",
        due_at=now + due_after(chosen),
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(incident)
    db.session.flush()
    audit.record("incident_opened", actor, f"incident:{incident.id}", priority=chosen)
    staff = [u for u in space_people(space) if u.is_staff and u.id != actor.id]
    notify(staff, "incident_opened", link=f"/incidents/{incident.id}", title=incident.title)
    return incident


def list_incidents(
    actor: User,
    *,
    status: Any = None,
    priority: Any = None,
    space_id: str | None = None,
    page: PageArgs | None = None,
) -> Page[Incident]:
    """Open ones first, each part soonest due first."""
    errors: dict[str, str] = {}
    if status not in (None, "", *STATUSES):
        errors["status"] = _("Ese estado no existe.")
    if priority not in (None, "", *PRIORITIES):
        errors["priority"] = _("La prioridad debe ser low, normal, high o urgent.")
    if errors:
        raise ValidationFailed(errors)
    query = in_visible_spaces(select(Incident), actor, Incident.space_id)
    if status:
        query = query.where(Incident.status == status)
    if priority:
        query = query.where(Incident.priority == priority)
    if space_id:
        query = query.where(Incident.space_id == space_id)
    resolved = case((Incident.status == "resolved", 1), else_=0)
    order = (Key(resolved), Key(Incident.due_at), Key(Incident.id))
    return keyset(query, order, page, scope="incidents")


def update_incident(
    actor: User,
    incident_id: str,
    *,
    status: Any = None,
    assignee_id: Any = None,
    priority: Any = None,
    unassign: bool = False,
) -> Incident:
    """Move, assign (or, with `unassign`, leave unassigned) or reprioritise an incident."""
    incident = get_incident(actor, incident_id)
    errors: dict[str, str] = {}
    if actor.is_client:
        if assignee_id is not None or priority is not None or unassign:
            raise AccessDenied(_("Solo el despacho asigna o cambia la prioridad."))
        if status not in CLIENT_STATUSES:
            raise AccessDenied(_("Puede dar la incidencia por resuelta o reabrirla."))
    if status is not None and status not in STATUSES:
        errors["status"] = _("El estado debe ser open, in_progress, waiting_client o resolved.")
    if priority is not None and priority not in PRIORITIES:
        errors["priority"] = _("La prioridad debe ser low, normal, high o urgent.")
    assignee = None
    if assignee_id is not None:
        assignee = db.session.get(User, str(assignee_id))
        if (
            assignee is None
            or not assignee.is_staff
            or space_permission(assignee, incident.space) is None
        ):
            errors["assignee_id"] = _("Asigne a alguien del despacho con acceso a este espacio.")
    if errors:
        raise ValidationFailed(errors)
    changes: dict[str, Any] = {}
    if status is not None and status != incident.status:
        changes["status"] = [incident.status, status]
        incident.status = status
        incident.resolved_at = _now() if status == "resolved" else None
        if status == "open" and as_utc(incident.due_at) < _now():
            incident.due_at = _now() + due_after(incident.priority)  # reopened: a fresh due time
    if priority is not None and priority != incident.priority:
        changes["priority"] = [incident.priority, priority]
        incident.priority = priority
        incident.due_at = as_utc(incident.created_at) + due_after(priority)
    if unassign and assignee_id is None and incident.assignee_id is not None:
        changes["assignee"] = [incident.assignee_id, None]
        incident.assignee_id = None
    if assignee is not None and assignee.id != incident.assignee_id:
        changes["assignee"] = [incident.assignee_id, assignee.id]
        incident.assignee_id = assignee.id
        notify(
            [assignee], "incident_assigned", link=f"/incidents/{incident.id}", title=incident.title
        )
    db.session.flush()
    if changes:
        audit.record("incident_updated", actor, f"incident:{incident.id}", **changes)
        if "status" in changes:
            thread = db.session.get(Thread, incident.thread_id)
            people = [u for u in space_people(incident.space) if u.id != actor.id]
            if thread is not None:
                notify(
                    people,
                    "incident_status",
                    link=f"/incidents/{incident.id}",
                    title=incident.title,
                    status=incident.status,
                )
    return incident


# ---------------------------------------------------------------- late incidents


def _late_incidents(now: datetime) -> list[LateThing]:
    rows = db.session.execute(
        select(Incident).where(Incident.status != "resolved", Incident.due_at < now)
    ).scalars()
    late = []
    for incident in rows:
        overdue = now - as_utc(incident.due_at)
        level = 2 if overdue >= due_after(incident.priority) else 1

        def recipients(level: int, incident: Incident = incident) -> list[User]:
            people = space_people(incident.space)
            managers = [
                u
                for u in people
                if u.is_staff and space_permission(u, incident.space) == Permission.manage
            ]
            first = [incident.assignee] if incident.assignee else [u for u in people if u.is_staff]
            return [*first, *managers] if level >= 2 else first

        late.append(
            LateThing(
                kind="incident",
                target_type="incident",
                target_id=incident.id,
                space_id=incident.space_id,
                level=level,
                due=as_utc(incident.due_at).date() if incident.due_at else date.today(),
                summary=incident.title,
                link=f"/incidents/{incident.id}",
                recipients=recipients,
            )
        )
    return late


alerts.register_finder(_late_incidents)
