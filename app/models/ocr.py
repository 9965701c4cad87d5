"""OCR results of document versions, the full-text search entries, and forms filled from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow

#: Dialect-specific search objects made by migrations 0006, 0006b and 0006d and invisible to
#: the models: the SQLite FTS5 table (with its shadow tables), the PostgreSQL generated
#: tsvector column and its GIN index.
SEARCH_FTS_TABLE = "search_entry_fts"
SEARCH_GIN_INDEX = "ix_search_entry_vector"
SEARCH_VECTOR_COLUMN = "search_vector"


def include_in_autogenerate(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave out the dialect-specific search objects."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(SEARCH_FTS_TABLE):
        return False
    if type_ == "column" and name == SEARCH_VECTOR_COLUMN:
        return False
    return not (type_ == "index" and name == SEARCH_GIN_INDEX)


class OcrStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    skipped = "skipped"


class FormStatus(StrEnum):
    pending = "pending"  # waiting for the OCR of its document
    draft = "draft"
    confirmed = "confirmed"
    failed = "failed"  # the document could not be read


class OcrResult(db.Model):  # type: ignore[name-defined]
    """The text of one document version: one row per version, whatever redeliveries happen."""

    __tablename__ = "ocr_result"

    id: Mapped[str] = id_column()
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=OcrStatus.queued, index=True)
    error: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    engine_version: Mapped[str | None] = mapped_column(String(60))
    source_kind: Mapped[str | None] = mapped_column(String(10))
    page_count: Mapped[int | None] = mapped_column(Integer)
    #: ``PageText.to_dict()`` of each page read so far, in page order.
    pages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    text: Mapped[str | None] = mapped_column(Text)
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    searchable_blob_key: Mapped[str | None] = mapped_column(String(128), index=True)
    searchable_error: Mapped[str | None] = mapped_column(String(40))
    #: The resumable upload writing the searchable copy, recorded before its first byte.
    searchable_upload_id: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a worker last claimed the result or finished one of its steps.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version = relationship("DocumentVersion")


class SearchEntry(db.Model):  # type: ignore[name-defined]
    """What full-text search reads for a document: its title and its current version's text."""

    __tablename__ = "search_entry"

    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), primary_key=True)
    version_id: Mapped[str | None] = mapped_column(ForeignKey("document_version.id"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FormSubmission(db.Model):  # type: ignore[name-defined]
    """A form template filled from a document; nothing in it counts until a person confirms."""

    __tablename__ = "form_submission"

    id: Mapped[str] = id_column()
    template: Mapped[str] = mapped_column(String(60))
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("document_version.id"), index=True)
    #: ``{name: {value, confidence, page, box, source_text, confirmed, corrected}}``
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=FormStatus.draft, index=True)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document = relationship("Document")
    version = relationship("DocumentVersion")
    created_by = relationship("User", foreign_keys=[created_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
