"""Documents and their immutable versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class Visibility(StrEnum):
    shared = "shared"
    internal = "internal"


class VersionSource(StrEnum):
    upload = "upload"
    restore = "restore"
    signature = "signature"


class Document(db.Model):  # type: ignore[name-defined]
    __tablename__ = "document"
    # a space's list, a page at a time, in either of its orders (migration 0006c)
    __table_args__ = (
        Index("ix_document_space_title", "space_id", "title"),
        Index("ix_document_space_updated", "space_id", "updated_at"),
        Index(
            "ix_document_space_visibility_deleted", "space_id", "visibility", "deleted_at", "title"
        ),
    )

    id: Mapped[str] = id_column()
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    folder_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.shared)
    current_version_number: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))

    space = relationship("Space")
    folder = relationship("Folder")
    created_by = relationship("User", foreign_keys=[created_by_id])
    versions = relationship(
        "DocumentVersion",
        back_populates="document",
        order_by="DocumentVersion.number.desc()",
    )

    @property
    def current_version(self) -> DocumentVersion | None:
        for version in self.versions:
            if version.number == self.current_version_number:
                return version
        return None


class DocumentVersion(db.Model):  # type: ignore[name-defined]
    """One immutable version: a row pointing at a blob that is never overwritten."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[str] = id_column()
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(128), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(128))
    uploaded_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(16), default=VersionSource.upload)
    restored_from: Mapped[int | None] = mapped_column(Integer)
    review_state: Mapped[str] = mapped_column(String(20), default="received", index=True)
    review_state_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document = relationship("Document", back_populates="versions")
    uploaded_by = relationship("User")


@event.listens_for(DocumentVersion, "before_update")
def _versions_are_immutable(mapper, connection, target):  # type: ignore[no-untyped-def]
    """Only the review state of a version may change; its content never does."""
    state = db.inspect(target)
    frozen = {"blob_key", "sha256", "size", "filename", "document_id", "number"}
    for name in frozen:
        if state.attrs[name].history.has_changes():
            raise ValueError(f"document versions are immutable ({name})")
