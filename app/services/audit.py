"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text

from app.extensions import db
from app.models import AuditEvent, User
from app.models.base import utcnow
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import request_ip

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds") if event.at else ""
    payload = {
        "seq": event.seq,
        "at": at,
        "actor_id": event.actor_id,
        "action": event.action,
        "target": event.target,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(
    action: str,
    actor: User | None = None,
    target: str | None = None,
    *,
    actor_email: str | None = None,
    **details: object,
) -> AuditEvent:
    """Append one event, chained to the previous one."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends so the chain never forks between concurrent requests.
        session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else actor_email,
        action=action,
        target=target,
        ip=request_ip(),
        details={k: v for k, v in details.items() if v is not None},
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


def record_many(entries: list[tuple[str, User | None, str | None, dict[str, object]]]) -> None:
    """Append several events at once (a campaign's batch), chained in the order given: the
    same events ``record`` would append one by one, with one read of the chain's end."""
    if not entries:
        return
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    ip = request_ip()
    events = []
    for action, actor, target, details in entries:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=utcnow(),
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else None,
            action=action,
            target=target,
            ip=ip,
            details={k: v for k, v in details.items() if v is not None},
            prev_hash=previous,
        )
        event.hash = previous = _digest(event)
        events.append(
            {
                column: getattr(event, column)
                for column in (
                    "seq",
                    "at",
                    "actor_id",
                    "actor_email",
                    "action",
                    "target",
                    "ip",
                    "details",
                    "prev_hash",
                    "hash",
                )
            }
        )
    session.execute(insert(AuditEvent), events)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_bad: int | None


def verify_chain() -> ChainCheck:
    """Recompute every hash from the first event; report the first one that does not match."""
    previous = GENESIS
    count = 0
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for event in rows.yield_per(1000):
        count += 1
        if event.prev_hash != previous or _digest(event) != event.hash:
            return ChainCheck(ok=False, events=count, first_bad=event.seq)
        previous = event.hash
    return ChainCheck(ok=True, events=count, first_bad=None)


def list_events(
    *,
    target: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    page: PageArgs | None = None,
) -> Page[AuditEvent]:
    """Events, newest first; ``page`` None: every one."""
    query = select(AuditEvent)
    if target:
        query = query.where(AuditEvent.target == target)
    if actor:
        query = query.where((AuditEvent.actor_id == actor) | (AuditEvent.actor_email == actor))
    if since:
        query = query.where(AuditEvent.at >= since)
    return keyset(query, (Key(AuditEvent.seq, desc=True),), page, scope="audit")


def count_events() -> int:
    return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()
