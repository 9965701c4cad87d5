"""One alert engine for everything that can be late.

A periodic sweep finds what is late, creates at most one ``Alert`` per thing
and escalation level, tells the person whose turn it is (level 1) and the
space's manager (level 2). Other kinds (document requests, signatures) add a
finder to ``FINDERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import exists, func, select, update

from app.extensions import db
from app.models import Alert, AlertRecipient, Document, DocumentVersion, Space, User
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset
from workflows.review import ReviewState
from workflows.schedule import ReviewSla, review_deadline, review_escalation_level

TOP_LEVEL = 2
OPEN_STATES = (ReviewState.RECEIVED.value, ReviewState.READ.value, ReviewState.CHECKED.value)


@dataclass(frozen=True)
class LateThing:
    """Something late, as a finder reports it."""

    kind: str
    target_type: str
    target_id: str
    space_id: str | None
    level: int
    due: date | None
    summary: str
    link: str
    recipients: Callable[[int], list[User]] = field(compare=False)


def space_sla(space: Space) -> ReviewSla:
    try:
        return ReviewSla.from_dict(space.review_sla) if space.review_sla else ReviewSla()
    except ValueError:
        return ReviewSla()


def version_deadline(
    state: str, state_at: datetime | None, created_at: datetime, sla: ReviewSla
) -> datetime | None:
    """When a version waiting for review in ``state`` (since ``state_at``, received at
    ``created_at``) becomes late under ``sla``; None once decided."""
    return review_deadline(ReviewState(state), state_at or created_at, sla, received_at=created_at)


def _late_reviews(now: datetime) -> Iterable[LateThing]:
    from app.services import review

    spaces = {s.id: s for s in db.session.execute(select(Space)).scalars()}
    slas = {sid: space_sla(s) for sid, s in spaces.items()}
    earliest = min((s.read_days for s in slas.values()), default=ReviewSla().read_days)
    horizon = now - timedelta(days=earliest)
    rows = db.session.execute(
        select(
            DocumentVersion.id,
            DocumentVersion.review_state,
            DocumentVersion.review_state_at,
            DocumentVersion.created_at,
            Document.id,
            Document.title,
            Document.space_id,
        )
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(
            Document.deleted_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
            DocumentVersion.review_state.in_(OPEN_STATES),
            DocumentVersion.created_at <= horizon,
            # already escalated to the top level: nothing more can happen to it
            ~exists().where(
                Alert.kind == "review",
                Alert.target_id == DocumentVersion.id,
                Alert.level >= TOP_LEVEL,
            ),
        )
    ).all()
    for version_id, state, state_at, created_at, document_id, title, space_id in rows:
        sla = slas.get(space_id, ReviewSla())
        entered = state_at or created_at
        level = int(
            review_escalation_level(ReviewState(state), entered, now, sla, received_at=created_at)
        )
        if level < 1:
            continue
        deadline = version_deadline(state, state_at, created_at, sla)

        def recipients(
            lvl: int, version_id: str = version_id, document_id: str = document_id
        ) -> list[User]:
            document = db.session.get(Document, document_id)
            version = db.session.get(DocumentVersion, version_id)
            if document is None or version is None:  # gone since the scan read it
                return []
            if lvl >= 2:
                return review.managers_of(document.space)
            return review.whose_turn(document, version)

        yield LateThing(
            kind="review",
            target_type="version",
            target_id=version_id,
            space_id=space_id,
            level=level,
            due=deadline.date() if deadline else None,
            summary=title,
            link=f"/documents/{document_id}",
            recipients=recipients,
        )


FINDERS: list[Callable[[datetime], Iterable[LateThing]]] = [_late_reviews]


def register_finder(finder: Callable[[datetime], Iterable[LateThing]]) -> None:
    if finder not in FINDERS:
        FINDERS.append(finder)


def sweep(now: datetime | None = None) -> int:
    """Create the alerts that do not exist yet; idempotent for a given time. Returns how many."""
    now = now or datetime.now(UTC)
    created = 0
    for finder in list(FINDERS):
        late = list(finder(now))
        if not late:
            continue
        existing: set[tuple[str, str, int]] = set()
        targets = sorted({t.target_id for t in late})
        for start in range(0, len(targets), 500):
            existing.update(
                db.session.execute(
                    select(Alert.kind, Alert.target_id, Alert.level).where(
                        Alert.target_id.in_(targets[start : start + 500])
                    )
                ).all()
            )
        for thing in late:
            for level in range(1, thing.level + 1):
                if (thing.kind, thing.target_id, level) in existing:
                    continue
                alert = Alert(
                    kind=thing.kind,
                    target_type=thing.target_type,
                    target_id=thing.target_id,
                    space_id=thing.space_id,
                    level=level,
                    due=thing.due,
                    summary=thing.summary[:300],
                )
                db.session.add(alert)
                db.session.flush()
                people = thing.recipients(level)
                for user in {u.id: u for u in people}.values():
                    db.session.add(AlertRecipient(alert_id=alert.id, user_id=user.id))
                notify(
                    people,
                    f"alert_{thing.kind}",
                    link=thing.link,
                    title=thing.summary,
                    level=level,
                    due=thing.due.isoformat() if thing.due else "",
                )
                existing.add((thing.kind, thing.target_id, level))
                created += 1
    _resolve_finished_reviews(now)
    db.session.flush()
    return created


def _resolve_finished_reviews(now: datetime) -> None:
    """Reviews that ended or were superseded no longer count as late.

    Starts from the open alerts (few) rather than from every finished version (many).
    """
    finished = db.session.execute(
        select(Alert.id)
        .join(DocumentVersion, DocumentVersion.id == Alert.target_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(
            Alert.kind == "review",
            Alert.resolved_at.is_(None),
            (DocumentVersion.review_state.not_in(OPEN_STATES))
            | (DocumentVersion.number != Document.current_version_number)
            | (Document.deleted_at.is_not(None)),
        )
    ).scalars()
    ids = list(finished)
    for start in range(0, len(ids), 500):
        db.session.execute(
            update(Alert).where(Alert.id.in_(ids[start : start + 500])).values(resolved_at=now)
        )


def open_alerts_for(user: User, page: PageArgs | None = None) -> Page[Alert]:
    """The caller's open alerts, soonest due first (those without a due date last)."""
    query = (
        select(Alert)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .where(AlertRecipient.user_id == user.id, Alert.resolved_at.is_(None))
    )
    order = (Key(Alert.due, nullable=True), Key(Alert.created_at), Key(Alert.id))
    return keyset(query, order, page, scope="alerts")


def count_open(space_ids: list[str]) -> dict[str, int]:
    rows = db.session.execute(
        select(Alert.space_id, func.count(Alert.id))
        .where(Alert.resolved_at.is_(None), Alert.space_id.in_(space_ids))
        .group_by(Alert.space_id)
    ).all()
    # `IN` never matches a NULL space, whatever the column allows.
    return {space_id: count for space_id, count in rows if space_id is not None}
