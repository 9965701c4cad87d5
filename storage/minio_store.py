"""MinIO (S3) blob store: streaming multipart writes into one versioned bucket."""

from __future__ import annotations

import hashlib
import io
import logging
import math
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.datatypes import Part
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from storage.base import (
    CHUNK_SIZE,
    BlobNotFound,
    BlobTooLarge,
    StorageError,
    StorageFull,
    StoredBlob,
    content_disposition,
    is_blob_key,
    new_key,
)

__all__ = [
    "DEFAULT_PART_SIZE",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "MinioBucket",
    "MinioStore",
    "PartPipeline",
    "PartRecord",
    "PartSizes",
]

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
_PARTS_PER_SIZE_STEP = 2_000
# S3's largest object; used as the limit when the server answers EntityTooLarge.
_S3_MAX_OBJECT_SIZE = 5 * 1024**4

_FULL_CODES = frozenset(
    {"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded", "QuotaExceeded", "StorageFull"}
)
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})

T = TypeVar("T")


@dataclass(frozen=True)
class PartSizes:
    """Part sizes of one multipart upload: all `base` bytes, or growing when the size is unknown.

    With the size (or its limit) known, `base` is chosen so that S3's 10 000
    parts suffice. Otherwise part sizes double every 2 000 parts, so that an
    upload reaches about 500 GB while small ones keep small buffers.
    """

    base: int
    grows: bool

    @classmethod
    def plan(cls, configured: int, expected_size: int | None) -> PartSizes:
        """Part sizes for an upload of `expected_size` bytes at most (None: unknown)."""
        base = max(configured, MIN_PART_SIZE)
        if expected_size is None:
            return cls(base, grows=True)
        mib = 1024 * 1024
        needed = math.ceil(math.ceil(expected_size / MAX_PARTS) / mib) * mib
        return cls(max(base, needed), grows=False)

    def size(self, part_number: int) -> int:
        """Size of part `part_number` (1-based); the last part may be shorter."""
        if not self.grows:
            return self.base
        return self.base << ((part_number - 1) // _PARTS_PER_SIZE_STEP)


def _storage_error(exc: Exception, key: str | None = None) -> StorageError:
    """Translate a minio/urllib3 failure into the storage exception family."""
    if isinstance(exc, S3Error):
        if exc.code in _MISSING_CODES:
            return BlobNotFound(key or exc.object_name or "")
        if exc.code in _FULL_CODES:
            return StorageFull("the object store is out of space")
        if exc.code == "EntityTooLarge":
            return BlobTooLarge(_S3_MAX_OBJECT_SIZE)
        return StorageError(f"object store error {exc.code}: {exc.message}")
    if isinstance(exc, ServerError):
        if exc.status_code == 507:
            return StorageFull("the object store is out of space")
        return StorageError(f"object store answered HTTP {exc.status_code}")
    if isinstance(exc, InvalidResponseError):
        return StorageError("the object store sent an invalid response")
    return StorageError("the object store could not be reached")


_TRANSLATED = (MinioException, urllib3.exceptions.HTTPError, OSError)


@contextmanager
def _translated(key: str | None = None) -> Iterator[None]:
    """Re-raise minio, urllib3 and socket failures as storage errors."""
    try:
        yield
    except _TRANSLATED as exc:
        raise _storage_error(exc, key) from exc


@dataclass(frozen=True)
class PartRecord:
    """One uploaded part of a multipart upload."""

    number: int
    etag: str
    size: int


class _ResponseChunks(Iterator[bytes]):
    """Chunks of a streamed GET response; closing it releases the connection."""

    def __init__(self, response: urllib3.BaseHTTPResponse, key: str) -> None:
        self._response = response
        self._key = key
        self._chunks = response.stream(CHUNK_SIZE)
        self._closed = False

    def __iter__(self) -> _ResponseChunks:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            with _translated(self._key):
                return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the response and hand its connection back to the pool."""
        if not self._closed:
            self._closed = True
            self._response.close()
            self._response.release_conn()

    def __del__(self) -> None:
        with suppress(Exception):
            self.close()


class MinioBucket:
    """The few S3 calls the store and the resumable uploads make, with errors translated."""

    def __init__(self, client: Minio, name: str) -> None:
        self.client = client
        self.name = name
        self.versioned = False
        self._ready = False
        self._ready_lock = threading.Lock()

    def ensure(self) -> None:
        """Create the bucket if missing and turn versioning on (once per process)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with _translated():
                if not self.client.bucket_exists(self.name):
                    try:
                        self.client.make_bucket(self.name)
                    except S3Error as exc:
                        if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                            raise
                self.versioned = self._enable_versioning()
            self._ready = True

    def _enable_versioning(self) -> bool:
        """Turn bucket versioning on; servers without versioning (nanio) are tolerated."""
        try:
            if self.client.get_bucket_versioning(self.name).status == ENABLED:
                return True
            self.client.set_bucket_versioning(self.name, VersioningConfig(ENABLED))
            return self.client.get_bucket_versioning(self.name).status == ENABLED
        except S3Error as exc:
            log.warning(
                "bucket %s: the server does not support versioning (%s); "
                "blobs still rely on never-reused keys",
                self.name,
                exc.code,
            )
            return False

    def _call(self, key: str | None, func: Callable[[], T]) -> T:
        self.ensure()
        with _translated(key):
            return func()

    def put_bytes(
        self, name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        """Store a small object in one request."""
        self._call(
            name,
            lambda: self.client.put_object(
                self.name,
                name,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                # One part as large as the data: a single PUT, no multipart.
                part_size=max(len(data), MIN_PART_SIZE),
            ),
        )

    def get_bytes(self, name: str) -> bytes:
        """Read a small object whole."""

        def read() -> bytes:
            response = self.client.get_object(self.name, name)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call(name, read)

    def stream(self, name: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream an object (or a byte range of it) in chunks; missing objects raise at once."""
        if length == 0:
            self.stat_size(name)
            return iter(())
        self.ensure()
        try:
            with _translated(name):
                response = self.client.get_object(self.name, name, offset=start, length=length or 0)
        except StorageError as exc:
            cause = exc.__cause__
            beyond_end = isinstance(cause, S3Error) and cause.code in {
                "InvalidRange",
                "InvalidArgument",
            }
            if not beyond_end:
                raise
            # S3 clips a range that runs past the end; some servers refuse it instead.
            size = self.stat_size(name)
            if start >= size:
                return iter(())
            with _translated(name):
                response = self.client.get_object(
                    self.name, name, offset=start, length=size - start
                )
        return _ResponseChunks(response, name)

    def stat_size(self, name: str) -> int:
        """Size of an object; BlobNotFound when there is none."""
        return self._call(name, lambda: int(self.client.stat_object(self.name, name).size or 0))

    def exists(self, name: str) -> bool:
        """Whether an object exists."""
        try:
            self.stat_size(name)
        except BlobNotFound:
            return False
        return True

    def remove(self, name: str) -> None:
        """Remove an object, every version of it when the bucket is versioned."""
        self.ensure()
        with _translated(name):
            if not self.versioned:
                self.client.remove_object(self.name, name)
                return
            for item in self.client.list_objects(self.name, prefix=name, include_version=True):
                if item.object_name == name:
                    self.client.remove_object(self.name, name, version_id=item.version_id)

    def remove_prefix(self, prefix: str) -> None:
        """Remove every object (and version) whose name starts with `prefix`."""
        self.ensure()
        with _translated():
            items = list(
                self.client.list_objects(
                    self.name, prefix=prefix, recursive=True, include_version=self.versioned
                )
            )
            for item in items:
                if item.object_name is None or item.is_dir:
                    continue
                self.client.remove_object(
                    self.name,
                    item.object_name,
                    version_id=item.version_id if self.versioned else None,
                )

    def list_names(self, prefix: str, *, recursive: bool = False) -> list[str]:
        """Object names (or sub-prefixes ending in '/') directly under `prefix`."""
        self.ensure()
        with _translated():
            return [
                item.object_name
                for item in self.client.list_objects(self.name, prefix=prefix, recursive=recursive)
                if item.object_name is not None
            ]

    def iter_objects(self) -> Iterator[tuple[str, datetime | None]]:
        """Every object's name and last-modified time, read page by page as the server lists."""
        self.ensure()
        with _translated():
            for item in self.client.list_objects(self.name, recursive=True):
                if item.object_name is not None and not item.is_dir:
                    yield item.object_name, item.last_modified

    def create_multipart(self, name: str) -> str:
        """Start a multipart upload; returns its id."""
        return self._call(
            name,
            lambda: self.client._create_multipart_upload(  # noqa: SLF001 - no public API
                self.name, name, {"Content-Type": "application/octet-stream"}
            ),
        )

    def upload_part(self, name: str, upload_id: str, number: int, data: bytes) -> PartRecord:
        """Upload one part (any size for the last part, at least 5 MiB for the others)."""
        etag = self._call(
            name,
            lambda: self.client._upload_part(  # noqa: SLF001 - no public API
                self.name, name, data, None, upload_id, number
            ),
        )
        return PartRecord(number=number, etag=etag, size=len(data))

    def complete_multipart(self, name: str, upload_id: str, parts: list[PartRecord]) -> None:
        """Assemble the parts into the object `name`."""
        listed = [Part(part.number, part.etag) for part in parts]
        self._call(
            name,
            lambda: self.client._complete_multipart_upload(  # noqa: SLF001 - no public API
                self.name, name, upload_id, listed
            ),
        )

    def abort_multipart(self, name: str, upload_id: str) -> None:
        """Abort a multipart upload; an unknown upload is not an error."""
        try:
            self._call(
                name,
                lambda: self.client._abort_multipart_upload(  # noqa: SLF001 - no public API
                    self.name, name, upload_id
                ),
            )
        except BlobNotFound:
            pass
        except StorageError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, S3Error) and cause.code == "NoSuchUpload"):
                raise

    def multipart_uploads(self) -> list[tuple[str, str, datetime | None]]:
        """Every unfinished multipart upload in the bucket: (object name, upload id, started)."""
        self.ensure()
        found: list[tuple[str, str, datetime | None]] = []
        key_marker: str | None = None
        upload_marker: str | None = None
        with _translated():
            while True:
                result = self.client._list_multipart_uploads(  # noqa: SLF001 - no public API
                    self.name, key_marker=key_marker, upload_id_marker=upload_marker
                )
                for upload in result.uploads:
                    if upload.upload_id:
                        found.append((upload.object_name, upload.upload_id, upload.initiated_time))
                if not result.is_truncated or not result.uploads:
                    return found
                key_marker = result.uploads[-1].object_name
                upload_marker = result.uploads[-1].upload_id


class PartPipeline:
    """Uploads parts on `threads` threads while the caller reads the next one.

    At most `threads` parts are in flight, so memory stays at (threads + 1)
    parts; a failed part stops the caller at its next `submit`.
    """

    def __init__(self, objects: MinioBucket, key: str, upload_id: str, threads: int) -> None:
        self.objects = objects
        self.key = key
        self.upload_id = upload_id
        self._slots = threading.BoundedSemaphore(threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="blob-part")
        self._futures: list[Future[PartRecord]] = []
        self._failed = threading.Event()

    def __enter__(self) -> PartPipeline:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if error is not None:
            for future in self._futures:
                future.cancel()
        self._pool.shutdown(wait=True)

    def _upload(self, number: int, data: bytes) -> PartRecord:
        try:
            return self.objects.upload_part(self.key, self.upload_id, number, data)
        except BaseException:
            self._failed.set()
            raise
        finally:
            self._slots.release()

    def submit(self, number: int, data: bytes) -> None:
        """Queue part `number`; waits while all threads are busy, raises if a part failed."""
        self._slots.acquire()
        if self._failed.is_set():
            self._slots.release()
            self.results()
        self._futures.append(self._pool.submit(self._upload, number, data))

    def results(self) -> list[PartRecord]:
        """Every submitted part, in order, once all are uploaded."""
        return [future.result() for future in self._futures]


def _public_endpoint(url: str) -> tuple[str, bool]:
    """``host[:port]`` and whether TLS is used, from a public URL such as ``https://files.example.com``."""
    parts = urlsplit(url.strip())
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.username
    ):
        raise StorageError(
            "the public storage URL must be http(s)://host[:port] with no path, "
            f"e.g. https://files.example.com (got {url!r})"
        )
    endpoint = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return endpoint, parts.scheme == "https"


