"""tus uploads into a MinioStore: chunks become multipart parts as they arrive."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from storage.base import CHUNK_SIZE, BlobNotFound, StorageError, StoredBlob, new_key
from storage.minio_store import (
    MinioStore,
    PartPipeline,
    PartRecord,
    PartSizes,
)
from storage.resumable import (
    DEFAULT_TTL,
    ChecksumMismatch,
    ChunkLimits,
    Clock,
    OffsetMismatch,
    RunningHashes,
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

__all__ = ["UPLOADS_PREFIX", "MinioUploads"]

UPLOADS_PREFIX = "uploads/"


@dataclass(frozen=True)
class _State:
    """The state object of one upload: the multipart upload, its parts and staged bytes."""

    id: str
    key: str
    multipart_id: str
    part_sizes: PartSizes
    offset: int
    length: int | None
    max_size: int | None
    metadata: Mapping[str, str]
    created_at: datetime
    expires_at: datetime
    etags: tuple[str, ...] = ()
    staged: tuple[tuple[str, int], ...] = ()
    finished: StoredBlob | None = None

    @property
    def parts(self) -> list[PartRecord]:
        return [
            PartRecord(number, etag, self.part_sizes.size(number))
            for number, etag in enumerate(self.etags, start=1)
        ]

    @property
    def staged_size(self) -> int:
        return sum(size for _, size in self.staged)

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
            "multipart_id": self.multipart_id,
            "part_base": self.part_sizes.base,
            "part_grows": self.part_sizes.grows,
            "offset": self.offset,
            "length": self.length,
            "max_size": self.max_size,
            "metadata": dict(self.metadata),
            "created_at": to_iso(self.created_at),
            "expires_at": to_iso(self.expires_at),
            "etags": list(self.etags),
            "staged": [list(item) for item in self.staged],
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
                multipart_id=document["multipart_id"],
                part_sizes=PartSizes(int(document["part_base"]), bool(document["part_grows"])),
                offset=int(document["offset"]),
                length=document["length"],
                max_size=document["max_size"],
                metadata=dict(document["metadata"]),
                created_at=from_iso(document["created_at"]),
                expires_at=from_iso(document["expires_at"]),
                etags=tuple(document["etags"]),
                staged=tuple((str(name), int(size)) for name, size in document["staged"]),
                finished=None if finished is None else StoredBlob(**finished),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError("unreadable upload state") from exc


@dataclass
class _Chunk:
    """What one append has produced so far, before it is committed."""

    etags: list[str]
    staged: list[tuple[str, int]]
    # Bytes read but not yet in a part, as read: joined once, into the part they fill.
    pieces: deque[bytes] = field(default_factory=deque)
    buffered: int = 0
    queued: int = 0
    consumed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


class MinioUploads:
    """Resumable uploads for a MinioStore.

    Each upload is one S3 multipart upload to the blob key it will become, plus
    ``uploads/<id>/state.json`` listing its parts. Parts are at least 5 MiB (S3's
    minimum), so bytes that do not fill a part yet wait as small objects under
    ``uploads/<id>/staged/`` and are folded into the next part. A failed or
    refused chunk is never recorded in the state: its parts are overwritten by
    the next append and its staged objects removed. Appends to one upload must
    not run concurrently (tus clients send them one after the other); the
    part ETags recorded in the state make CompleteMultipartUpload refuse a
    mix-up rather than assemble it.
    """

    def __init__(
        self, store: MinioStore, *, ttl: timedelta = DEFAULT_TTL, clock: Clock = utc_now
    ) -> None:
        self.store = store
        self.objects = store.objects
        self.ttl = ttl
        self.clock = clock
        self._hashes = RunningHashes()

    # ------------------------------------------------------------------ state

    @staticmethod
    def _prefix(upload_id: str) -> str:
        return f"{UPLOADS_PREFIX}{upload_id}/"

    def _state_name(self, upload_id: str) -> str:
        return f"{self._prefix(upload_id)}state.json"

    def _load(self, upload_id: str) -> _State:
        try:
            raw = self.objects.get_bytes(self._state_name(check_upload_id(upload_id)))
        except BlobNotFound as exc:
            raise UploadNotFound(upload_id) from exc
        return _State.from_json(raw)

    def _save(self, state: _State) -> None:
        self.objects.put_bytes(self._state_name(state.id), state.to_json(), "application/json")

    def _staged_bytes(self, staged: list[tuple[str, int]]) -> bytes:
        pieces = [self.objects.get_bytes(name) for name, _ in staged]
        if [len(piece) for piece in pieces] != [size for _, size in staged]:
            raise StorageError("a staged chunk of the upload has the wrong size")
        return b"".join(pieces)

    def _remove_quietly(self, names: list[str]) -> None:
        """Best-effort removal; leftovers go with the upload's prefix later."""
        for name in names:
            with contextlib.suppress(StorageError):
                self.objects.remove(name)

    # ------------------------------------------------------------------ operations

    def create(
        self, length: int | None, metadata: Mapping[str, str], *, max_size: int | None = None
    ) -> UploadInfo:
        """Start an upload: a multipart upload to a new blob key, and its state object."""
        check_new_length(length, max_size)
        checked = check_metadata(metadata)
        key = new_key()
        now = self.clock()
        expected = length if length is not None else max_size
        state = _State(
            id=new_upload_id(),
            key=key,
            multipart_id=self.objects.create_multipart(key),
            part_sizes=PartSizes.plan(self.store.part_size, expected),
            offset=0,
            length=length,
            max_size=max_size,
            metadata=checked,
            created_at=now,
            expires_at=now + self.ttl,
        )
        try:
            self._save(state)
        except StorageError:
            with contextlib.suppress(StorageError):
                self.objects.abort_multipart(key, state.multipart_id)
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
        """Send the bytes of `stream` on as multipart parts, verified against `checksum` if given."""
        check_upload_id(upload_id)
        chunk_hash = checksum_hasher(checksum)
        state = self._load(upload_id)
        now = self.clock()
        if state.finished is None and state.expires_at <= now:
            raise UploadExpired(upload_id)
        if offset != state.offset:
            raise OffsetMismatch(state.offset)
        new_length = resolve_length(state.length, length, offset, state.max_size)
        if state.finished is not None:
            if stream.read(1):
                raise UploadTooLarge(state.offset)
            return state.info()
        limits = ChunkLimits(offset, new_length, state.max_size)
        end = limits.allowed_end()
        running = self._hashes.start(upload_id, offset)
        chunk = _Chunk(etags=list(state.etags), staged=list(state.staged))
        staged_size = state.staged_size
        received = 0
        read_error: Exception | None = None
        threads = self.store.upload_threads
        try:
            with PartPipeline(self.objects, state.key, state.multipart_id, threads) as pipeline:
                while True:
                    try:
                        data = stream.read(CHUNK_SIZE)
                    except Exception as exc:  # noqa: BLE001 - any client/stream failure
                        read_error = exc
                        break
                    if not data:
                        break
                    if end is not None and offset + received + len(data) > end:
                        raise limits.refusal()
                    received += len(data)
                    if chunk_hash is not None:
                        chunk_hash.update(data)
                    if running is not None:
                        running.update(data)
                    chunk.pieces.append(data)
                    chunk.buffered += len(data)
                    staged_size = self._send_full_parts(state, chunk, staged_size, pipeline)
                chunk.etags.extend(part.etag for part in pipeline.results())
            if read_error is not None and chunk_hash is not None:
                raise read_error
            if chunk_hash is not None and checksum is not None:
                if chunk_hash.digest() != checksum[1]:
                    raise ChecksumMismatch(upload_id)
            if chunk.buffered:
                name = (
                    f"{self._prefix(upload_id)}staged/"
                    f"{offset + received - chunk.buffered:020d}-{secrets.token_hex(4)}.bin"
                )
                chunk.created.append(name)
                self.objects.put_bytes(name, b"".join(chunk.pieces))
                chunk.staged.append((name, chunk.buffered))
            state = replace(
                state,
                offset=offset + received,
                length=new_length,
                expires_at=now + self.ttl,
                etags=tuple(chunk.etags),
                staged=tuple(chunk.staged),
            )
            self._save(state)
        except BaseException:
            self._remove_quietly(chunk.created)
            raise
        self._hashes.save(upload_id, state.offset, running)
        self._remove_quietly(chunk.consumed)
        if read_error is not None:
            raise read_error
        return state.info()

    def _send_full_parts(
        self, state: _State, chunk: _Chunk, staged_size: int, pipeline: PartPipeline
    ) -> int:
        """Queue every full part the staged and buffered bytes make; return the staged size."""
        number = len(chunk.etags) + chunk.queued + 1
        target = state.part_sizes.size(number)
        while staged_size + chunk.buffered >= target:
            pieces = self._take(chunk, target - staged_size)
            if chunk.staged:
                pieces.insert(0, self._staged_bytes(chunk.staged))
            pipeline.submit(number, b"".join(pieces))
            chunk.queued += 1
            chunk.consumed.extend(name for name, _ in chunk.staged)
            chunk.staged.clear()
            staged_size = 0
            number += 1
            target = state.part_sizes.size(number)
        return staged_size

    @staticmethod
    def _take(chunk: _Chunk, size: int) -> list[bytes]:
        """The pieces of the first `size` buffered bytes; the rest stays buffered."""
        taken: list[bytes] = []
        need = size
        while need:
            piece = chunk.pieces[0]
            if len(piece) <= need:
                taken.append(chunk.pieces.popleft())
                need -= len(piece)
            else:
                taken.append(piece[:need])
                chunk.pieces[0] = piece[need:]
                need = 0
        chunk.buffered -= size
        return taken

    def finish(self, upload_id: str) -> StoredBlob:
        """Complete the multipart upload into the blob and hash it (idempotent)."""
        state = self._load(upload_id)
        if state.finished is not None:
            return state.finished
        if state.length is None or state.offset != state.length:
            raise UploadIncomplete(upload_id)
        # Keys are never reused, so an existing object means an earlier finish
        # completed the multipart upload and stopped before recording it.
        if not self.objects.exists(state.key):
            self._complete(state)
        size = self.objects.stat_size(state.key)
        if size != state.length:
            raise StorageError("the assembled upload has the wrong size")
        running = self._hashes.start(upload_id, state.offset)
        sha256 = running.hexdigest() if running is not None else self.store.hash_blob(state.key)
        blob = StoredBlob(key=state.key, sha256=sha256, size=size)
        self._save(replace(state, finished=blob, staged=(), expires_at=self.clock() + self.ttl))
        self._hashes.forget(upload_id)
        with contextlib.suppress(StorageError):
            self.objects.remove_prefix(f"{self._prefix(upload_id)}staged/")
        return blob

    def _complete(self, state: _State) -> None:
        """Send the staged tail as the last part and assemble the object."""
        parts = state.parts
        tail = self._staged_bytes(list(state.staged))
        if not parts and not tail:
            # S3 cannot complete a multipart upload without parts: an empty file.
            self.objects.put_bytes(state.key, b"")
            with contextlib.suppress(StorageError):
                self.objects.abort_multipart(state.key, state.multipart_id)
            return
        if tail:
            number = len(parts) + 1
            parts.append(self.objects.upload_part(state.key, state.multipart_id, number, tail))
        self.objects.complete_multipart(state.key, state.multipart_id, parts)

    def terminate(self, upload_id: str) -> None:
        """Abort the multipart upload and delete the state (a finished upload's blob stays)."""
        state = self._load(upload_id)
        if state.finished is None:
            self.objects.abort_multipart(state.key, state.multipart_id)
        self.objects.remove_prefix(self._prefix(upload_id))
        self._hashes.forget(upload_id)

    def expire(self, now: datetime | None = None) -> int:
        """Remove unfinished uploads past expiry and abort orphaned multipart uploads.

        Returns how many uploads were removed (expired ones plus orphaned multipart
        uploads, such as those of a put cut off by a crash, older than the TTL).
        """
        now = now or self.clock()
        removed = 0
        live: set[str] = set()
        for prefix in self.objects.list_names(UPLOADS_PREFIX):
            upload_id = prefix[len(UPLOADS_PREFIX) :].strip("/")
            try:
                check_upload_id(upload_id)
            except UploadNotFound:
                continue
            try:
                state = self._load(upload_id)
            except UploadNotFound:
                # No state: what an interrupted terminate or expire left behind.
                self.objects.remove_prefix(self._prefix(upload_id))
                continue
            except StorageError:
                continue
            if state.expires_at > now:
                if state.finished is None:
                    live.add(state.multipart_id)
                continue
            if state.finished is None:
                self.objects.abort_multipart(state.key, state.multipart_id)
                removed += 1
            self.objects.remove_prefix(self._prefix(upload_id))
            self._hashes.forget(upload_id)
        return removed + self.store.abort_stale_uploads(now - self.ttl, keep=live)
