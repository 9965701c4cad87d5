"""tus uploads into a FilesystemStore: a partial file and a JSON sidecar under ``<root>/.uploads``."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from storage.base import CHUNK_SIZE, StorageError, StorageFull, StoredBlob, new_key
from storage.filesystem import FilesystemStore
from storage.resumable import (
    DEFAULT_TTL,
    ChecksumMismatch,
    ChunkLimits,
    Clock,
    OffsetMismatch,
    RunningHashes,
    UploadBusy,
    UploadExpired,
    UploadIncomplete,
    UploadInfo,
    UploadNotFound,
    UploadTooLarge,
    check_metadata,
    check_new_length,
    check_upload_id,
    checksum_hasher,
    from_iso,
    frozen_metadata,
    new_upload_id,
    resolve_length,
    to_iso,
    utc_now,
)

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["FilesystemUploads"]

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def _os_error(exc: OSError) -> StorageError:
    """The storage error for a failed file operation."""
    if exc.errno in _FULL_ERRNOS:
        return StorageFull("no space left in the blob store")
    return StorageError(f"upload storage failed: {exc.strerror}")


class _ChunkWriter:
    """Writes an append's chunks on a thread of its own while the caller reads the next.

    ``pwrite``, ``hashlib`` and socket reads all release the GIL: while the thread
    writes chunk N, the caller hashes chunk N-1 and then receives chunk N+1. A chunk
    is hashed only once it is written, one is written at a time (memory stays at a
    few chunks whatever the size), a failed write surfaces at the next `submit` or at
    `wait`, and leaving the ``with`` block joins the thread.
    """

    def __init__(
        self,
        write_at: Callable[[int, bytes, int], None],
        fd: int,
        position: int,
        hashes: list[_Hash],
    ) -> None:
        self._write_at = write_at
        self._fd = fd
        self._position = position
        self._hashes = hashes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-writer")
        self._writing: Future[None] | None = None
        self._writing_chunk = b""

    def __enter__(self) -> _ChunkWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # A write still in flight lands before the caller cuts the file back.
        self._executor.shutdown(wait=True)

    def submit(self, chunk: bytes) -> None:
        """Start writing `chunk` once the previous one is written; hash that one meanwhile."""
        previous = self._finish_write()
        self._writing = self._executor.submit(self._write_at, self._fd, chunk, self._position)
        self._writing_chunk = chunk
        self._position += len(chunk)
        self._hash(previous)

    def wait(self) -> None:
        """Finish writing and hashing every chunk submitted; raise a failed write's error."""
        self._hash(self._finish_write())

    def _finish_write(self) -> bytes:
        """The chunk in flight once it is written (b"" if none)."""
        writing, self._writing = self._writing, None
        chunk, self._writing_chunk = self._writing_chunk, b""
        if writing is not None:
            writing.result()
        return chunk

    def _hash(self, chunk: bytes) -> None:
        for digest in self._hashes:
            digest.update(chunk)


