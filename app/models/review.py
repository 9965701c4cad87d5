"""Review of versions: events, comments, transmittals, per-person access to versions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class ReviewEvent(db.Model):  # type: ignore[name-defined]
    """One transition of a version's review state (rows are never changed)."""

    __tablename__ = "review_event"

    id: Mapped[str] = id_column()
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"), index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor = relationship("User")


class Comment(db.Model):  # type: ignore[name-defined]
    """A comment on a document, optionally pinned to a point of a PDF page."""

    __tablename__ = "comment"

    id: Mapped[str] = id_column()
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    version_number: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))

    author = relationship("User", foreign_keys=[author_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])


class VersionAccess(db.Model):  # type: ignore[name-defined]
    """Who opened and downloaded a version, and when first."""

    __tablename__ = "version_access"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[str] = id_column()
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloads: Mapped[int] = mapped_column(Integer, default=0)


class Transmittal(db.Model):  # type: ignore[name-defined]
    """A set of versions sent to people for review, with a due date."""

    __tablename__ = "transmittal"

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    message: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    space = relationship("Space")
    created_by = relationship("User")
    items = relationship(
        "TransmittalItem", back_populates="transmittal", cascade="all, delete-orphan"
    )
    recipients = relationship(
        "TransmittalRecipient", back_populates="transmittal", cascade="all, delete-orphan"
    )


class TransmittalItem(db.Model):  # type: ignore[name-defined]
    __tablename__ = "transmittal_item"

    id: Mapped[str] = id_column()
    transmittal_id: Mapped[str] = mapped_column(ForeignKey("transmittal.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"))

    transmittal = relationship("Transmittal", back_populates="items")
    version = relationship("DocumentVersion")


class TransmittalRecipient(db.Model):  # type: ignore[name-defined]
    __tablename__ = "transmittal_recipient"

    id: Mapped[str] = id_column()
    transmittal_id: Mapped[str] = mapped_column(ForeignKey("transmittal.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"))

    transmittal = relationship("Transmittal", back_populates="recipients")
    user = relationship("User")
