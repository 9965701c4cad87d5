"""Document requests: checklists, uploads against items, review by staff, reminders until complete."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import (
    DocumentRequest,
    Permission,
    ReminderSent,
    RequestItem,
    RequestItemFile,
    RequestTemplate,
    SpaceMember,
    User,
)
from app.models.base import new_id
from app.services import alerts, audit, documents
from app.services.access import (
    get_space,
    require_staff,
    space_permission,
    visible_space_ids,
)
from app.services.errors import InvalidTransition, NotFound, UnsupportedType, ValidationFailed
from app.services.file_types import read_head
from app.services.mail import queue_mail
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset, page_list
from app.services.request_templates import BUILTIN
from app.services.runtime import setting
from app.services.text import checked_text
from workflows import requests as rules
from workflows.requests import ItemStatus
from workflows.schedule import ReminderPolicy, escalation_level_for_request, reminder_kind

DEFAULT_ESCALATE_AFTER_DAYS = 3


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- templates


def ensure_templates() -> None:
    """Put the shipped checklists in the database once; firms then edit their copies."""
    existing = set(db.session.execute(select(RequestTemplate.key)).scalars())
    for template in BUILTIN:
        if template["key"] not in existing:
            db.session.add(_shipped(template))
    db.session.flush()


def _shipped(template: dict[str, Any]) -> RequestTemplate:
    return RequestTemplate(
        key=template["key"],
        name=template["name"],
        description=template["description"],
        items=template["items"],
        recurrence=template["recurrence"],
    )


def list_templates(page: PageArgs | None = None) -> Page[RequestTemplate]:
    """The checklists, by name: the firm's copies, and shipped ones not stored yet (read only:
    a page that lists them writes nothing; ``portal init`` or the first edit stores them)."""
    stored = list(db.session.execute(select(RequestTemplate)).scalars())
    keys = {template.key for template in stored}
    missing = [_shipped(template) for template in BUILTIN if template["key"] not in keys]
    return page_list(
        [*stored, *missing],
        lambda template: (template.name, template.key),
        page,
        scope="request-templates",
    )


def get_template(key: str) -> RequestTemplate | None:
    """A checklist by key: the stored one, else the shipped one (not stored by this)."""
    found = _stored_template(key)
    if found is not None:
        return found
    shipped = next((template for template in BUILTIN if template["key"] == key), None)
    return _shipped(shipped) if shipped is not None else None


def _stored_template(key: str) -> RequestTemplate | None:
    return db.session.execute(
        select(RequestTemplate).where(RequestTemplate.key == key)
    ).scalar_one_or_none()


def reminder_days(text: str | None) -> list[int]:
    """Days before the due date to remind on, as typed: "7, 1" is [7, 1]."""
    try:
        return [int(day) for day in (text or "").replace(" ", "").split(",") if day]
    except ValueError:
        raise ValidationFailed(
            {"days_before": _("Escriba números separados por comas, p. ej. 7,1.")}
        ) from None


def update_template(
    actor: User, key: str, *, name: str, items: list[dict[str, Any]]
) -> RequestTemplate:
    require_staff(actor)
    ensure_templates()
    template = _stored_template(key)
    if template is None:
        raise NotFound()
    cleaned = _clean_items(items)
    if isinstance(name, str | None) and not (name or "").strip():
        raise ValidationFailed({"name": _("El nombre es obligatorio.")})
    errors: dict[str, str] = {}
    clean_name = checked_text(errors, "name", name, max_length=200, required=True)
    if errors or clean_name is None:
        raise ValidationFailed(errors)
    template.name = clean_name
    template.items = cleaned
    template.updated_at = _now()
    audit.record("request_template_updated", actor, f"request_template:{key}")
    return template


#: What a request item's ``required`` may be sent as (JSON true/false, or form text).
_YES = (True, "true", "1")
_NO = (False, "false", "0")


def _clean_items(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for raw in items or []:
        if not isinstance(raw, dict):
            raise ValidationFailed({"items": _("Cada elemento necesita un título.")})
        errors: dict[str, str] = {}
        title = checked_text(errors, "items", raw.get("title"), max_length=300)
        description = checked_text(
            errors, "items", raw.get("description"), max_length=2000, multiline=True
        )
        required = True if raw.get("required") is None else raw["required"]
        if required not in _YES and required not in _NO:
            errors["items"] = _("«required» es true o false.")
        if errors:
            raise ValidationFailed(errors)
        if not title:
            raise ValidationFailed({"items": _("Cada elemento necesita un título.")})
        types = _accepted_types(raw.get("accepted_types"))
        if types is None:
            raise ValidationFailed(
                {
                    "items": _(
                        "«accepted_types» es una lista de extensiones o un texto con ellas "
                        "separadas por comas («pdf,dxf»)."
                    )
                }
            )
        cleaned.append(
            {
                "title": title,
                "description": description or "",
                "required": required in _YES,
                "accepted_types": types,
            }
        )
    if not cleaned:
        raise ValidationFailed({"items": _("Añada al menos un documento a la lista.")})
    return cleaned


def _accepted_types(value: Any) -> str | None:
    """The extensions an item accepts, comma-separated (as stored), from a text ("pdf, .dxf")
    or a list (``["pdf", "dxf"]``, as the API answers them); ``None`` when it is neither."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        return None
    return ",".join(
        dict.fromkeys(part.strip().lower().lstrip(".") for part in parts if part.strip())
    )


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class RequestPlan:
    """A request checked once, ready to be made in one space or in many (a campaign)."""

    title: str
    message: str | None
    due_date: date
    reminders: dict[str, Any]
    template_key: str | None
    recurrence: str | None
    items: list[dict[str, Any]]