def _check_key(key: str) -> str:
    """Refuse names that new_key() cannot produce (and so reach no internal object)."""
    parts = key.split("/")
    if not parts or any(p in {"", ".", ".."} or not p.isalnum() for p in parts):
        raise BlobNotFound(key)
    if parts[0] == "uploads":
        raise BlobNotFound(key)
    return key


class MinioStore:
    """Blobs as objects in one MinIO/S3 bucket, each written once as a streaming multipart upload.

    Memory per `put` is bounded by (upload_threads + 1) part buffers: the caller's
    thread reads and hashes the next part while up to `upload_threads` parts are
    on the wire.
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        upload_threads: int = 2,
        presign_client: Minio | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.objects = MinioBucket(client, bucket)
        self.part_size = part_size
        self.upload_threads = max(1, upload_threads)
        # Signs download URLs for the host browsers reach (it never connects anywhere).
        self.presign_client = presign_client or client

    @classmethod
    def from_url(cls, url: str, *, public_url: str | None = None) -> MinioStore:
        """Build from ``minio://key:secret@host:port/bucket`` (``minios://`` for TLS).

        Optional query parameters: ``region`` (default us-east-1), ``part_size`` in
        bytes, ``upload_threads``. `public_url` (``https://files.example.com``) is the
        endpoint browsers reach when the portal's own one (e.g. ``minio:9000`` inside
        a container network) is not: presigned download URLs are made and signed
        for that host instead.
        """
        parts = urlsplit(url)
        if parts.scheme not in {"minio", "minios"}:
            raise StorageError(f"not a MinIO URL: {parts.scheme!r}")
        bucket = parts.path.strip("/")
        if not parts.hostname or not bucket or "/" in bucket:
            raise StorageError(
                "a MinIO URL needs a host and a bucket: minio://key:secret@host/bucket"
            )
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        endpoint = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        client = Minio(
            endpoint,
            access_key=unquote(parts.username or "") or None,
            secret_key=unquote(parts.password or "") or None,
            secure=parts.scheme == "minios",
            region=options.get("region", "us-east-1"),
        )
        presign_client = None
        if public_url:
            public_endpoint, public_secure = _public_endpoint(public_url)
            presign_client = Minio(
                public_endpoint,
                access_key=unquote(parts.username or "") or None,
                secret_key=unquote(parts.password or "") or None,
                secure=public_secure,
                # Known region: signing a URL then needs no request to the public host.
                region=options.get("region", "us-east-1"),
            )
        return cls(
            client,
            bucket,
            part_size=int(options.get("part_size", DEFAULT_PART_SIZE)),
            upload_threads=int(options.get("upload_threads", 2)),
            presign_client=presign_client,
        )

    def __repr__(self) -> str:
        return f"MinioStore(bucket={self.objects.name!r})"

    @property
    def bucket(self) -> str:
        """Name of the bucket."""
        return self.objects.name

    def ensure_bucket(self) -> None:
        """Create the bucket (versioned) now rather than on first use."""
        self.objects.ensure()

    def put(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Stream `stream` into a new blob as a multipart upload; return its key, sha256 and size."""
        key = new_key()
        digest = hashlib.sha256()
        sizes = PartSizes.plan(self.part_size, max_size)
        size = 0

        def read_part(number: int) -> bytes:
            nonlocal size
            if number > MAX_PARTS:
                if stream.read(1):
                    raise BlobTooLarge(size)
                return b""
            wanted = sizes.size(number)
            chunks: list[bytes] = []
            got = 0
            while got < wanted:
                chunk = stream.read(min(CHUNK_SIZE, wanted - got))
                if not chunk:
                    break
                got += len(chunk)
                if max_size is not None and size + got > max_size:
                    raise BlobTooLarge(max_size)
                digest.update(chunk)
                chunks.append(chunk)
            size += got
            return b"".join(chunks)

        first = read_part(1)
        if len(first) < sizes.base:
            self.objects.put_bytes(key, first)
            return StoredBlob(key=key, sha256=digest.hexdigest(), size=size)

        upload_id = self.objects.create_multipart(key)
        try:
            parts = self._upload_parts(key, upload_id, first, read_part)
            self.objects.complete_multipart(key, upload_id, parts)
        except BaseException:
            with suppress(StorageError):
                self.objects.abort_multipart(key, upload_id)
            raise
        return StoredBlob(key=key, sha256=digest.hexdigest(), size=size)

    def _upload_parts(
        self, key: str, upload_id: str, first: bytes, read_part: Callable[[int], bytes]
    ) -> list[PartRecord]:
        """Upload parts on a few threads while the caller's thread reads the next one."""
        with PartPipeline(self.objects, key, upload_id, self.upload_threads) as pipeline:
            number, data = 1, first
            while data:
                pipeline.submit(number, data)
                number += 1
                data = read_part(number)
            return pipeline.results()

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Yield the bytes of `key` from `start`, `length` bytes (or to the end), via a ranged GET."""
        return self.objects.stream(_check_key(key), start, length)

    def local_path(self, key: str) -> None:
        return None  # the blob is on the object server: read it through open_range

    def open_file(self, key: str, start: int = 0, length: int | None = None) -> None:
        """No local files: downloads go through presigned URLs or `open_range`."""
        return None

    def size(self, key: str) -> int:
        """Size in bytes of the blob `key`."""
        return self.objects.stat_size(_check_key(key))

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""
        try:
            return self.objects.exists(_check_key(key))
        except BlobNotFound:
            return False

    def delete(self, key: str) -> None:
        """Remove a blob and all its versions (only for writes that never became visible)."""
        try:
            self.objects.remove(_check_key(key))
        except BlobNotFound:
            pass

    def hash_blob(self, key: str) -> str:
        """Re-read the blob, streaming, and return its sha256 hex digest."""
        digest = hashlib.sha256()
        for chunk in self.open_range(key):
            digest.update(chunk)
        return digest.hexdigest()

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        """Every blob's key and last-modified time, streamed from the bucket's listing.

        The resumable uploads' chunks and state (under ``uploads/``) are not blobs; an
        object the server gives no time for is left out (its age cannot be told).
        """
        for name, modified in self.objects.iter_objects():
            if name.startswith("uploads/") or modified is None or not is_blob_key(name):
                continue
            yield name, modified

    def abort_stale_uploads(self, before: datetime, keep: Collection[str] = ()) -> int:
        """Abort multipart uploads started before `before` (e.g. a put cut off by a crash).

        Upload ids in `keep` (resumable uploads still in progress), and uploads the
        server gives no start time for, are left alone. Returns how many were aborted.
        """
        aborted = 0
        for name, upload_id, started in self.objects.multipart_uploads():
            # Without a start time there is no telling a crashed upload from a live one.
            if upload_id in keep or started is None or started >= before:
                continue
            self.objects.abort_multipart(name, upload_id)
            aborted += 1
        return aborted

    def presigned_url(self, key: str, *, filename: str, expires_seconds: int = 60) -> str | None:
        """A short-lived GET URL that downloads the blob as an attachment named `filename`."""
        _check_key(key)
        with _translated(key):
            return self.presign_client.get_presigned_url(
                "GET",
                self.objects.name,
                key,
                expires=timedelta(seconds=expires_seconds),
                response_headers={"response-content-disposition": content_disposition(filename)},
            )
