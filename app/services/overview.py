"""Overviews: for staff, documents by state per client and space, and what is late;
for a client, what waits for them."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Alert, Client, Document, DocumentVersion, Role, Space, User, Visibility
from app.services.access import visible_space_ids, visible_spaces_query
from app.services.review import reviewer_side_for, side_of

STATES = ("received", "read", "checked", "validated", "changes_requested")


@dataclass
class SpaceSummary:
    space: Space
    counts: Counter = field(default_factory=Counter)
    waiting_client: int = 0
    waiting_firm: int = 0
    late: list[Alert] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def staff_overview(
    actor: User,
    *,
    client_id: str | None = None,
    space_kind: str | None = None,
    state: str | None = None,
) -> list[SpaceSummary]:
    query = visible_spaces_query(actor)
    if client_id:
        query = query.where(Space.client_id == client_id)
    if space_kind:
        query = query.where(Space.kind == space_kind)
    spaces = list(db.session.execute(query).scalars())
    summaries = {s.id: SpaceSummary(space=s) for s in spaces}
    if not spaces:
        return []
    rows = db.session.execute(
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.space_id.in_(summaries),
            Document.deleted_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
        )
    ).all()
    for document, version in rows:
        if state and version.review_state != state:
            continue
        summary = summaries[document.space_id]
        summary.counts[version.review_state] += 1
        if version.review_state in ("received", "read", "checked"):
            if reviewer_side_for(document, version).value == "client":
                summary.waiting_client += 1
            else:
                summary.waiting_firm += 1
    alerts = db.session.execute(
        select(Alert)
        .where(Alert.space_id.in_(summaries), Alert.resolved_at.is_(None))
        .order_by(Alert.due)
    ).scalars()
    for alert in alerts:
        if alert.space_id is not None:  # always: the query asks for these spaces' alerts
            summaries[alert.space_id].late.append(alert)
    return sorted(summaries.values(), key=lambda s: (s.space.client.name, s.space.name))


def totals(summaries: list[SpaceSummary]) -> Counter:
    total: Counter = Counter()
    for summary in summaries:
        total.update(summary.counts)
    return total


#: The uploader of a version, made once: aliasing a mapped class copies each of its columns.
_UPLOADER = aliased(User, name="uploader")


def _waiting_query(actor: User, client_id: str | None) -> Select[Document, DocumentVersion]:
    spaces = visible_space_ids(actor)
    if client_id:
        spaces = (
            visible_spaces_query(actor)
            .with_only_columns(Space.id)
            .order_by(None)
            .where(Space.client_id == client_id)
        )
    query = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.space_id.in_(spaces),
            Document.deleted_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
            DocumentVersion.review_state.in_(("received", "read", "checked")),
        )
    )
    # The reviewing side (workflows.review.reviewer_side) asked of the database: a client
    # reviews shared versions the firm uploaded; the firm reviews what clients uploaded, and
    # every internal version. Read in Python instead, a big space's page loaded every version.
    uploader = _UPLOADER
    query = query.join(uploader, uploader.id == DocumentVersion.uploaded_by_id).where(
        DocumentVersion.uploaded_by_id != actor.id
    )
    if actor.is_client:
        return query.where(
            Document.visibility == Visibility.shared, uploader.role != Role.client.value
        )
    return query.where(
        or_(Document.visibility == Visibility.internal, uploader.role == Role.client.value)
    )


def waiting_for(
    actor: User, client_id: str | None = None, *, limit: int | None = None
) -> list[tuple[Document, DocumentVersion]]:
    """Current versions this person's side must review, in spaces they can see, waiting
    longest first (``limit``: only the first ones)."""
    query = _waiting_query(actor, client_id).order_by(
        DocumentVersion.created_at, DocumentVersion.id
    )
    if limit is not None:
        query = query.limit(limit)
    mine = side_of(actor)
    return [(d, v) for d, v in db.session.execute(query).all() if reviewer_side_for(d, v) == mine]


def count_waiting_for(actor: User) -> int:
    """How many current versions this person's side must review."""
    found = _waiting_query(actor, None).with_only_columns(func.count(DocumentVersion.id))
    return int(db.session.execute(found).scalar_one())


def clients_for_filter(actor: User) -> list[Client]:
    by_id: dict[str, Client] = {}
    for space in db.session.execute(visible_spaces_query(actor)).scalars():
        by_id[space.client_id] = space.client
    return sorted(by_id.values(), key=lambda c: c.name)


def group_by_client(summaries: list[SpaceSummary]) -> dict[str, list[SpaceSummary]]:
    grouped: dict[str, list[SpaceSummary]] = defaultdict(list)
    for summary in summaries:
        grouped[summary.space.client.name].append(summary)
    return dict(grouped)