def plan_request(
    *,
    title: str | None,
    due_date: date | None,
    items: list[dict[str, Any]] | None = None,
    template: str | None = None,
    reminders: dict[str, Any] | None = None,
    recurrence: str | None = None,
    message: str | None = None,
    today: date,
) -> RequestPlan:
    """Check what a new request says (``ValidationFailed`` naming each bad field)."""
    errors: dict[str, str] = {}
    chosen = None
    if template:
        chosen = get_template(template) if isinstance(template, str) else None
        if chosen is None:
            errors["template"] = _("Esa plantilla no existe.")
    if due_date is None:
        errors["due_date"] = _("Indique la fecha límite (AAAA-MM-DD).")
    elif due_date < today:
        errors["due_date"] = _("La fecha límite no puede estar en el pasado.")
    try:
        policy_fields = {k: v for k, v in (reminders or {}).items() if k != "escalate_after_days"}
        policy = ReminderPolicy.from_dict(policy_fields) if policy_fields else ReminderPolicy()
    except (ValueError, TypeError) as exc:
        errors["reminders"] = str(exc)
        policy = ReminderPolicy()
    escalate_after = (reminders or {}).get("escalate_after_days", DEFAULT_ESCALATE_AFTER_DAYS)
    if not isinstance(escalate_after, int) or escalate_after < 0:
        errors["reminders"] = "escalate_after_days debe ser un número de días (0 o más)."
    clean_title = checked_text(errors, "title", title, max_length=300)
    clean_message = checked_text(errors, "message", message, max_length=5000, multiline=True)
    if recurrence not in (None, "", "yearly"):
        errors["recurrence"] = _("La periodicidad debe ser yearly o ninguna.")
    try:
        cleaned = _clean_items(items if items else (chosen.items if chosen else []))
    except ValidationFailed as exc:
        errors.update(exc.errors)
        cleaned = []
    if errors:
        raise ValidationFailed(errors)
    assert due_date is not None
    return RequestPlan(
        title=clean_title or (chosen.name if chosen else "Solicitud de documentos"),
        message=clean_message,
        due_date=due_date,
        reminders={**policy.to_dict(), "escalate_after_days": escalate_after},
        template_key=chosen.key if chosen else None,
        recurrence=recurrence or (chosen.recurrence if chosen else None),
        items=cleaned,
    )


def create_request(
    actor: User,
    space_id: str,
    *,
    title: str | None,
    due_date: date | None,
    items: list[dict[str, Any]] | None = None,
    template: str | None = None,
    reminders: dict[str, Any] | None = None,
    recurrence: str | None = None,
    message: str | None = None,
    today: date,
    previous_id: str | None = None,
) -> DocumentRequest:
    space = get_space(actor, space_id, Permission.contribute)
    require_staff(actor)
    plan = plan_request(
        title=title,
        due_date=due_date,
        items=items,
        template=template,
        reminders=reminders,
        recurrence=recurrence,
        message=message,
        today=today,
    )
    (request,) = _make_requests(actor, [space.id], plan, previous_id=previous_id)
    notify(
        _client_people(request),
        "request_created",
        link=f"/requests/{request.id}",
        title=request.title,
        due=request.due_date.isoformat(),
        count=len(plan.items),
    )
    return request


