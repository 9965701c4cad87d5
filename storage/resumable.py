"""Server side of tus 1.0 resumable uploads, independent of any web framework.

The web layer translates HTTP to these calls and back::

    uploads = build_resumable(store)            # one per process, next to the store
    POST   /uploads/         -> uploads.create(length or None, parse_metadata(header),
                                               max_size=...)
    HEAD   /uploads/{id}     -> uploads.info(id)
    PATCH  /uploads/{id}     -> uploads.append(id, offset, request_stream,
                                               checksum=parse_checksum(header),
                                               length=deferred Upload-Length or None)
    once info.complete (after a PATCH, or at once for Upload-Length 0):
                                uploads.finish(id) -> StoredBlob, idempotent
    DELETE /uploads/{id}     -> uploads.terminate(id)
    periodic task            -> uploads.expire()

Errors map to tus answers: UploadNotFound 404, UploadExpired 410, OffsetMismatch
409, ChecksumMismatch 460, UnsupportedChecksum and InvalidUploadRequest 400,
UploadTooLarge 413, UploadBusy 423, UploadIncomplete 409, StorageFull 507.

Nothing lives only in memory: the upload's bytes and a small JSON state are kept
in the store's backend, so any web process, or the same one after a restart,
continues an upload. Each process keeps, as a pure optimisation, the running
sha256 of the uploads it has seen chunk after chunk; without it, `finish`
re-reads the assembled file once to hash it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from storage.base import BlobStore, BlobTooLarge, StorageError, StoredBlob

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "DEFAULT_TTL",
    "TUS_EXTENSIONS",
    "TUS_VERSION",
    "ChecksumMismatch",
    "InvalidUploadRequest",
    "OffsetMismatch",
    "ResumableUploads",
    "UnsupportedChecksum",
    "UploadBusy",
    "UploadError",
    "UploadExpired",
    "UploadIncomplete",
    "UploadInfo",
    "UploadNotFound",
    "UploadTooLarge",
    "build_resumable",
    "format_expires",
    "parse_checksum",
    "parse_metadata",
]

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-defer-length", "termination", "checksum", "expiration")
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
DEFAULT_TTL = timedelta(hours=24)
MAX_METADATA_BYTES = 4096

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

Clock = Callable[[], datetime]


class UploadError(StorageError):
    """Base class of the resumable-upload failures."""


class UploadNotFound(UploadError):
    """No upload with that id (never created, terminated, or cleaned up)."""


class UploadExpired(UploadError):
    """The upload passed its expiry before it was complete."""


class OffsetMismatch(UploadError):
    """The chunk does not start where the upload stands; `expected` is where it does."""

    def __init__(self, expected: int) -> None:
        super().__init__(f"the upload is at offset {expected}")
        self.expected = expected


class ChecksumMismatch(UploadError):
    """The chunk's bytes do not match the checksum sent with them; the chunk was discarded."""


class UnsupportedChecksum(UploadError):
    """The checksum names an algorithm this server does not offer."""


class UploadTooLarge(UploadError, BlobTooLarge):
    """The upload would exceed its declared length or the size limit; the chunk was discarded."""

    def __init__(self, limit: int) -> None:
        BlobTooLarge.__init__(self, limit)


class UploadIncomplete(UploadError):
    """`finish` was asked for an upload that has not received all its bytes."""


class UploadBusy(UploadError):
    """Another request is appending to this upload right now."""


class InvalidUploadRequest(UploadError):
    """A malformed length, metadata or checksum."""


@dataclass(frozen=True)
class UploadInfo:
    """Where one resumable upload stands."""

    id: str
    offset: int
    length: int | None
    metadata: Mapping[str, str]
    expires_at: datetime
    blob: StoredBlob | None = None

    @property
    def complete(self) -> bool:
        """Whether every byte has arrived."""
        return self.length is not None and self.offset == self.length


