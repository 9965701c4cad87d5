"""Notifications: in the app (the bell) and by e-mail, immediately or in a daily digest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import DocumentRequest, Notification, User
from app.models.base import new_id
from app.services.mail import queue_mail
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import setting
from workflows import requests as rules
from workflows.requests import ItemStatus

EMAIL_MODES = ("immediate", "daily", "off")


def _with_local_dates(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its due date (stored as ISO 8601) written for the current locale."""
    due = payload.get("due")
    if not isinstance(due, str):
        return payload
    try:
        day = date.fromisoformat(due)
    except ValueError:
        return payload
    return {**payload, "due": format_date(day, "medium")}


def describe(notification: Notification) -> str:
    """The sentence shown for a notification, in the current locale."""
    p: dict[str, Any] = _with_local_dates(notification.payload or {})
    kind = notification.kind
    if kind == "review_requested":
        return _("Nuevo documento para revisar: «%(title)s» (v%(version)s).", **p)
    if kind == "review_decision":
        states = {
            "validated": _("validado"),
            "changes_requested": _("con cambios solicitados"),
            "checked": _("revisado"),
            "read": _("leído"),
        }
        state = p.get("state")
        return _(
            "«%(title)s» v%(version)s: %(state)s por %(actor)s.",
            **{**p, "state": states.get(state, state) if isinstance(state, str) else state},
        )
    if kind == "comment_added":
        return _("%(actor)s comentó «%(title)s»: %(excerpt)s", **p)
    if kind == "transmittal":
        return _("Remisión %(number)s: %(count)s documentos para revisar antes del %(due)s.", **p)
    if kind == "alert_review":
        if p.get("level", 1) >= 2:
            return _("Escalado: «%(title)s» lleva demasiado tiempo sin revisar.", **p)
        return _("Pendiente: «%(title)s» espera su revisión desde hace días.", **p)
    if kind == "request_created":
        return _("El despacho le pide %(count)s documentos: «%(title)s», antes del %(due)s.", **p)
    if kind == "request_item_submitted":
        return _("%(actor)s ha enviado «%(item)s» para «%(title)s».", **p)
    if kind == "request_item_rejected":
        return _("«%(item)s» (%(title)s) necesita otro archivo: %(comment)s", **p)
    if kind == "alert_request":
        return _("Faltan documentos en «%(title)s» (vence el %(due)s).", **p)
    if kind == "alert_signature":
        return _("Firma pendiente: «%(title)s» (vence el %(due)s).", **p)
    if kind == "alert_integrity":
        return _(
            "Archivo dañado: «%(title)s» ya no coincide con su huella SHA-256 y no se sirve.", **p
        )
    if kind == "onboarding_review":
        return _("%(title)s ha confirmado sus datos de identidad: revise y apruebe su alta.", **p)
    if kind == "onboarding_rejected":
        return _("Su alta no se ha aprobado: %(title)s", **p)
    if kind == "onboarding_active":
        return _("¡Bienvenido! Sus servicios ya están activos.", **p)
    if kind == "alert_onboarding":
        if p.get("level", 1) >= 2:
            return _("Escalado: el alta de %(title)s lleva días parada.", **p)
        return _("Alta pendiente: %(title)s lleva días sin avanzar; continúe donde se quedó.", **p)
    if kind == "message_posted":
        return _("%(actor)s escribió en «%(title)s»: %(excerpt)s", **p)
    if kind == "incident_opened":
        return _("Nueva incidencia: «%(title)s».", **p)
    if kind == "incident_assigned":
        return _("Le han asignado la incidencia «%(title)s».", **p)
    if kind == "incident_status":
        return _("La incidencia «%(title)s» ha cambiado de estado.", **p)
    if kind == "alert_incident":
        if p.get("level", 1) >= 2:
            return _("Escalado: la incidencia «%(title)s» sigue sin resolver.", **p)
        return _("La incidencia «%(title)s» ha pasado su plazo.", **p)
    return p.get("text") or kind


