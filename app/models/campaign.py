"""Client tags, and campaigns: one request per client, made in the background, safe to re-run."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class ClientTag(db.Model):  # type: ignore[name-defined]
    """A label staff give a client ("renta", "sociedad", "obra-zaragoza")."""

    __tablename__ = "client_tag"
    __table_args__ = (UniqueConstraint("client_id", "tag"),)

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id"), index=True)
    tag: Mapped[str] = mapped_column(String(40), index=True)


class Campaign(db.Model):  # type: ignore[name-defined]
    """The same request sent to many clients, each in their space of a kind and name."""

    __tablename__ = "campaign"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(12), default="request")
    template: Mapped[str | None] = mapped_column(String(200))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    due_date: Mapped[date] = mapped_column(Date)
    space_kind: Mapped[str] = mapped_column(String(16))
    space_name: Mapped[str] = mapped_column(String(200))
    client_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # what the CSV of tax ids or the ZIP of PDFs left out, and why (shown with the board)
    notices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")
    clients = relationship(
        "CampaignClient", back_populates="campaign", order_by="CampaignClient.created_at"
    )


class CampaignClient(db.Model):  # type: ignore[name-defined]
    """One client of a campaign: its space and request once made (never made twice)."""

    __tablename__ = "campaign_client"
    __table_args__ = (UniqueConstraint("campaign_id", "client_id"),)

    id: Mapped[str] = id_column()
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaign.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id"), index=True)
    space_id: Mapped[str | None] = mapped_column(ForeignKey("space.id"))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("document_request.id"))
    # signature campaigns: the client's PDF (a stored blob until the job files it as a
    # document of the space) and the one signature request made on it
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("document.id"))
    signature_request_id: Mapped[str | None] = mapped_column(ForeignKey("signature_request.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign = relationship("Campaign", back_populates="clients")
    client = relationship("Client")
    request = relationship("DocumentRequest")
    signature_request = relationship("SignatureRequest")