def create_requests(
    actor: User, people_by_space: dict[str, list[User]], plan: RequestPlan
) -> dict[str, DocumentRequest]:
    """The same request in many spaces at once (a campaign's batch), by space id; each
    space's client people (given, as the caller already read them) are told as for one."""
    require_staff(actor)
    made = _make_requests(actor, list(people_by_space), plan)
    for request in made:
        notify(
            people_by_space[request.space_id],
            "request_created",
            link=f"/requests/{request.id}",
            flush=False,
            title=request.title,
            due=request.due_date.isoformat(),
            count=len(plan.items),
        )
    db.session.flush()
    return {request.space_id: request for request in made}


def _make_requests(
    actor: User, space_ids: list[str], plan: RequestPlan, *, previous_id: str | None = None
) -> list[DocumentRequest]:
    made = [
        DocumentRequest(
            id=new_id(),  # known before the insert: the ORM writes them in one statement
            space_id=space_id,
            title=plan.title,
            message=plan.message,
            due_date=plan.due_date,
            reminders=dict(plan.reminders),
            template_key=plan.template_key,
            recurrence=plan.recurrence,
            owner_id=actor.id,
            previous_id=previous_id,
            # every item starts pending (inserted below in one statement)
            items_total=len(plan.items),
            items_pending=len(plan.items),
            items_missing=sum(1 for item in plan.items if item["required"]),
        )
        for space_id in space_ids
    ]
    db.session.add_all(made)
    db.session.flush()
    now, pending = _now(), ItemStatus.PENDING.value
    # the table's own insert: one statement for all (the ORM's bulk insert starts a new one
    # at each change in which columns are left empty)
    db.session.execute(
        insert(RequestItem.__table__),
        [
            {
                "request_id": request.id,
                "position": position,
                "title": item["title"],
                "description": item["description"] or None,
                "required": item["required"],
                "accepted_types": item["accepted_types"] or None,
                "status": pending,
                "updated_at": now,
            }
            for request in made
            for position, item in enumerate(plan.items)
        ],
    )
    audit.record_many(
        [
            (
                "request_created",
                actor,
                f"space:{request.space_id}",
                {"request_id": request.id, "items": len(plan.items)},
            )
            for request in made
        ]
    )
    return made


def _client_people(request: DocumentRequest) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .join(SpaceMember, SpaceMember.user_id == User.id)
            .where(
                SpaceMember.space_id == request.space_id,
                User.role == "client",
                User.active.is_(True),
            )
        ).scalars()
    )


def get_request(actor: User, request_id: str) -> DocumentRequest:
    request = db.session.get(DocumentRequest, str(request_id))
    if request is None:
        raise NotFound()
    get_space(actor, request.space_id)
    return request


def list_requests(
    actor: User, space_id: str, page: PageArgs | None = None
) -> Page[DocumentRequest]:
    """A space's requests, soonest due first."""
    space = get_space(actor, space_id)
    query = (
        select(DocumentRequest)
        .where(DocumentRequest.space_id == space.id)
        .options(selectinload(DocumentRequest.items))  # every caller shows their progress
    )
    order = (Key(DocumentRequest.due_date), Key(DocumentRequest.id))
    return keyset(query, order, page, scope=f"requests:{space.id}")


def progress_of(request: DocumentRequest) -> rules.Progress:
    return rules.progress((ItemStatus(i.status), i.required) for i in request.items)


def get_item(actor: User, item_id: str) -> RequestItem:
    """An item of a request the actor may see (404 otherwise)."""
    return _item_for(actor, item_id)


def _item_for(actor: User, item_id: str, need: Permission = Permission.view) -> RequestItem:
    item = db.session.get(RequestItem, str(item_id))
    if item is None:
        raise NotFound()
    get_space(actor, item.request.space_id, need)
    return item


def _set_status(item: RequestItem, status: ItemStatus, *, recount: bool = True) -> None:
    item.status = status.value
    item.updated_at = _now()
    if recount:
        _recount(item.request)