def notify(
    users: Iterable[User],
    kind: str,
    *,
    link: str,
    reply_to: Callable[[User], str] | None = None,
    flush: bool = True,
    **payload: Any,
) -> list[Notification]:
    """Tell each person once; e-mail now, in tomorrow's digest, or not, as each prefers.

    ``reply_to`` gives the e-mail's reply address for each person (a thread's, so that
    answering the e-mail answers in the portal).
    """
    created = []
    seen: set[str] = set()
    for user in users:
        if user.id in seen or not user.active:
            continue
        seen.add(user.id)
        notification = Notification(
            id=new_id(), user_id=user.id, kind=kind, payload={**payload, "link": link}
        )
        db.session.add(notification)
        created.append(notification)
        if user.notify_email == "immediate":
            with force_locale(user.locale):
                message = describe(notification)
            queue_mail(
                [user.email],
                "notification",
                locale=user.locale,
                reply_to=reply_to(user) if reply_to else None,
                user=user,
                message=message,
                link=f"{setting('BASE_URL')}{link}",
            )
            notification.emailed_at = datetime.now(UTC)
    if flush:  # a campaign telling hundreds of people flushes once, after the last
        db.session.flush()
    return created


def unread_count(user: User) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()


def list_notifications(user: User, page: PageArgs | None = None) -> Page[Notification]:
    """The person's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    order = (Key(Notification.created_at, desc=True), Key(Notification.id, desc=True))
    return keyset(query, order, page, scope="notifications")


def mark_all_read(user: User) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )


def set_email_mode(user: User, mode: str) -> None:
    if mode in EMAIL_MODES:
        user.notify_email = mode


#: Notifications about a document request that the digest replaces by what is still missing.
_REQUEST_KINDS = {"request_created", "alert_request", "request_item_rejected"}


def _request_of(notification: Notification) -> str | None:
    link = str((notification.payload or {}).get("link") or "")
    if notification.kind in _REQUEST_KINDS and link.startswith("/requests/"):
        return link.removeprefix("/requests/").split("/")[0] or None
    return None


def _digest_lines(items: list[Notification]) -> list[tuple[str, str]]:
    """The digest's lines: a request is named once, with only the items it still lacks, and
    not at all once complete (the person sent everything since the notification)."""
    base = setting("BASE_URL")
    wanted = {r for r in (_request_of(n) for n in items) if r}
    found = {
        r.id: r
        for r in db.session.execute(
            select(DocumentRequest)
            .where(DocumentRequest.id.in_(wanted))
            .options(selectinload(DocumentRequest.items))
        ).scalars()
    }
    lines: list[tuple[str, str]] = []
    named: set[str] = set()
    for n in items:
        request_id = _request_of(n)
        request = found.get(request_id or "")
        if request is None:
            lines.append((describe(n), f"{base}{(n.payload or {}).get('link', '/')}"))
            continue
        if request.id in named:
            continue
        named.add(request.id)
        missing = [
            i.title for i in request.items if i.required and rules.is_missing(ItemStatus(i.status))
        ]
        if request.completed_at is not None or not missing:
            continue
        lines.append(
            (
                _(
                    "Falta en «%(title)s» (vence el %(due)s): %(items)s.",
                    title=request.title,
                    due=format_date(request.due_date, "long"),
                    items=", ".join(missing),
                ),
                f"{base}/requests/{request.id}",
            )
        )
    return lines


def send_daily_digests(now: datetime | None = None) -> int:
    """One e-mail per person who chose the digest, listing what they have not been e-mailed."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=7)
    rows = db.session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            User.notify_email == "daily",
            Notification.emailed_at.is_(None),
            Notification.created_at >= since,
        )
        .order_by(Notification.created_at)
    ).all()
    by_user: dict[str, tuple[User, list[Notification]]] = defaultdict(lambda: (None, []))  # type: ignore[arg-type,return-value]
    for notification, user in rows:
        by_user.setdefault(user.id, (user, []))
        by_user[user.id][1].append(notification)
    sent = 0
    for user, items in by_user.values():
        if user is None or not items:
            continue
        with force_locale(user.locale):
            lines = _digest_lines(items)
        for n in items:
            n.emailed_at = now
        if not lines:
            continue  # all it would have said is about requests complete since
        queue_mail([user.email], "digest", locale=user.locale, user=user, lines=lines)
        sent += 1
    db.session.flush()
    return sent
