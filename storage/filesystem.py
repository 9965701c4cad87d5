"""Local filesystem blob store (embedded default)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

from storage.base import (
    CHUNK_SIZE,
    BlobNotFound,
    BlobTooLarge,
    StorageError,
    StorageFull,
    StoredBlob,
    is_blob_key,
    new_key,
)

__all__ = ["FileSpan", "FilesystemStore"]

# How far ahead of a download's reads the kernel is asked to fetch the blob (FileSpan):
# page cache only, not this process's memory.
READ_AHEAD = 64 * 1024 * 1024
_HAS_FADVISE = hasattr(os, "posix_fadvise")
# The two folder levels of a key (new_key: "ab/cd/abcd…").
_FAN_OUT = re.compile(r"[0-9a-f]{2}")


class FileSpan(io.RawIOBase):
    """A read-only, seekable window of `length` bytes from `start` of an open file.

    Reads go through ``os.pread`` and never pass the window's end, so a server that
    sends "the rest of the file" (e.g. waitress's ``wsgi.file_wrapper``) sends exactly
    the requested range. ``fileno()`` is for servers that send with sendfile(2) from
    the descriptor's position for the response's Content-Length (gunicorn). Closing
    the span closes the file.
    """

    def __init__(self, file: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._file = file
        self._fd = file.fileno()
        self._start = start
        self._length = max(0, length)
        self._position = 0
        self._advised = 0  # how far into the span the kernel has been asked to read ahead

    def _read_ahead(self) -> None:
        """Ask the kernel to start reading the next READ_AHEAD bytes while these are sent.

        A server reads a span in blocks of a few MiB and sends each before reading the
        next; without this, the disk waits for the network and the network for the disk
        (on a cold cache a download ran at half the disk's speed). Only advice: no memory
        of this process, and nothing happens where the call does not exist.
        """
        if not _HAS_FADVISE or self._position + READ_AHEAD // 2 < self._advised:
            return
        start = max(self._advised, self._position)
        end = min(self._length, self._position + READ_AHEAD)
        if end > start:
            with contextlib.suppress(OSError):
                os.posix_fadvise(self._fd, self._start + start, end - start, os.POSIX_FADV_WILLNEED)
            self._advised = end

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        """The file's descriptor, positioned at the span's current position, for sendfile(2).

        Gunicorn sends a ``wsgi.file_wrapper`` response from the descriptor's position for
        exactly the response's Content-Length, which the portal always sets to the span's
        length: the kernel copies from the page cache to the socket, with no pass through
        this process.
        """
        os.lseek(self._fd, self._start + self._position, os.SEEK_SET)
        return self._fd

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._length + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._position
        if remaining <= 0:
            return b""
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        data = os.pread(self._fd, wanted, self._start + self._position)
        self._position += len(data)
        self._read_ahead()
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), max(0, self._length - self._position))
        if wanted == 0:
            return 0
        got = os.preadv(self._fd, [memoryview(buffer)[:wanted]], self._start + self._position)
        self._position += got
        self._read_ahead()
        return got

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


class FilesystemStore:
    """Blobs as files under a root folder, written once via a temporary file and a rename."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not parts or any(p in {"", ".", ".."} or not p.isalnum() for p in parts):
            raise BlobNotFound(key)
        return self.root.joinpath(*parts)

    def put(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        key = new_key()
        target = self._path(key)
        digest = hashlib.sha256()
        size = 0
        tmp_name: str | None = None
        try:
            out, tmp_name = self._create_temp()
            with out:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise BlobTooLarge(max_size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            # link() refuses to replace an existing file: a blob is never overwritten.
            os.link(tmp_name, target)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull("no space left in the blob store") from exc
            raise StorageError(f"could not store the file: {exc.strerror}") from exc
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except FileNotFoundError:
                    pass
        return StoredBlob(key=key, sha256=digest.hexdigest(), size=size)

    def _create_temp(self) -> tuple[BinaryIO, str]:
        """A new temporary file next to the blobs, open for writing (tests swap in a full disk)."""
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="up-")
        return os.fdopen(fd, "wb"), name

    def adopt(self, source: str | os.PathLike[str], key: str) -> None:
        """Hard-link a finished file on the same filesystem in as blob `key`, never replacing one."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
        except FileExistsError as exc:
            # A retried finish after a crash finds its own earlier link.
            if not os.path.samefile(source, target):
                raise StorageError("a blob already exists under that key") from exc
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull("no space left in the blob store") from exc
            raise StorageError(f"could not store the file: {exc.strerror}") from exc

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        return self._iterate(handle, start, length)

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return path

    def open_file(self, key: str, start: int = 0, length: int | None = None) -> BinaryIO:
        """The blob's bytes from `start`, `length` of them (or to the end), as a seekable file."""
        path = self._path(key)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed with the span
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        size = os.fstat(handle.fileno()).st_size
        start = min(max(0, start), size)
        available = size - start
        span = FileSpan(handle, start, available if length is None else min(length, available))
        # A FileSpan has every method a binary file's reader uses (read, readinto, seek,
        # tell, fileno, close), but typing's BinaryIO is a class io.RawIOBase does not
        # derive from, so the checker needs telling.
        return cast(BinaryIO, span)

    @staticmethod
    def _iterate(handle: BinaryIO, start: int, length: int | None) -> Iterator[bytes]:
        with handle:
            handle.seek(start)
            remaining = length
            while remaining is None or remaining > 0:
                want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = handle.read(want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except BlobNotFound:
            return False

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except (FileNotFoundError, BlobNotFound):
            pass

    def hash_blob(self, key: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.open_range(key):
            digest.update(chunk)
        return digest.hexdigest()

    def presigned_url(self, key: str, *, filename: str, expires_seconds: int = 60) -> str | None:
        return None

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        """Every blob's key and modification time, folder by folder (never the whole list).

        Only the two levels of key folders are walked: ``.tmp`` (writes in progress),
        ``.uploads`` (resumable uploads) and anything else under the root are not blobs.
        """
        for first, first_path in self._key_folders(self.root):
            for second, second_path in self._key_folders(first_path):
                try:
                    entries = os.scandir(second_path)
                except FileNotFoundError:
                    continue  # removed since it was listed
                with entries:
                    for entry in entries:
                        key = f"{first}/{second}/{entry.name}"
                        if not is_blob_key(key) or not entry.is_file(follow_symlinks=False):
                            continue
                        try:
                            modified = entry.stat(follow_symlinks=False).st_mtime
                        except FileNotFoundError:
                            continue  # deleted since it was listed
                        yield key, datetime.fromtimestamp(modified, UTC)

    @staticmethod
    def _key_folders(folder: str | os.PathLike[str]) -> list[tuple[str, str]]:
        """(name, path) of the key folders (two hex digits) in `folder`: at most 256."""
        try:
            with os.scandir(folder) as entries:
                return sorted(
                    (entry.name, entry.path)
                    for entry in entries
                    if _FAN_OUT.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                )
        except FileNotFoundError:
            return []
