"""The firm's catalogue of services and the onboardings that take a new client to an active space."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class Service(db.Model):  # type: ignore[name-defined]
    """One service of the firm's catalogue: the space it opens, what it asks, its letter."""

    __tablename__ = "service"

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    space_kind: Mapped[str] = mapped_column(String(16))
    #: The new space's name; ``{year}`` and ``{client}`` are filled in.
    space_name: Mapped[str] = mapped_column(String(200))
    #: Name of the request template sent on activation (none: no request).
    request_template: Mapped[str | None] = mapped_column(String(200))
    #: The engagement letter, with placeholders such as ``{client_name}`` and ``{fees}``.
    engagement_template: Mapped[str] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Onboarding(db.Model):  # type: ignore[name-defined]
    """One person's way from an invitation (or a service taken) to active spaces."""

    __tablename__ = "onboarding"

    id: Mapped[str] = id_column()
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: The last open status, kept when it is rejected or expires (the step it stopped at).
    reached: Mapped[str | None] = mapped_column(String(16))
    status_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    client_name: Mapped[str | None] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(32))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Only the engagement step: an active client taking one more service.
    addendum: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    #: The space where the identity photos (internal) and the engagement letter live.
    intake_space_id: Mapped[str] = mapped_column(ForeignKey("space.id"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    identity_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    confirmed_fields: Mapped[dict[str, str] | None] = mapped_column(JSON)
    #: The DNI/NIE/passport number confirmed, to find one already used by another client.
    document_number: Mapped[str | None] = mapped_column(String(32), index=True)
    approvals: Mapped[list[str]] = mapped_column(JSON, default=list)
    engagement_document_id: Mapped[str | None] = mapped_column(ForeignKey("document.id"))
    engagement_signature_request_id: Mapped[str | None] = mapped_column(
        ForeignKey("signature_request.id"), index=True
    )
    spaces: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client")
    user = relationship("User", foreign_keys=[user_id])
    owner = relationship("User", foreign_keys=[owner_id])
