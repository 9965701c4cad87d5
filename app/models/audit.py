"""Append-only, hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class AuditEvent(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_event"
    # a person's latest events of one kind (the home page's "since your last visit": the
    # login before the current one) without sorting everything they ever did
    __table_args__ = (Index("ix_audit_event_actor_action_at", "actor_id", "action", "at"),)

    id: Mapped[str] = id_column()
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(100), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
def _no_update(mapper, connection, target):  # type: ignore[no-untyped-def]
    raise ValueError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(mapper, connection, target):  # type: ignore[no-untyped-def]
    raise ValueError("audit events are append-only")
