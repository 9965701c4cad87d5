"""Upkeep of uploads and blobs: expire unfinished uploads, re-hash blobs, delete orphan blobs."""

from __future__ import annotations

from app.extensions import celery, db
from app.services import integrity, orphan_blobs, uploads


@celery.task(name="portal.expire_uploads")
def expire_uploads() -> int:
    """Drop resumable uploads past their expiry, with their bytes (or MinIO parts)."""
    removed = uploads.expire_uploads()
    db.session.commit()
    return removed


@celery.task(name="portal.check_integrity")
def check_integrity() -> int:
    """Re-hash the blobs checked longest ago; a mismatch blocks the blob and alerts the admins."""
    report = integrity.check_sample()
    db.session.commit()
    return len(report.corrupted)


@celery.task(name="portal.sweep_orphan_blobs")
def sweep_orphan_blobs() -> int:
    """Delete the blobs no row names, once past BLOB_ORPHAN_GRACE_HOURS (a crash's leftovers)."""
    removed = orphan_blobs.sweep()
    db.session.commit()
    return removed