@dataclass(frozen=True)
class _State:
    """The sidecar of one upload."""

    id: str
    key: str
    offset: int
    length: int | None
    max_size: int | None
    metadata: Mapping[str, str]
    created_at: datetime
    expires_at: datetime
    finished: StoredBlob | None = None

    def info(self) -> UploadInfo:
        return UploadInfo(
            id=self.id,
            offset=self.offset,
            length=self.length,
            metadata=frozen_metadata(self.metadata),
            expires_at=self.expires_at,
            blob=self.finished,
        )

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "version": 1,
            "id": self.id,
            "key": self.key,
            "offset": self.offset,
            "length": self.length,
            "max_size": self.max_size,
            "metadata": dict(self.metadata),
            "created_at": to_iso(self.created_at),
            "expires_at": to_iso(self.expires_at),
            "finished": None,
        }
        if self.finished is not None:
            document["finished"] = {
                "key": self.finished.key,
                "sha256": self.finished.sha256,
                "size": self.finished.size,
            }
        return json.dumps(document, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> _State:
        try:
            document = json.loads(raw)
            finished = document["finished"]
            return cls(
                id=document["id"],
                key=document["key"],
                offset=int(document["offset"]),
                length=document["length"],
                max_size=document["max_size"],
                metadata=dict(document["metadata"]),
                created_at=from_iso(document["created_at"]),
                expires_at=from_iso(document["expires_at"]),
                finished=None if finished is None else StoredBlob(**finished),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError("unreadable upload state") from exc


class FilesystemUploads:
    """Resumable uploads for a FilesystemStore.

    Each upload is ``<id>.part`` (the bytes so far) and ``<id>.json`` (offset,
    length, metadata, expiry) in ``<root>/.uploads``, on the same filesystem as
    the blobs so that `finish` links the file in without copying it. The sidecar
    is replaced atomically after the chunk is on disk, so a crash leaves the
    previous offset and the next append cuts the file back to it. Concurrent
    appends to one upload are refused with UploadBusy (an flock on the part file).
    """

    def __init__(
        self, store: FilesystemStore, *, ttl: timedelta = DEFAULT_TTL, clock: Clock = utc_now
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self.directory = store.root / ".uploads"
        self.directory.mkdir(exist_ok=True)
        self._hashes = RunningHashes()

    # ------------------------------------------------------------------ files

    def _data_path(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.part"

    def _state_path(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.json"

    def _load(self, upload_id: str) -> _State:
        try:
            raw = self._state_path(check_upload_id(upload_id)).read_bytes()
        except FileNotFoundError as exc:
            raise UploadNotFound(upload_id) from exc
        except OSError as exc:
            raise _os_error(exc) from exc
        return _State.from_json(raw)

    def _save(self, state: _State) -> None:
        """Replace the sidecar atomically (write, fdatasync, rename)."""
        target = self._state_path(state.id)
        temporary = target.with_name(f"{target.name}.tmp-{secrets.token_hex(4)}")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                self._write_at(fd, state.to_json(), 0)
                os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise _os_error(exc) from exc

    def _write_at(self, fd: int, data: bytes, position: int) -> None:
        """Write all of `data` at `position` (the one place bytes reach the disk)."""
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, position)
            view = view[written:]
            position += written

    @contextlib.contextmanager
    def _locked(self, upload_id: str) -> Iterator[int | None]:
        """Hold the upload's lock; yields the part file's descriptor (None once finished)."""
        try:
            fd = os.open(self._data_path(check_upload_id(upload_id)), os.O_RDWR)
        except FileNotFoundError:
            yield None
            return
        except OSError as exc:
            raise _os_error(exc) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise UploadBusy(upload_id) from exc
            yield fd
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ operations

    def create(
        self, length: int | None, metadata: Mapping[str, str], *, max_size: int | None = None
    ) -> UploadInfo:
        """Start an upload of `length` bytes (None: declared by a later append)."""
        check_new_length(length, max_size)
        now = self.clock()
        state = _State(
            id=new_upload_id(),
            key=new_key(),
            offset=0,
            length=length,
            max_size=max_size,
            metadata=check_metadata(metadata),
            created_at=now,
            expires_at=now + self.ttl,
        )
        data_path = self._data_path(state.id)
        try:
            os.close(os.open(data_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise _os_error(exc) from exc
        try:
            self._save(state)
        except StorageError:
            data_path.unlink(missing_ok=True)
            raise
        return state.info()

    def info(self, upload_id: str) -> UploadInfo:
        """Where the upload stands."""
        state = self._load(upload_id)
        if state.finished is None and state.expires_at <= self.clock():
            raise UploadExpired(upload_id)
        return state.info()

    def append(
        self,
        upload_id: str,
        offset: int,
        stream: BinaryIO,
        *,
        checksum: tuple[str, bytes] | None = None,
        length: int | None = None,
    ) -> UploadInfo:
        """Write the bytes of `stream` at `offset`, verified against `checksum` if given."""
        check_upload_id(upload_id)
        chunk_hash = checksum_hasher(checksum)
        with self._locked(upload_id) as fd:
            state = self._load(upload_id)
            now = self.clock()
            if state.finished is None and state.expires_at <= now:
                raise UploadExpired(upload_id)
            if offset != state.offset:
                raise OffsetMismatch(state.offset)
            new_length = resolve_length(state.length, length, offset, state.max_size)
            if fd is None:
                if state.finished is None:
                    raise StorageError("the upload's bytes are missing")
                # Finished: nothing more may be written.
                if stream.read(1):
                    raise UploadTooLarge(state.offset)
                return state.info()
            limits = ChunkLimits(offset, new_length, state.max_size)
            end = limits.allowed_end()
            running = self._hashes.start(upload_id, offset)
            hashes = [digest for digest in (chunk_hash, running) if digest is not None]
            received = 0
            read_error: Exception | None = None
            try:
                # Bytes past the offset belong to an append that never committed.
                os.ftruncate(fd, offset)
                with _ChunkWriter(self._write_at, fd, offset, hashes) as writer:
                    while True:
                        try:
                            chunk = stream.read(CHUNK_SIZE)
                        except Exception as exc:  # noqa: BLE001 - any client/stream failure
                            read_error = exc
                            break
                        if not chunk:
                            break
                        if end is not None and offset + received + len(chunk) > end:
                            writer.wait()  # a failed write before this chunk comes first
                            raise limits.refusal()
                        writer.submit(chunk)
                        received += len(chunk)
                    writer.wait()
                if read_error is not None and chunk_hash is not None:
                    raise read_error
                if chunk_hash is not None and checksum is not None:
                    if chunk_hash.digest() != checksum[1]:
                        raise ChecksumMismatch(upload_id)
                if received:
                    # The bytes are on disk before the sidecar counts them.
                    os.fdatasync(fd)
                state = replace(
                    state, offset=offset + received, length=new_length, expires_at=now + self.ttl
                )
                self._save(state)
            except BaseException as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, offset)
                if isinstance(exc, OSError) and exc is not read_error:
                    raise _os_error(exc) from exc
                raise
            self._hashes.save(upload_id, state.offset, running)
        if read_error is not None:
            raise read_error
        return state.info()

    def finish(self, upload_id: str) -> StoredBlob:
        """Link the complete upload in as a blob with its sha256 and size (idempotent)."""
        state = self._load(upload_id)
        if state.finished is not None:
            return state.finished
        with self._locked(upload_id) as fd:
            state = self._load(upload_id)
            if state.finished is not None:
                return state.finished
            if fd is None:
                raise StorageError("the upload's bytes are missing")
            if state.length is None or state.offset != state.length:
                raise UploadIncomplete(upload_id)
            running = self._hashes.start(upload_id, state.offset)
            try:
                os.ftruncate(fd, state.length)
                sha256 = running.hexdigest() if running is not None else self._hash_file(fd)
                self.store.adopt(self._data_path(upload_id), state.key)
            except OSError as exc:
                raise _os_error(exc) from exc
            blob = StoredBlob(key=state.key, sha256=sha256, size=state.length)
            self._save(replace(state, finished=blob, expires_at=self.clock() + self.ttl))
            self._data_path(upload_id).unlink(missing_ok=True)
        self._hashes.forget(upload_id)
        return blob

    @staticmethod
    def _hash_file(fd: int) -> str:
        """sha256 of a whole file, read in chunks."""
        digest = hashlib.sha256()
        position = 0
        while chunk := os.pread(fd, 8 * CHUNK_SIZE, position):
            digest.update(chunk)
            position += len(chunk)
        return digest.hexdigest()

    def terminate(self, upload_id: str) -> None:
        """Delete the upload's bytes and state (a finished upload's blob stays)."""
        with self._locked(upload_id):
            self._load(upload_id)
            self._data_path(upload_id).unlink(missing_ok=True)
            self._state_path(upload_id).unlink(missing_ok=True)
        self._hashes.forget(upload_id)

    def expire(self, now: datetime | None = None) -> int:
        """Remove unfinished uploads past their expiry; return how many were removed."""
        now = now or self.clock()
        removed = 0
        for state_path in self.directory.glob("*.json"):
            upload_id = state_path.stem
            try:
                with self._locked(upload_id):
                    state = self._load(upload_id)
                    if state.expires_at > now:
                        continue
                    if state.finished is None:
                        self._data_path(upload_id).unlink(missing_ok=True)
                        removed += 1
                    state_path.unlink(missing_ok=True)
                self._hashes.forget(upload_id)
            except (UploadNotFound, UploadBusy):
                continue
        # Leftovers of a crash between creating the part file and its sidecar, or
        # of an interrupted sidecar write.
        cutoff = (now - self.ttl).timestamp()
        for path in self.directory.iterdir():
            stale = path.suffix == ".part" and not path.with_suffix(".json").exists()
            stale = stale or ".json.tmp-" in path.name
            with contextlib.suppress(FileNotFoundError):
                if stale and path.stat().st_mtime < cutoff:
                    path.unlink()
        return removed
