"""Previews of document versions: thumbnails, page images, drawings as SVG, video posters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class PreviewStatus(StrEnum):
    pending = "pending"
    ready = "ready"
    failed = "failed"  # the file could not be drawn (corrupt, a bomb, too slow…)
    unsupported = "unsupported"  # nothing here draws this kind of file


class DocumentPreview(db.Model):  # type: ignore[name-defined]
    """One rendition of a version (``thumbnail``, ``view``, ``page-N``), made once and kept.

    The rendition is a blob of its own, never the version's blob; the row is the cache
    entry that says where it is, or why there is none.
    """

    __tablename__ = "document_preview"
    __table_args__ = (UniqueConstraint("version_id", "variant"),)

    id: Mapped[str] = id_column()
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"), index=True)
    variant: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=PreviewStatus.pending, index=True)
    blob_key: Mapped[str | None] = mapped_column(String(128), index=True)
    media_type: Mapped[str | None] = mapped_column(String(40))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version = relationship("DocumentVersion")
