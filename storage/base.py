"""The store Protocol, its value types and exception family."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "CHUNK_SIZE",
    "BlobCorrupted",
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "StorageError",
    "StorageFull",
    "StoredBlob",
    "build_store",
    "content_disposition",
    "is_blob_key",
    "local_file",
    "new_key",
]

CHUNK_SIZE = 1024 * 1024


class StorageError(Exception):
    """Base class of every storage failure."""


class BlobNotFound(StorageError):
    """No blob is stored under that key."""


class BlobTooLarge(StorageError):
    """The stream exceeded the size limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file larger than the limit of {limit} bytes")
        self.limit = limit


class StorageFull(StorageError):
    """The backend ran out of space; nothing was stored."""


class BlobCorrupted(StorageError):
    """The stored bytes no longer match their recorded sha256."""


@dataclass(frozen=True)
class StoredBlob:
    """What a finished write recorded."""

    key: str
    sha256: str
    size: int


def new_key() -> str:
    """A fresh, unguessable, path-safe blob key (never derived from a filename)."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token[2:4]}/{token}"


_KEY_SHAPE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{28}")


def is_blob_key(name: str) -> bool:
    """Whether `name` has the shape `new_key` gives: what a store's listing counts as a blob."""
    return _KEY_SHAPE.fullmatch(name) is not None


# RFC 8187 attr-char: what may stay unescaped in an ext-value such as filename*.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """An RFC 6266 Content-Disposition value with an ASCII fallback and a UTF-8 ``filename*``."""
    cleaned = "".join(
        "_" if char in "/\\" else char for char in filename if unicodedata.category(char)[0] != "C"
    ).strip()
    cleaned = cleaned or "download"
    ascii_name = "".join(
        char if char.isascii() else "_"
        for char in unicodedata.normalize("NFKD", cleaned)
        if unicodedata.category(char) != "Mn"
    ).replace('"', "'")
    encoded = quote(cleaned, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


@runtime_checkable
class BlobStore(Protocol):
    """What the portal needs from a blob backend."""

    def put(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Stream `stream` into a new blob; return its key, sha256 and size."""
        ...

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Yield the bytes of `key` from `start`, `length` bytes (or to the end)."""
        ...

    def size(self, key: str) -> int:
        """Size in bytes of the blob `key`."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove a blob (used only to clean up writes that never became visible)."""
        ...

    def hash_blob(self, key: str) -> str:
        """Re-read the blob and return its sha256 hex digest."""
        ...

    def presigned_url(self, key: str, *, filename: str, expires_seconds: int = 60) -> str | None:
        """A short-lived direct download URL, or None when the backend has none."""
        ...

    def open_file(self, key: str, start: int = 0, length: int | None = None) -> BinaryIO | None:
        """A seekable read-only file of `length` bytes of `key` from `start` (or to the end).

        For servers that send files themselves (``wsgi.file_wrapper``); None when the
        backend has no local files. The caller closes it.
        """
        ...

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` on this machine, to read only; None when the backend is remote."""
        ...

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        """Every stored blob's key with its last-modified time (aware, UTC), as listed.

        Streams: a store of a million blobs is never held as a list. Only names of the
        shape `new_key` gives are blobs; the store's own temporary files and the
        resumable uploads' bytes and state are not listed.
        """
        ...


@contextmanager
def local_file(store: BlobStore, key: str) -> Iterator[Path]:
    """The blob `key` as a file on this machine for the length of the block, to read only.

    Tools that want a path (pdfium, tesseract, a contained renderer) read a filesystem
    store's own file, with nothing copied; a remote store's blob is downloaded, in chunks,
    into a temporary folder removed afterwards. Nobody may write to the path.
    """
    own = store.local_path(key)
    if own is not None:
        yield own
        return
    folder = Path(tempfile.mkdtemp(prefix="blob-"))
    try:
        path = folder / "blob"
        with path.open("wb") as handle:
            for chunk in store.open_range(key):
                handle.write(chunk)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_store(url: str, *, public_url: str | None = None) -> BlobStore:
    """Build the store named by a URL: ``file:///path`` or ``minio://key:secret@host:port/bucket``.

    `public_url` is where browsers reach the object store, for its presigned
    download URLs (MinIO only; a filesystem store has no such URLs and ignores it).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        from storage.filesystem import FilesystemStore

        return FilesystemStore(unquote(parts.path))
    if parts.scheme in {"minio", "minios"}:
        from storage.minio_store import MinioStore

        return MinioStore.from_url(url, public_url=public_url)
    raise StorageError(f"unknown storage URL scheme: {parts.scheme!r}")
