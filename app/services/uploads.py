"""Resumable uploads (tus 1.0): who may start and continue one, and what it becomes.

The bytes go through storage.resumable straight into the blob store; an
``Upload`` row keeps the decisions taken when the upload was created (access,
target space or document, visibility). When the last byte arrives the upload
becomes a document or a new version exactly as a multipart upload does
(documents.add_document_from_blob / add_version_from_blob), and only then is
anything visible. An upload whose content is refused (type, quota, access
withdrawn meanwhile) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, select, update

from app.extensions import db
from app.models import Permission, Space, Upload, User
from app.services import documents, file_types, quotas
from app.services.access import get_document, get_space
from app.services.errors import DomainError, NotFound, TooLarge, ValidationFailed
from app.services.runtime import resumable, setting, store
from storage import (
    OffsetMismatch,
    StorageError,
    StoredBlob,
    UploadExpired,
    UploadInfo,
    UploadNotFound,
)

# How long the answer for a completed upload (its document id) stays available.
KEEP_COMPLETED = timedelta(days=7)


class UploadRefused(DomainError):
    """The upload was refused and discarded; the caller commits the clean-up, then answers."""

    def __init__(self, cause: DomainError) -> None:
        super().__init__(cause.detail, **cause.extra)
        self.cause = cause
        self.status = cause.status
        self.title = cause.title


@dataclass(frozen=True)
class UploadStatus:
    """Where an upload stands, as the tus answers report it."""

    id: str
    offset: int
    length: int | None
    expires_at: datetime | None
    document_id: str | None = None
    version: int | None = None

    @property
    def complete(self) -> bool:
        return self.document_id is not None


def max_size() -> int:
    return int(setting("MAX_UPLOAD_SIZE"))


def _check_length(length: int | None) -> None:
    if length is None:
        return
    if length < 0:
        raise ValidationFailed({"Upload-Length": _("La longitud no puede ser negativa.")})
    if length > max_size():
        raise TooLarge(
            _(
                "El archivo (%(size)s) supera el tamaño máximo permitido (%(limit)s). "
                "No se ha guardado nada.",
                size=quotas.human_size(length),
                limit=quotas.human_size(max_size()),
            ),
            limit=max_size(),
        )


def start_upload(actor: User, *, length: int | None, metadata: Mapping[str, str]) -> UploadStatus:
    """Create an upload into a space (``space_id``) or onto a document (``document_id``).

    The caller must be able to contribute there: 404 for what it may not know, 403 otherwise.
    """
    space_id = (metadata.get("space_id") or "").strip()
    document_id = (metadata.get("document_id") or "").strip()
    if bool(space_id) == bool(document_id):
        raise ValidationFailed(
            {"Upload-Metadata": "Indique space_id (documento nuevo) o document_id (nueva versión)."}
        )
    filename = documents.clean_filename(metadata.get("filename") or metadata.get("name"))
    folder_id = (metadata.get("folder_id") or "").strip() or None
    if document_id:
        document = get_document(actor, document_id, Permission.contribute)
        space, visibility, folder_id = document.space, document.visibility, None
    else:
        space, visibility = documents.document_target(
            actor, space_id, visibility=metadata.get("visibility") or None, folder_id=folder_id
        )
    _check_length(length)
    title, category, note = documents.described(
        title=metadata.get("title"), category=metadata.get("category"), note=metadata.get("note")
    )
    quotas.check_quota(space, length or 0)
    info = resumable().create(length, {"filename": filename}, max_size=max_size())
    upload = Upload(
        id=info.id,
        user_id=actor.id,
        space_id=space.id,
        document_id=document_id or None,
        folder_id=folder_id,
        filename=filename,
        title=title,
        category=category,
        note=note,
        visibility=visibility,
        length=length,
        expires_at=info.expires_at,
    )
    db.session.add(upload)
    db.session.flush()
    if info.complete:  # an empty file is complete at once
        return _complete(actor, upload)
    return _status(info)


def _own(actor: User, upload_id: str) -> Upload:
    """The caller's own upload; anyone else's is NotFound, as if it did not exist."""
    upload = db.session.get(Upload, str(upload_id))
    if upload is None or upload.user_id != actor.id:
        raise NotFound()
    return upload


def _status(info: UploadInfo) -> UploadStatus:
    return UploadStatus(info.id, info.offset, info.length, info.expires_at)


def _completed_status(upload: Upload) -> UploadStatus:
    return UploadStatus(
        upload.id,
        upload.length or 0,
        upload.length,
        None,
        document_id=upload.result_document_id,
        version=upload.result_version,
    )


def upload_status(actor: User, upload_id: str) -> UploadStatus:
    """Where the caller's upload stands (tus HEAD)."""
    upload = _own(actor, upload_id)
    if upload.completed_at is not None:
        return _completed_status(upload)
    info = resumable().info(upload.id)
    if info.complete:
        # Every byte arrived but the document was not made (the process stopped in between).
        return _complete(actor, upload)
    return _status(info)


