"""Orphan blobs: stored, but named by no row, left by a crash between a write and its commit.

Every writer stores its blob first and commits the row that names it after (a version,
a preview, an OCR searchable copy, a campaign's PDF, a compare's manifest and the page
images it lists). A worker killed in between, a database restart or a full disk leaves
the blob behind with nothing pointing at it. The daily sweep deletes the blobs older
than ``BLOB_ORPHAN_GRACE_HOURS`` that nothing names; younger ones may belong to a write
whose commit is still on its way.

The store is listed as a stream and checked against the database a batch of keys at a
time, reading key columns only, so a store of millions of blobs is never held whole:
what is kept is the old keys no row names directly, the orphans and the compare images
(only their manifest names those, so each manifest is read once a run).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, union
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import CampaignClient, DocumentPreview, DocumentVersion, OcrResult, Upload
from app.services import audit, compare
from app.services.runtime import resumable, setting, store
from storage import BlobNotFound, StorageError, UploadExpired, UploadNotFound

log = logging.getLogger(__name__)

#: Keys checked against the database in one query per column.
BATCH = 5000
#: Deleted keys written into the audit event (the count is always there).
AUDITED_KEYS = 100

Reader = Session | Connection


def grace_period() -> timedelta:
    """How old an unnamed blob must be before it counts as an orphan."""
    return timedelta(hours=float(setting("BLOB_ORPHAN_GRACE_HOURS")))


def orphans(older_than: timedelta, *, now: datetime | None = None) -> list[str]:
    """Keys of the blobs older than `older_than` that no row, compare or upload names.

    The order of the reads keeps a write that commits meanwhile safe: a blob listed is
    stored already, so an upload it belongs to is finished; the uploads are asked after
    the listing, and the rows once more after that, on a connection of its own that
    sees what was committed since (SQLite keeps a transaction's first snapshot). A key
    goes from an upload to a row, never back, so one of the two reads finds it.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
    old_keys = (key for key, modified in store().iter_blobs() if modified < cutoff)
    unnamed: list[str] = []
    for batch in _batches(old_keys):
        named = _named_by_rows(db.session(), batch)
        unnamed.extend(key for key in batch if key not in named)
    if not unnamed:
        return []
    with db.engine.connect() as fresh:
        held = _held_by_uploads(fresh)
        if held is None:
            return []
        fresh.rollback()  # a new snapshot for the second look at the rows
        candidates = [key for key in unnamed if key not in held]
        still_unnamed: list[str] = []
        for batch in _batches(candidates):
            named = _named_by_rows(fresh, batch)
            still_unnamed.extend(key for key in batch if key not in named)
        if not still_unnamed:
            return []
        in_compares = _named_by_compares(fresh, set(still_unnamed))
    return [key for key in still_unnamed if key not in in_compares]


def sweep(now: datetime | None = None) -> int:
    """Delete the orphan blobs past the grace period; returns how many (flushed only).

    A store that stops answering midway ends the sweep with what was deleted so far;
    the next run goes on from there.
    """
    grace = grace_period()
    deleted: list[str] = []
    for key in orphans(grace, now=now):
        try:
            store().delete(key)
        except StorageError as error:
            log.warning("orphan sweep stopped after %d blobs: %s", len(deleted), error)
            break
        deleted.append(key)
    if deleted:
        log.info("deleted %d orphan blobs", len(deleted))
        audit.record(
            "orphan_blobs_deleted",
            None,
            "blobs",
            count=len(deleted),
            keys=deleted[:AUDITED_KEYS],
            grace_hours=grace.total_seconds() / 3600,
        )
    return len(deleted)


def _batches(keys: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _named_by_rows(reader: Reader, keys: list[str]) -> set[str]:
    """Which of `keys` a row names: versions, previews (and compare manifests), OCR, campaigns."""
    columns: list[Any] = [
        DocumentVersion.blob_key,
        DocumentPreview.blob_key,
        OcrResult.searchable_blob_key,
        # a signature campaign's PDF, a blob until its job files it as a document
        CampaignClient.source["key"].as_string(),
    ]
    named: set[str] = set()
    for column in columns:
        named.update(reader.execute(select(column).where(column.in_(keys))).scalars())
    return named


def _held_by_uploads(reader: Reader) -> set[str] | None:
    """Blobs of resumable uploads finished in the store whose row has not taken them yet.

    A tus upload becomes a version, an OCR result's upload its searchable copy; between
    the store's finish and that commit only the upload knows the key. None when an
    upload has all its bytes but no blob recorded (a finish cut off, or under way): its
    key cannot be known, so nothing is deleted this time (it expires with the upload).
    A store that does not answer raises, for the same reason.
    """
    upload_ids = list(
        reader.execute(
            union(
                select(Upload.id).where(Upload.completed_at.is_(None)),
                select(OcrResult.searchable_upload_id).where(
                    OcrResult.searchable_upload_id.is_not(None)
                ),
            )
        ).scalars()
    )
    held: set[str] = set()
    uploads = resumable()
    for upload_id in upload_ids:
        try:
            info = uploads.info(upload_id)
        except (UploadNotFound, UploadExpired):
            continue  # gone, or expired before its last byte: it holds no blob
        if info.blob is not None:
            held.add(info.blob.key)
        elif info.complete:
            log.info("orphan sweep skipped: upload %s is being finished", upload_id)
            return None
    return held


def _named_by_compares(reader: Reader, keys: set[str]) -> set[str]:
    """Which of `keys` a compare's manifest lists among its page and overlay images."""
    manifests = reader.execute(
        select(DocumentPreview.blob_key)
        .where(
            DocumentPreview.variant.startswith(compare.PREFIX),
            DocumentPreview.blob_key.is_not(None),
        )
        .execution_options(yield_per=500)
    )
    named: set[str] = set()
    try:
        for manifest_key in manifests.scalars():
            if manifest_key is None:  # not selected; the column is nullable
                continue
            named.update(key for key in _manifest_images(manifest_key) if key in keys)
            if len(named) == len(keys):
                break
    finally:
        manifests.close()
    return named


def _manifest_images(manifest_key: str) -> list[str]:
    """The image keys a compare's manifest lists; none when it is gone or unreadable.

    A store that does not answer raises (StorageError): then nothing is deleted.
    """
    try:
        manifest = json.loads(b"".join(store().open_range(manifest_key)))
    except BlobNotFound:
        log.warning("compare manifest %s is missing", manifest_key)
        return []
    except ValueError:
        log.warning("compare manifest %s is not JSON", manifest_key)
        return []
    images = manifest.get("images") if isinstance(manifest, dict) else None
    if not isinstance(images, dict):
        return []
    return [key for key in images.values() if isinstance(key, str)]