@runtime_checkable
class ResumableUploads(Protocol):
    """The tus operations, on top of one blob store."""

    def create(
        self, length: int | None, metadata: Mapping[str, str], *, max_size: int | None = None
    ) -> UploadInfo:
        """Start an upload of `length` bytes (None: declared by a later append)."""
        ...

    def info(self, upload_id: str) -> UploadInfo:
        """Where the upload stands."""
        ...

    def append(
        self,
        upload_id: str,
        offset: int,
        stream: BinaryIO,
        *,
        checksum: tuple[str, bytes] | None = None,
        length: int | None = None,
    ) -> UploadInfo:
        """Add the bytes of `stream` at `offset`; `length` declares a deferred Upload-Length.

        If reading `stream` raises (the client went away), the bytes read so far
        are kept unless a checksum was given, and the exception propagates.
        """
        ...

    def finish(self, upload_id: str) -> StoredBlob:
        """Turn the complete upload into a blob of the store (idempotent)."""
        ...

    def terminate(self, upload_id: str) -> None:
        """Forget the upload and free its bytes (a finished upload's blob is kept)."""
        ...

    def expire(self, now: datetime | None = None) -> int:
        """Remove unfinished uploads past their expiry, with their parts; return how many."""
        ...


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode a tus ``Upload-Metadata`` header (``key base64value, key2 ...``) to text."""
    if not header:
        return {}
    if len(header) > MAX_METADATA_BYTES * 2:
        raise InvalidUploadRequest("Upload-Metadata is too long")
    metadata: dict[str, str] = {}
    for item in header.split(","):
        pieces = item.strip().split(" ")
        key = pieces[0]
        if not key or len(pieces) > 2 or not key.isascii() or not key.isprintable():
            raise InvalidUploadRequest("malformed Upload-Metadata")
        if key in metadata:
            raise InvalidUploadRequest(f"duplicate Upload-Metadata key {key!r}")
        value = ""
        if len(pieces) == 2:
            try:
                value = base64.b64decode(pieces[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise InvalidUploadRequest(f"Upload-Metadata {key!r} is not base64 UTF-8") from exc
        metadata[key] = value
    return metadata


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """Decode a tus ``Upload-Checksum`` header (``sha1 base64digest``)."""
    if not header:
        return None
    pieces = header.strip().split(" ")
    if len(pieces) != 2:
        raise InvalidUploadRequest("malformed Upload-Checksum")
    algorithm = pieces[0].lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UnsupportedChecksum(f"unsupported checksum algorithm {pieces[0]!r}")
    try:
        digest = base64.b64decode(pieces[1], validate=True)
    except binascii.Error as exc:
        raise InvalidUploadRequest("Upload-Checksum is not base64") from exc
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise InvalidUploadRequest("Upload-Checksum has the wrong length")
    return algorithm, digest


def format_expires(moment: datetime) -> str:
    """The RFC 7231 date of an ``Upload-Expires`` header."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def build_resumable(
    store: BlobStore, *, ttl: timedelta = DEFAULT_TTL, clock: Clock | None = None
) -> ResumableUploads:
    """The resumable-upload implementation for `store` (filesystem or MinIO).

    `ttl` is how long an upload lives after its creation or its last append;
    `clock` returns the current aware datetime (tests pass their own).
    Build one per process and keep it: it remembers running hashes.
    """
    from storage.filesystem import FilesystemStore

    if isinstance(store, FilesystemStore):
        from storage.resumable_fs import FilesystemUploads

        return FilesystemUploads(store, ttl=ttl, clock=clock or utc_now)
    from storage.minio_store import MinioStore

    if isinstance(store, MinioStore):
        from storage.resumable_minio import MinioUploads

        return MinioUploads(store, ttl=ttl, clock=clock or utc_now)
    raise StorageError(f"resumable uploads are not available for {type(store).__name__}")


# ---------------------------------------------------------------- shared by the backends


def new_upload_id() -> str:
    """A fresh, unguessable upload id (it is also the capability in the upload's URL)."""
    return secrets.token_hex(16)


def check_upload_id(upload_id: str) -> str:
    """Refuse ids that new_upload_id() cannot produce (they never name a file or object)."""
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise UploadNotFound(upload_id)
    return upload_id


def check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """Copy the metadata, refusing what would not fit in a small state record."""
    copied = {str(key): str(value) for key, value in metadata.items()}
    if sum(len(k.encode()) + len(v.encode()) for k, v in copied.items()) > MAX_METADATA_BYTES:
        raise InvalidUploadRequest("upload metadata is too large")
    return copied


def check_new_length(length: int | None, max_size: int | None) -> None:
    """Refuse a negative length or one above the size limit."""
    if length is None:
        return
    if length < 0:
        raise InvalidUploadRequest("Upload-Length must not be negative")
    if max_size is not None and length > max_size:
        raise UploadTooLarge(max_size)


def checksum_hasher(checksum: tuple[str, bytes] | None) -> _Hash | None:
    """A hash object for the algorithm of a tus checksum."""
    if checksum is None:
        return None
    algorithm = checksum[0].lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UnsupportedChecksum(f"unsupported checksum algorithm {checksum[0]!r}")
    return hashlib.new(algorithm)


def utc_now() -> datetime:
    """The current time, time-zone aware."""
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """A datetime as stored in upload state."""
    return moment.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    """A datetime read back from upload state."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class ChunkLimits:
    """How many bytes an append may add: up to the declared length, or the size limit."""

    offset: int
    length: int | None
    max_size: int | None

    def allowed_end(self) -> int | None:
        """The offset past which bytes are refused."""
        ends = [end for end in (self.length, self.max_size) if end is not None]
        return min(ends) if ends else None

    def refusal(self) -> UploadTooLarge:
        """The error for a chunk that runs past the allowed end."""
        end = self.allowed_end()
        return UploadTooLarge(end if end is not None else 0)


def resolve_length(
    current: int | None, declared: int | None, offset: int, max_size: int | None
) -> int | None:
    """The upload's length after a PATCH that may declare a deferred Upload-Length."""
    if declared is None:
        return current
    if current is not None and declared != current:
        raise InvalidUploadRequest("Upload-Length cannot change once set")
    if declared < offset:
        raise InvalidUploadRequest("Upload-Length is below the current offset")
    check_new_length(declared, max_size)
    return declared


@dataclass
class RunningHashes:
    """Per-process sha256 of the uploads seen chunk by chunk, keyed by (id, offset)."""

    capacity: int = 256
    _entries: OrderedDict[str, tuple[int, _Hash]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, upload_id: str, offset: int) -> _Hash | None:
        """A copy of the hash of the first `offset` bytes, if this process saw them all."""
        if offset == 0:
            return hashlib.sha256()
        with self._lock:
            entry = self._entries.get(upload_id)
            if entry is None or entry[0] != offset:
                return None
            return entry[1].copy()

    def save(self, upload_id: str, offset: int, digest: _Hash | None) -> None:
        """Remember the hash of the first `offset` bytes (once they are committed)."""
        with self._lock:
            if digest is None:
                self._entries.pop(upload_id, None)
                return
            self._entries[upload_id] = (offset, digest)
            self._entries.move_to_end(upload_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        """Drop what is known of an upload."""
        with self._lock:
            self._entries.pop(upload_id, None)


def frozen_metadata(metadata: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy of upload metadata."""
    return MappingProxyType(dict(metadata))
