"""Conversations of a space: threads, their messages, who read them, and incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class Thread(db.Model):  # type: ignore[name-defined]
    """A conversation in a space; ``internal`` ones are the firm's only."""

    __tablename__ = "thread"

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    visibility: Mapped[str] = mapped_column(String(10), default="shared")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    space = relationship("Space")
    created_by = relationship("User")
    messages = relationship(
        "Message", back_populates="thread", order_by="Message.created_at", cascade="all"
    )


class Message(db.Model):  # type: ignore[name-defined]
    """One message; an ``internal`` note inside a shared thread is seen by staff only."""

    __tablename__ = "message"

    id: Mapped[str] = id_column()
    thread_id: Mapped[str] = mapped_column(ForeignKey("thread.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Ids of the documents its files became, in the order they were sent.
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(10), default="web")
    #: The e-mail's Message-ID when it came by mail: the same delivery is stored once.
    email_message_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    thread = relationship("Thread", back_populates="messages")
    author = relationship("User")


class ThreadRead(db.Model):  # type: ignore[name-defined]
    """Up to when a person has read a thread: read receipts and unread counts come from it."""

    __tablename__ = "thread_read"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[str] = id_column()
    thread_id: Mapped[str] = mapped_column(ForeignKey("thread.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Incident(db.Model):  # type: ignore[name-defined]
    """A problem reported in a space ("incidencia"), with its own thread and a due time."""

    __tablename__ = "incident"

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("thread.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    space = relationship("Space")
    thread = relationship("Thread")
    assignee = relationship("User", foreign_keys=[assignee_id])
    created_by = relationship("User", foreign_keys=[created_by_id])


class ReplyToken(db.Model):  # type: ignore[name-defined]
    """The token in a reply address: one thread, one person, until it expires.

    Only its hash is kept; the address is short enough for an e-mail's local part.
    """

    __tablename__ = "reply_token"

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("thread.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    thread = relationship("Thread")
    user = relationship("User")


class InboundMail(db.Model):  # type: ignore[name-defined]
    """One e-mail the portal received, by Message-ID: a second delivery is not stored again."""

    __tablename__ = "inbound_mail"

    id: Mapped[str] = id_column()
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    sender: Mapped[str] = mapped_column(String(254))
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
