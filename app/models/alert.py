"""Alerts (what is late) and notifications (what a person is told)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class Alert(db.Model):  # type: ignore[name-defined]
    """One late thing at one escalation level: never created twice."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("kind", "target_id", "level", name="uq_alert_kind_target_level"),
    )

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(20))  # review | request | signature
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(32), index=True)
    space_id: Mapped[str | None] = mapped_column(ForeignKey("space.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    due: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipients = relationship(
        "AlertRecipient", back_populates="alert", cascade="all, delete-orphan"
    )


class AlertRecipient(db.Model):  # type: ignore[name-defined]
    __tablename__ = "alert_recipient"
    __table_args__ = (UniqueConstraint("alert_id", "user_id"),)

    id: Mapped[str] = id_column()
    alert_id: Mapped[str] = mapped_column(ForeignKey("alert.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)

    alert = relationship("Alert", back_populates="recipients")


class Notification(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notification"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")
