"""Blob integrity: periodic re-hashing of a sample of blobs, and refusing to serve damaged ones.

A blob whose bytes no longer match the sha256 recorded at upload (or that has
vanished) is marked in ``BlobCheck``; every version pointing at it is refused
from then on, and the administrators get an alert through the alert engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import exists, func, select

from app.extensions import db
from app.models import Alert, BlobCheck, Document, DocumentVersion, User
from app.services import alerts, audit
from app.services.errors import DomainError
from app.services.runtime import store
from storage import BlobNotFound, StorageError

KIND = "integrity"
MISMATCH = "mismatch"
MISSING = "missing"


class ContentCorrupted(DomainError):
    """The stored bytes of a version no longer match its sha256: they are never served."""

    status = 500
    title = "Content corrupted"
    reason = "corrupted"


@dataclass
class CheckReport:
    """What one integrity run found."""

    checked: int = 0
    bytes: int = 0
    corrupted: list[str] = field(default_factory=list)  # blob keys
    unreachable: int = 0


def is_corrupted(blob_key: str) -> bool:
    """Whether the blob was found damaged or missing by an integrity check."""
    return bool(
        db.session.execute(
            select(
                exists().where(BlobCheck.blob_key == blob_key, BlobCheck.corrupted_at.is_not(None))
            )
        ).scalar()
    )


def ensure_intact(version: DocumentVersion) -> None:
    """ContentCorrupted unless the version's blob has passed (or not yet met) its checks."""
    if is_corrupted(version.blob_key):
        raise ContentCorrupted(
            "El contenido de esta versión está dañado: ya no coincide con su huella SHA-256. "
            "No se ha enviado. Los administradores ya han sido avisados."
        )


def _candidates(limit: int) -> list[tuple[str, str, int]]:
    """Blobs never checked first, then those checked longest ago: (key, sha256, size)."""
    rows = db.session.execute(
        select(
            DocumentVersion.blob_key,
            func.min(DocumentVersion.sha256),
            func.max(DocumentVersion.size),
        )
        .outerjoin(BlobCheck, BlobCheck.blob_key == DocumentVersion.blob_key)
        .where(BlobCheck.corrupted_at.is_(None))
        .group_by(DocumentVersion.blob_key, BlobCheck.checked_at)
        .order_by(BlobCheck.checked_at.is_not(None), BlobCheck.checked_at)
        .limit(limit)
    ).all()
    return [(key, sha256, int(size)) for key, sha256, size in rows]


def _mark(blob_key: str, now: datetime, problem: str | None) -> None:
    row = db.session.get(BlobCheck, blob_key)
    if row is None:
        row = BlobCheck(blob_key=blob_key)
        db.session.add(row)
    row.checked_at = now
    if problem is not None:
        row.corrupted_at = now
        row.problem = problem


def check_blob(blob_key: str, sha256: str, now: datetime | None = None) -> str | None:
    """Re-hash one blob; returns the problem found ("mismatch", "missing") or None."""
    now = now or datetime.now(UTC)
    try:
        actual = store().hash_blob(blob_key)
    except BlobNotFound:
        problem: str | None = MISSING
    else:
        problem = None if actual == sha256 else MISMATCH
    _mark(blob_key, now, problem)
    if problem is not None:
        audit.record("blob_corrupted", None, f"blob:{blob_key}", problem=problem)
    return problem


def check_sample(
    *,
    max_blobs: int = 50,
    max_bytes: int = 20 * 1024**3,
    now: datetime | None = None,
) -> CheckReport:
    """Re-hash the blobs least recently checked, up to a count and a byte budget; alert on damage."""
    now = now or datetime.now(UTC)
    report = CheckReport()
    for blob_key, sha256, size in _candidates(max_blobs):
        if report.checked and report.bytes + size > max_bytes:
            break
        try:
            problem = check_blob(blob_key, sha256, now)
        except StorageError:
            # The store is unreachable: not evidence of damage; try again next run.
            report.unreachable += 1
            continue
        report.checked += 1
        report.bytes += size
        if problem is not None:
            report.corrupted.append(blob_key)
    db.session.flush()
    if report.corrupted:
        alerts.sweep(now)
    return report


def _administrators() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == "admin", User.active.is_(True))
        ).scalars()
    )


def _damaged_versions(now: datetime) -> Iterable[alerts.LateThing]:
    """Finder for the alert engine: versions on a damaged blob that have no alert yet."""
    rows = db.session.execute(
        select(DocumentVersion.id, DocumentVersion.number, Document.id, Document.title)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(BlobCheck, BlobCheck.blob_key == DocumentVersion.blob_key)
        .where(
            BlobCheck.corrupted_at.is_not(None),
            ~exists().where(Alert.kind == KIND, Alert.target_id == DocumentVersion.id),
        )
    ).all()
    for version_id, number, document_id, title in rows:
        yield alerts.LateThing(
            kind=KIND,
            target_type="version",
            target_id=version_id,
            space_id=None,
            level=1,
            due=None,
            summary=f"{title} v{number}",
            link=f"/documents/{document_id}",
            recipients=lambda level: _administrators(),
        )


alerts.register_finder(_damaged_versions)
