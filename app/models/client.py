"""Clients, their spaces, members and folders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class ClientKind(StrEnum):
    person = "person"
    company = "company"


class SpaceKind(StrEnum):
    case = "case"
    fiscal_year = "fiscal_year"
    project = "project"
    general = "general"


class Permission(StrEnum):
    view = "view"
    contribute = "contribute"
    manage = "manage"


PERMISSION_RANK = {Permission.view: 1, Permission.contribute: 2, Permission.manage: 3}


class Client(db.Model):  # type: ignore[name-defined]
    __tablename__ = "client"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10), default=ClientKind.company)
    # bytes the client's spaces may hold (None: no limit); set by an admin
    storage_quota: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users = relationship("User", back_populates="client")
    spaces = relationship("Space", back_populates="client", order_by="Space.name")


class Space(db.Model):  # type: ignore[name-defined]
    __tablename__ = "space"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=SpaceKind.general)
    review_sla: Mapped[dict] = mapped_column(JSON, default=dict)
    label_scheme: Mapped[str] = mapped_column(
        String(20), default="default", server_default="default"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    client = relationship("Client", back_populates="spaces")
    members = relationship("SpaceMember", back_populates="space", cascade="all, delete-orphan")
    folders = relationship("Folder", back_populates="space", order_by="Folder.name")


class SpaceMember(db.Model):  # type: ignore[name-defined]
    __tablename__ = "space_member"
    __table_args__ = (UniqueConstraint("space_id", "user_id"),)

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    permission: Mapped[str] = mapped_column(String(12), default=Permission.view)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    space = relationship("Space", back_populates="members")
    user = relationship("User")


class Folder(db.Model):  # type: ignore[name-defined]
    __tablename__ = "folder"

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    space = relationship("Space", back_populates="folders")
