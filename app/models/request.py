"""Document requests: checklists a firm sends, items a client fulfils, reminders sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class RequestTemplate(db.Model):  # type: ignore[name-defined]
    """An editable checklist to start requests from."""

    __tablename__ = "request_template"

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list[dict]] = mapped_column(JSON, default=list)
    recurrence: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentRequest(db.Model):  # type: ignore[name-defined]
    __tablename__ = "document_request"

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    reminders: Mapped[dict] = mapped_column(JSON, default=dict)
    template_key: Mapped[str | None] = mapped_column(String(40))
    recurrence: Mapped[str | None] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_id: Mapped[str | None] = mapped_column(ForeignKey("document_request.id"))
    successor_created: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many items stand where, kept by the service that moves them (requests._recount)
    # and set when the items are made: a campaign board of 500 clients reads them with its
    # rows instead of counting 4,000 items on every view. "missing" is required and pending.
    items_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_submitted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_not_applicable: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_missing: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    space = relationship("Space")
    owner = relationship("User")
    items = relationship(
        "RequestItem",
        back_populates="request",
        order_by="RequestItem.position",
        cascade="all, delete-orphan",
    )


class RequestItem(db.Model):  # type: ignore[name-defined]
    __tablename__ = "request_item"
    # a campaign board counts each request's items by status from the index alone
    __table_args__ = (Index("ix_request_item_progress", "request_id", "status", "required"),)

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("document_request.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    accepted_types: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    not_applicable_reason: Mapped[str | None] = mapped_column(Text)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    request = relationship("DocumentRequest", back_populates="items")
    files = relationship(
        "RequestItemFile", back_populates="item", order_by="RequestItemFile.created_at"
    )


class RequestItemFile(db.Model):  # type: ignore[name-defined]
    __tablename__ = "request_item_file"

    id: Mapped[str] = id_column()
    item_id: Mapped[str] = mapped_column(ForeignKey("request_item.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    uploaded_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item = relationship("RequestItem", back_populates="files")
    document = relationship("Document")


class ReminderSent(db.Model):  # type: ignore[name-defined]
    """A reminder day of a request, and the digest a person got that day: never twice."""

    __tablename__ = "reminder_sent"
    __table_args__ = (
        UniqueConstraint("subject", "on_date", name="uq_reminder_sent_subject_on_date"),
    )

    id: Mapped[str] = id_column()
    subject: Mapped[str] = mapped_column(String(80))  # "request:<id>" or "digest:<user id>"
    on_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