def append_chunk(
    actor: User,
    upload_id: str,
    *,
    offset: int,
    stream: BinaryIO,
    checksum: tuple[str, bytes] | None = None,
    length: int | None = None,
) -> UploadStatus:
    """Add the bytes of a tus PATCH; the last one turns the upload into a document."""
    upload = _own(actor, upload_id)
    if upload.completed_at is not None:
        if offset == upload.length and not stream.read(1):
            return _completed_status(upload)
        raise OffsetMismatch(upload.length or 0)
    # Access may have been withdrawn since the upload started.
    if upload.document_id:
        get_document(actor, upload.document_id, Permission.contribute)
    else:
        get_space(actor, upload.space_id, Permission.contribute)
    if offset == 0:
        stream = _check_first_bytes(upload, stream)
    if length is not None and upload.length is None:
        _check_length(length)
        space = db.session.get(Space, upload.space_id)
        if space is None:  # the upload's space is a foreign key: only a broken database
            raise NotFound()
        try:
            quotas.check_quota(space, length, exclude_upload=upload.id)
        except DomainError as error:
            _discard(upload.id, None)
            raise UploadRefused(error) from error
    info = resumable().append(upload.id, offset, stream, checksum=checksum, length=length)
    upload.expires_at = info.expires_at
    upload.length = info.length
    db.session.flush()
    if info.complete:
        return _complete(actor, upload)
    return _status(info)


def _check_first_bytes(upload: Upload, stream: BinaryIO) -> BinaryIO:
    """Refuse a disallowed kind of file from its first chunk, before storing any of it."""
    head, whole = file_types.read_head(stream)
    enough = len(head) >= file_types.HEAD_SIZE or (
        upload.length is not None and len(head) >= upload.length
    )
    if enough:
        try:
            file_types.check_head(head, upload.filename)
        except DomainError as error:
            _discard(upload.id, None)
            raise UploadRefused(error) from error
    return whole


def _read_head(blob: StoredBlob) -> bytes:
    size = min(file_types.HEAD_SIZE, blob.size)
    return b"".join(store().open_range(blob.key, 0, size)) if size else b""


def _complete(actor: User, upload: Upload) -> UploadStatus:
    """Turn a complete upload into its document or version, once (concurrent calls wait)."""
    blob = resumable().finish(upload.id)
    upload_id = upload.id
    # An UPDATE gives a CursorResult (which counts rows), though Session.execute is typed
    # as giving any Result.
    claimed = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.completed_at.is_(None))
            .values(completed_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    db.session.refresh(upload)
    if not claimed:
        return _completed_status(upload)
    try:
        file_types.check_head(_read_head(blob), upload.filename)
        if upload.document_id:
            version = documents.add_version_from_blob(
                actor, upload.document_id, blob, filename=upload.filename, note=upload.note
            )
            document_id, number = upload.document_id, version.number
        else:
            document = documents.add_document_from_blob(
                actor,
                upload.space_id,
                blob,
                filename=upload.filename,
                title=upload.title,
                visibility=upload.visibility,
                category=upload.category,
                folder_id=upload.folder_id,
                note=upload.note,
            )
            document_id, number = document.id, 1
    except DomainError as error:
        db.session.rollback()
        _discard(upload_id, blob)
        raise UploadRefused(error) from error
    upload.result_document_id = document_id
    upload.result_version = number
    upload.length = blob.size
    db.session.flush()
    return _completed_status(upload)


def _discard(upload_id: str, blob: StoredBlob | None) -> None:
    """Forget a refused upload: its bytes, its blob if finished, and its row (flushed only)."""
    try:
        resumable().terminate(upload_id)
    except (UploadNotFound, UploadExpired):
        pass
    if blob is not None:
        store().delete(blob.key)
    db.session.execute(delete(Upload).where(Upload.id == upload_id))
    db.session.flush()


def cancel_upload(actor: User, upload_id: str) -> None:
    """tus DELETE: the bytes go; a completed upload's document stays."""
    upload = _own(actor, upload_id)
    try:
        resumable().terminate(upload.id)
    except (UploadNotFound, UploadExpired):
        pass
    if upload.completed_at is None:
        db.session.delete(upload)
        db.session.flush()


def expire_uploads(now: datetime | None = None) -> int:
    """Remove uploads past their expiry with their bytes and parts; returns how many."""
    now = now or datetime.now(UTC)
    stale = list(
        db.session.execute(
            select(Upload).where(Upload.completed_at.is_(None), Upload.expires_at <= now)
        ).scalars()
    )
    for upload in stale:
        try:
            info = resumable().info(upload.id)
        except (UploadNotFound, UploadExpired):
            info = None
        except StorageError:
            continue  # the store is unreachable: try again next time
        if info is not None and info.blob is not None:
            # Finished in the store but never made into a document: nobody will.
            store().delete(info.blob.key)
        try:
            resumable().terminate(upload.id)
        except (UploadNotFound, UploadExpired):
            pass
        db.session.delete(upload)
    db.session.execute(
        delete(Upload).where(
            Upload.completed_at.is_not(None), Upload.completed_at <= now - KEEP_COMPLETED
        )
    )
    removed = resumable().expire(now)
    db.session.flush()
    return max(removed, len(stale))
