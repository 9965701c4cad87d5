"""The agenda: what waits for this person, most urgent first, and what is new since last time.

One query per kind of waiting thing, merged and sorted; the same list serves the home page and
``GET /api/v1/me/agenda``. A client's agenda: items the firm asks for, signatures, documents to
review, unread messages, incidents waiting for them, their onboarding. A staff member's: versions
to review (due when their space's review SLA says, late past it), signatures, unread messages,
open incidents (theirs or nobody's), onboardings to approve and their own onboardings stalled on
the client's side, and their campaigns with clients late (one item per campaign, of the kind of
what the campaign asks: ``request_item`` or ``signature``, its target ``campaign:<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import ngettext
from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models import (
    AuditEvent,
    Document,
    Message,
    Onboarding,
    RequestItem,
    Space,
    Thread,
    User,
    Visibility,
)
from app.models.base import as_utc
from app.services import alerts, conversations, incidents, overview, requests, signatures
from app.services.access import visible_space_ids
from app.services.paging import PageArgs, page_list

#: When two things are due the same day, the order a person would deal with them in.
KIND_ORDER = ("signature", "request_item", "review", "incident", "onboarding", "message")


@dataclass(frozen=True)
class AgendaItem:
    """One thing waiting for the person."""

    kind: str
    target: str  # "type:id", as alerts name what is late
    title: str
    due: date | None
    overdue: bool
    link: str
    context: str = ""
    #: Its place among things of its kind due the same day, in the order its source lists
    #: them (a request's items as the firm listed them, the versions waiting longest, the
    #: latest messages); ``target`` breaks what is left of a tie.
    place: str = ""


@dataclass
class Agenda:
    items: list[AgendaItem]
    since: datetime | None
    new_documents: int = 0
    new_messages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    #: The cursor of the next page of ``items`` (None: the last page, or the whole list).
    next: str | None = None
    #: What a client person still owes, by request (``requests.missing_by_client``).
    missing: dict[str, list[RequestItem]] = field(default_factory=dict)
    #: Messages the person has not read, in every thread (the header's count).
    unread_messages: int = 0

    @property
    def total(self) -> int:
        """Everything waiting, shown or not."""
        return sum(self.counts.values())


def _order(item: AgendaItem) -> tuple[int, date, int, str, str]:
    return (
        0 if item.overdue else 1,
        item.due or date.max,
        KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER),
        item.place,
        item.target,  # unique: the position of a page's last item in the whole agenda
    )


def _latest_first(moment: datetime | None) -> str:
    """A ``place`` that puts later moments first (milliseconds to the year 33658)."""
    if moment is None:
        return "9" * 15
    return f"{10**15 - int(as_utc(moment).timestamp() * 1000):015d}"


def agenda_for(
    actor: User, *, today: date | None = None, page: PageArgs | None = None, top: int | None = None
) -> Agenda:
    """What waits for ``actor``; ``page`` None: every item (the counts are always of all).

    ``top``: only the most urgent ``top`` items, as the home page shows them (the versions to
    review, possibly thousands in a big space, are then counted rather than all loaded: they
    come after every dated thing, as one block in the order the query gives).
    """
    today = today or datetime.now(UTC).date()
    missing = requests.missing_by_client(actor) if actor.is_client else {}
    items: list[AgendaItem] = []
    items += _request_items(missing, today)
    items += _signatures(actor, today)
    items += _reviews(actor, top)
    unread = _messages(actor)
    items += unread
    items += _incidents(actor)
    items += _onboardings(actor)
    if actor.is_staff:
        items += _late_campaigns(actor, today)
    counts: dict[str, int] = {}
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    if top is not None:
        reviews = overview.count_waiting_for(actor)
        if reviews:
            counts["review"] = reviews
        items = sorted(items, key=_order)[:top]
    since = previous_visit(actor)
    shown = page_list(items, _order, page, scope=f"agenda:{actor.id}")
    agenda = Agenda(
        items=list(shown),
        since=since,
        counts=counts,
        next=shown.next,
        missing=missing,
        unread_messages=sum(int(item.context) for item in unread),
    )
    if since is not None:
        agenda.new_documents, agenda.new_messages = _new_since(actor, since)
    return agenda


def _request_items(missing: dict[str, list[RequestItem]], today: date) -> list[AgendaItem]:
    found = []
    for request_items in missing.values():
        for item in request_items:
            due = item.request.due_date
            found.append(
                AgendaItem(
                    "request_item",
                    f"request_item:{item.id}",
                    item.title,
                    due,
                    due is not None and due < today,
                    f"/requests/{item.request_id}",
                    item.request.title,
                    f"{item.request.created_at.isoformat()} {item.request_id} {item.position:06d}",
                )
            )
    return found


def _signatures(actor: User, today: date) -> list[AgendaItem]:
    return [
        AgendaItem(
            "signature",
            f"signature_request:{request.id}",
            request.document.title,
            request.due_date,
            request.due_date is not None and request.due_date < today,
            f"/signatures/{request.id}",
        )
        for request in signatures.waiting_for(actor)
    ]


def _reviews(actor: User, limit: int | None = None) -> list[AgendaItem]:
    """Versions to review. For staff, each due when its space's review SLA says (to open it,
    then to decide on it) and late past that, as the alert engine counts them; a client's come
    after what they are asked to send or sign, waiting longest first."""
    waiting = overview.waiting_for(actor, limit=limit)
    space_ids = {document.space_id for document, _version in waiting} if actor.is_staff else set()
    slas = (
        {
            space.id: alerts.space_sla(space)
            for space in db.session.execute(select(Space).where(Space.id.in_(space_ids))).scalars()
        }
        if space_ids
        else {}
    )
    now = datetime.now(UTC)
    found = []
    for document, version in waiting:
        sla = slas.get(document.space_id)
        deadline = (
            alerts.version_deadline(
                version.review_state, version.review_state_at, version.created_at, sla
            )
            if sla is not None
            else None
        )
        found.append(
            AgendaItem(
                "review",
                f"document:{document.id}",
                document.title,
                deadline.date() if deadline else None,
                deadline is not None and deadline < now,
                f"/documents/{document.id}",
                f"v{version.number}",
                as_utc(version.created_at).isoformat(),  # waiting longest first
            )
        )
    return found


def _messages(actor: User) -> list[AgendaItem]:
    return [
        AgendaItem(
            "message",
            f"thread:{thread.id}",
            thread.subject,
            None,
            False,
            f"/threads/{thread.id}",
            str(unread),
            _latest_first(thread.last_message_at),
        )
        for thread, unread in conversations.unread_threads(actor)
    ]


def _incidents(actor: User) -> list[AgendaItem]:
    now = datetime.now(UTC)
    found = []
    for incident in incidents.list_incidents(actor):
        if incident.status == "resolved":
            continue
        if actor.is_client and incident.status != "waiting_client":
            continue
        if actor.is_staff and incident.assignee_id not in (None, actor.id):
            continue
        due_at = as_utc(incident.due_at)
        found.append(
            AgendaItem(
                "incident",
                f"incident:{incident.id}",
                incident.title,
                due_at.date(),
                actor.is_staff and due_at < now,
                f"/incidents/{incident.id}",
                incident.priority,
                due_at.isoformat(),  # the same day: the one due soonest first
            )
        )
    return found


def _onboardings(actor: User) -> list[AgendaItem]:
    """A client's own onboarding while it waits on them. For staff, every onboarding waiting
    for approval, and their own ones stalled on the client's side (past the reminder delay of
    the onboarding settings): both due when that delay ends."""
    from app.services import onboarding

    now = datetime.now(UTC)
    remind_after = None
    query = select(Onboarding)
    if actor.is_client:
        query = query.where(
            Onboarding.user_id == actor.id,
            Onboarding.status.in_(("identity", "engagement")),
        )
    else:
        remind_after = onboarding.remind_after()
        query = query.where(
            or_(
                Onboarding.status == "review",
                and_(
                    Onboarding.owner_id == actor.id,
                    Onboarding.status.in_(("invited", "identity", "engagement")),
                    Onboarding.status_since <= now - remind_after,
                ),
            )
        )
    found = []
    for item in db.session.execute(query).scalars():
        waiting_on = onboarding.waiting_on(item)
        if actor.is_client and waiting_on != "client":
            continue
        due_at = None
        if remind_after is not None:
            due_at = as_utc(item.status_since) + remind_after
            if item.status != "review" and (waiting_on != "client" or due_at > now):
                continue  # the client's turn, and not stalled yet
        found.append(
            AgendaItem(
                "onboarding",
                f"onboarding:{item.id}",
                item.client_name or item.name,
                due_at.date() if due_at else None,
                due_at is not None and due_at <= now,
                f"/onboarding/{item.id}",
                item.status,
                as_utc(item.created_at).isoformat(),  # the oldest first
            )
        )
    return found


def _late_campaigns(actor: User, today: date) -> list[AgendaItem]:
    """The staff member's campaigns with clients late: one item each, with how many."""
    from app.services import campaign_board

    return [
        AgendaItem(
            "signature" if campaign.kind == "signature" else "request_item",
            f"campaign:{campaign.id}",
            campaign.name,
            campaign.due_date,
            True,
            f"/campaigns/{campaign.id}?status=overdue",
            ngettext("%(num)s cliente atrasado", "%(num)s clientes atrasados", late),
            f"{10**9 - late:010d}",  # the same day: the most clients late first
        )
        for campaign, late in campaign_board.late_clients(actor, today)
    ]


