"""Resumable uploads in progress and the integrity record of stored blobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Upload(db.Model):  # type: ignore[name-defined]
    """A tus upload: who may continue it and what it becomes once complete.

    The bytes and the offset live in the blob store (storage.resumable); this row
    holds the decisions taken at creation (access, target, visibility) and, once
    complete, the document it became.
    """

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the tus upload id
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    # set when the upload becomes a new version of this document
    document_id: Mapped[str | None] = mapped_column(ForeignKey("document.id"))
    folder_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id"))
    filename: Mapped[str] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(2000))
    visibility: Mapped[str] = mapped_column(String(10))
    length: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_document_id: Mapped[str | None] = mapped_column(ForeignKey("document.id"))
    result_version: Mapped[int | None] = mapped_column(Integer)


class BlobCheck(db.Model):  # type: ignore[name-defined]
    """When a blob was last re-hashed, and whether it no longer matches its sha256."""

    __tablename__ = "blob_check"

    blob_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    corrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "mismatch" (bytes changed) or "missing" (the blob is gone)
    problem: Mapped[str | None] = mapped_column(String(20))