def _recount(request: DocumentRequest) -> None:
    """The request's counts of its items by status (what a campaign board reads) and whether
    it is complete, from the database once this transaction's moves are written.

    The request's row is locked first: when two items of one request move at once (a client
    sending several files in parallel), the second is counted after the first commits, never
    from a view that misses it (PostgreSQL; SQLite writes one transaction at a time).
    """
    db.session.flush()
    db.session.refresh(request, with_for_update=True)
    items = db.session.execute(
        select(RequestItem.status, RequestItem.required).where(RequestItem.request_id == request.id)
    ).all()
    by_status = Counter(status for status, _required in items)
    request.items_total = len(items)
    request.items_pending = by_status[ItemStatus.PENDING.value]
    request.items_submitted = by_status[ItemStatus.SUBMITTED.value]
    request.items_accepted = by_status[ItemStatus.ACCEPTED.value]
    request.items_not_applicable = by_status[ItemStatus.NOT_APPLICABLE.value]
    request.items_missing = sum(
        1 for status, required in items if required and status == ItemStatus.PENDING.value
    )
    done = rules.is_complete((ItemStatus(status), required) for status, required in items)
    request.completed_at = (request.completed_at or _now()) if done else None


def _transition(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except rules.ReasonRequired:
        raise ValidationFailed({"reason": _("Explique el motivo.")}) from None
    except rules.InvalidItemTransition as exc:
        raise _refused(exc) from exc


def _refused(exc: rules.InvalidItemTransition) -> InvalidTransition:
    """Why the item's status does not allow the step, said to the person (the rules' own
    message is for developers, in English)."""
    if isinstance(exc, rules.ItemClosed):
        return InvalidTransition(
            _(
                "Este documento ya está aceptado o marcado como «no aplica»; el despacho puede reabrirlo."
            )
        )
    if exc.action == rules.ItemAction.REOPEN:
        return InvalidTransition(
            _("Solo se reabre un documento aceptado o marcado como «no aplica».")
        )
    if exc.action == rules.ItemAction.MARK_NOT_APPLICABLE:
        return InvalidTransition(
            _("Ya se ha enviado un archivo para este documento: el despacho lo revisará.")
        )
    return InvalidTransition(_("Todavía no se ha enviado ningún archivo para este documento."))


def upload_to_item(
    actor: User, item_id: str, stream: BinaryIO, *, filename: str | None
) -> RequestItem:
    """The upload becomes a document of the space (with its review state) linked to the item."""
    item = _item_for(actor, item_id, Permission.contribute)
    new_status = _transition(rules.submit, ItemStatus(item.status))
    head, stream = read_head(stream, 1)
    if not head:  # a phone that could not read the file sends nothing: not the document asked
        raise ValidationFailed({"file": _("El archivo está vacío: no se ha guardado nada.")})
    if item.accepted_types:
        allowed = item.accepted_types.split(",")
        extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
        if extension not in allowed:
            raise UnsupportedType(
                _("Este documento se acepta en: %(kinds)s.", kinds=", ".join(allowed))
            )
    document = documents.upload_document(
        actor,
        item.request.space_id,
        stream,
        filename=filename,
        title=item.title,
        category="solicitud",
    )
    db.session.add(
        RequestItemFile(item_id=item.id, document_id=document.id, uploaded_by_id=actor.id)
    )
    _set_status(item, new_status)
    item.review_comment = None
    db.session.flush()
    audit.record(
        "request_item_submitted", actor, f"request_item:{item.id}", document_id=document.id
    )
    owner = item.request.owner
    notify(
        [owner] if owner.id != actor.id else [],
        "request_item_submitted",
        link=f"/requests/{item.request_id}",
        title=item.request.title,
        item=item.title,
        actor=actor.name,
    )
    return item


def mark_not_applicable(actor: User, item_id: str, reason: str | None) -> RequestItem:
    item = _item_for(actor, item_id, Permission.contribute)
    errors: dict[str, str] = {}
    typed = checked_text(errors, "reason", reason, max_length=2000, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    new_status = _transition(rules.mark_not_applicable, ItemStatus(item.status), typed)
    item.not_applicable_reason = typed or ""
    _set_status(item, new_status)
    audit.record(
        "request_item_not_applicable",
        actor,
        f"request_item:{item.id}",
        reason=item.not_applicable_reason,
    )
    return item


def close_missing(actor: User, request: DocumentRequest, reason: str) -> int:
    """Stop asking for what is still missing (a campaign closed by staff, whose rights were
    checked on the campaign): those items become «no aplica» with the reason; what was sent
    stays for review. Returns how many items were closed."""
    closed = 0
    for item in _missing(request):
        try:
            new_status = rules.mark_not_applicable(ItemStatus(item.status), reason)
        except rules.InvalidItemTransition:
            continue
        item.not_applicable_reason = reason
        _set_status(item, new_status, recount=False)  # counted once below
        audit.record("request_item_not_applicable", actor, f"request_item:{item.id}", reason=reason)
        closed += 1
    if closed:
        _recount(request)
    db.session.flush()
    return closed


def review_item(actor: User, item_id: str, action: str, comment: Any = None) -> RequestItem:
    item = _item_for(actor, item_id)
    require_staff(actor)
    errors: dict[str, str] = {}
    comment = checked_text(errors, "comment", comment, max_length=2000, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    if space_permission(actor, item.request.space) not in (
        Permission.contribute,
        Permission.manage,
    ):
        raise InvalidTransition(_("Su permiso en este espacio no permite revisar."))
    if action == "accept":
        new_status = _transition(rules.accept, ItemStatus(item.status))
    elif action == "reject":
        try:
            new_status = rules.reject(ItemStatus(item.status), comment)
        except rules.ReasonRequired:
            raise ValidationFailed({"comment": _("Explique qué falta o qué está mal.")}) from None
        except rules.InvalidItemTransition as exc:
            raise _refused(exc) from exc
        item.review_comment = (comment or "").strip()
        notify(
            _client_people(item.request),
            "request_item_rejected",
            link=f"/requests/{item.request_id}",
            title=item.request.title,
            item=item.title,
            comment=item.review_comment,
        )
    elif action == "reopen":
        new_status = _transition(rules.reopen, ItemStatus(item.status))
    else:
        raise ValidationFailed({"action": _("La acción debe ser accept, reject o reopen.")})
    item.reviewed_by_id = actor.id
    _set_status(item, new_status)
    audit.record(f"request_item_{action}", actor, f"request_item:{item.id}", comment=comment)
    return item


# ---------------------------------------------------------------- reminders and escalation


def _missing(request: DocumentRequest) -> list[RequestItem]:
    return [i for i in request.items if i.required and rules.is_missing(ItemStatus(i.status))]


def _open_requests() -> list[DocumentRequest]:
    return list(
        db.session.execute(
            select(DocumentRequest).where(DocumentRequest.completed_at.is_(None))
        ).scalars()
    )


def _claim(subject: str, on_date: date) -> bool:
    """Record that something was sent on a day; False if it already was (never twice)."""
    exists = db.session.execute(
        select(ReminderSent.id).where(
            ReminderSent.subject == subject, ReminderSent.on_date == on_date
        )
    ).first()
    if exists:
        return False
    db.session.add(ReminderSent(subject=subject, on_date=on_date))
    db.session.flush()
    return True


def send_reminders(today: date) -> int:
    """Requests whose cadence falls today remind their client people: one digest e-mail per person."""
    per_user: dict[str, tuple[User, list[tuple[DocumentRequest, list[RequestItem], Any]]]] = {}
    for request in _open_requests():
        missing = _missing(request)
        if not missing:
            continue
        policy = ReminderPolicy.from_dict(
            {k: v for k, v in (request.reminders or {}).items() if k != "escalate_after_days"}
        )
        kind = reminder_kind(policy, request.due_date, today)
        if kind is None or not _claim(f"request:{request.id}", today):
            continue
        for user in _client_people(request):
            per_user.setdefault(user.id, (user, []))[1].append((request, missing, kind))
    sent = 0
    for user, entries in per_user.values():
        if not _claim(f"digest:{user.id}", today):
            continue
        lines = [
            {
                "title": request.title,
                "space": request.space.name,
                "due": request.due_date,
                "overdue": request.due_date < today,
                "items": [i.title for i in missing],
                "link": f"{setting('BASE_URL')}/requests/{request.id}",
            }
            for request, missing, _kind in entries
        ]
        queue_mail(
            [user.email],
            "request_reminder",
            locale=user.locale,
            user=user,
            requests=lines,
            today=today,
        )
        sent += 1
    db.session.flush()
    return sent


def remind_now(request: DocumentRequest, today: date) -> int:
    """Remind the request's client people now of what is still missing (a campaign's bulk
    reminder, sent each time staff ask for it; the daily reminders keep their own once-a-day
    rule): one e-mail each, listing only the missing items; none once it is complete."""
    missing = _missing(request)
    if not missing:
        return 0
    line = {
        "title": request.title,
        "space": request.space.name,
        "due": request.due_date,
        "overdue": request.due_date < today,
        "items": [i.title for i in missing],
        "link": f"{setting('BASE_URL')}/requests/{request.id}",
    }
    sent = 0
    for user in _client_people(request):
        queue_mail(
            [user.email],
            "request_reminder",
            locale=user.locale,
            user=user,
            requests=[line],
            today=today,
        )
        sent += 1
    db.session.flush()
    return sent


def _late_requests(now: datetime) -> Iterable[alerts.LateThing]:
    today = now.date()
    for request in _open_requests():
        if not _missing(request) or request.due_date >= today:
            continue
        escalate_after = int(
            (request.reminders or {}).get("escalate_after_days", DEFAULT_ESCALATE_AFTER_DAYS)
        )
        level = int(
            escalation_level_for_request(
                request.due_date, today, escalate_after_days=escalate_after
            )
        )
        if level < 1:
            continue

        def recipients(lvl: int, request: DocumentRequest = request) -> list[User]:
            return [request.owner] if lvl >= 2 else _client_people(request)

        yield alerts.LateThing(
            kind="request",
            target_type="request",
            target_id=request.id,
            space_id=request.space_id,
            level=level,
            due=request.due_date,
            summary=request.title,
            link=f"/requests/{request.id}",
            recipients=recipients,
        )


alerts.register_finder(_late_requests)


def create_recurring(today: date, lead_days: int = 45) -> list[DocumentRequest]:
    """Yearly requests start again for next year, ``lead_days`` before the new due date."""
    created = []
    rows = db.session.execute(
        select(DocumentRequest).where(
            DocumentRequest.recurrence == "yearly", DocumentRequest.successor_created.is_(False)
        )
    ).scalars()
    for request in list(rows):
        if request.due_date.year >= date.max.year:
            continue  # no next year to ask again for (a due date typed as 9999-12-31)
        try:
            next_due = request.due_date.replace(year=request.due_date.year + 1)
        except ValueError:  # 29 February
            next_due = request.due_date.replace(year=request.due_date.year + 1, day=28)
        if today < next_due - timedelta(days=lead_days):
            continue
        successor = create_request(
            request.owner,
            request.space_id,
            title=re.sub(r"\b(?:19|20)\d{2}\b", lambda m: str(int(m.group()) + 1), request.title),
            due_date=next_due,
            items=[
                {
                    "title": i.title,
                    "description": i.description,
                    "required": i.required,
                    "accepted_types": i.accepted_types,
                }
                for i in request.items
            ],
            reminders=request.reminders,
            recurrence="yearly",
            message=request.message,
            today=today,
            previous_id=request.id,
        )
        request.successor_created = True
        created.append(successor)
    return created


def missing_by_client(user: User) -> dict[str, list[RequestItem]]:
    """What a client person still owes, by request title (for their dashboard)."""
    grouped: dict[str, list[RequestItem]] = defaultdict(list)
    # Only the open requests of the spaces this person may see (the rule of space_permission,
    # as a query), with their items in one more query: the dashboard stays fast on a big portal.
    spaces = visible_space_ids(user)
    open_requests = db.session.execute(
        select(DocumentRequest)
        .where(DocumentRequest.completed_at.is_(None), DocumentRequest.space_id.in_(spaces))
        .options(selectinload(DocumentRequest.items))
        .order_by(DocumentRequest.due_date, DocumentRequest.created_at)
    ).scalars()
    for request in open_requests:
        for item in _missing(request):
            # The page reads item.request: link it now, or each request is loaded again later
            # (one query per open request, once this loop's objects are gone).
            set_committed_value(item, "request", request)
            grouped[request.id].append(item)
    return dict(grouped)