def previous_visit(actor: User) -> datetime | None:
    """When this person last signed in before the current session (from the audit log)."""
    rows = (
        db.session.execute(
            select(AuditEvent.at)
            .where(AuditEvent.actor_id == actor.id, AuditEvent.action == "login")
            .order_by(AuditEvent.at.desc())
            .limit(2)
        )
        .scalars()
        .all()
    )
    if len(rows) < 2:
        return None
    moment = rows[1]
    return as_utc(moment)


def _new_since(actor: User, since: datetime) -> tuple[int, int]:
    spaces = visible_space_ids(actor)
    documents = select(func.count(Document.id)).where(
        Document.space_id.in_(spaces),
        Document.deleted_at.is_(None),
        Document.created_at > since,
        Document.created_by_id != actor.id,
    )
    if actor.is_client:
        documents = documents.where(Document.visibility == Visibility.shared)
    messages = (
        select(func.count(Message.id))
        .join(Thread, Thread.id == Message.thread_id)
        .where(
            Thread.space_id.in_(spaces),
            Message.created_at > since,
            Message.author_id != actor.id,
        )
    )
    if actor.is_client:
        messages = messages.where(Thread.visibility == "shared", Message.internal.is_(False))
    return (
        int(db.session.execute(documents).scalar_one()),
        int(db.session.execute(messages).scalar_one()),
    )
