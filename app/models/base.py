"""Shared column helpers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column


def new_id() -> str:
    """An opaque, unguessable id (API.md: ids are opaque strings)."""
    return secrets.token_hex(12)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(DateTime):
    """A timezone-aware datetime column (SQLite forgets the zone; we put UTC back)."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def result_processor(self, dialect, coltype):  # type: ignore[no-untyped-def]
        parent = super().result_processor(dialect, coltype)

        def process(value):  # type: ignore[no-untyped-def]
            if parent is not None:
                value = parent(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return process


def id_column() -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=new_id)
