"""tus resumable uploads on the filesystem store and on MinIO (moto)."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from storage_testing import (
    MIB,
    TTL,
    ChunkedReader,
    Clock,
    FailingReader,
    GeneratedStream,
    MakeUploads,
    S3Server,
    bucket_name,
    generated_bytes,
)

from storage import (
    BlobStore,
    ChecksumMismatch,
    FilesystemStore,
    InvalidUploadRequest,
    OffsetMismatch,
    ResumableUploads,
    UnsupportedChecksum,
    UploadBusy,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
    UploadTooLarge,
)
from storage.minio_store import MIN_PART_SIZE, MinioStore
from storage.resumable import format_expires, parse_checksum, parse_metadata
from storage.resumable_fs import FilesystemUploads
from storage.resumable_minio import MinioUploads


def sha1(data: bytes) -> tuple[str, bytes]:
    return ("sha1", hashlib.sha1(data).digest())


def sha256(data: bytes) -> tuple[str, bytes]:
    return ("sha256", hashlib.sha256(data).digest())


def leftovers(uploads: ResumableUploads) -> list[str]:
    """What the backend still holds for uploads: partial files, state, parts, multipart uploads."""
    if isinstance(uploads, FilesystemUploads):
        return sorted(path.name for path in uploads.directory.iterdir())
    assert isinstance(uploads, MinioUploads)
    names = uploads.objects.list_names("uploads/", recursive=True)
    multipart = [f"multipart:{name}" for name, _, _ in uploads.objects.multipart_uploads()]
    return sorted(names + multipart)


def store_of(uploads: ResumableUploads) -> BlobStore:
    assert isinstance(uploads, FilesystemUploads | MinioUploads)
    return uploads.store


def read_blob(uploads: ResumableUploads, key: str) -> bytes:
    return b"".join(store_of(uploads).open_range(key))


def upload_in_chunks(
    uploads: ResumableUploads, upload_id: str, data: bytes, sizes: list[int]
) -> None:
    offset = 0
    for size in sizes:
        piece = data[offset : offset + size]
        info = uploads.append(upload_id, offset, ChunkedReader(piece), checksum=sha1(piece))
        offset += len(piece)
        assert info.offset == offset


# Chunk sizes that cross MinIO's 5 MiB parts in every way: small chunks staged
# until a part fills, a chunk that fills several parts, a tail for the last part.
CHUNKS = [MIB, 3 * MIB, 2 * MIB + 5, 11 * MIB, 100, MIB - 105, 1]


def test_multi_chunk_upload_becomes_a_normal_blob(uploads: ResumableUploads) -> None:
    data = generated_bytes(sum(CHUNKS), seed=4)
    created = uploads.create(len(data), {"filename": "plano.dwg", "space_id": "s1"})

    assert created.offset == 0 and created.length == len(data) and not created.complete
    upload_in_chunks(uploads, created.id, data, CHUNKS)
    assert uploads.info(created.id).complete
    blob = uploads.finish(created.id)

    assert blob.size == len(data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert read_blob(uploads, blob.key) == data
    assert store_of(uploads).hash_blob(blob.key) == blob.sha256
    assert uploads.finish(created.id) == blob
    info = uploads.info(created.id)
    assert info.blob == blob
    assert dict(info.metadata) == {"filename": "plano.dwg", "space_id": "s1"}


def test_wrong_offset_is_refused_with_the_real_offset(uploads: ResumableUploads) -> None:
    upload = uploads.create(100, {})

    with pytest.raises(OffsetMismatch) as caught:
        uploads.append(upload.id, 10, io.BytesIO(b"x" * 10))
    assert caught.value.expected == 0

    uploads.append(upload.id, 0, io.BytesIO(b"a" * 40))
    with pytest.raises(OffsetMismatch) as caught:
        uploads.append(upload.id, 0, io.BytesIO(b"a" * 40))
    assert caught.value.expected == 40
    assert uploads.info(upload.id).offset == 40


@pytest.mark.parametrize("bad_size", [1000, 7 * MIB])
def test_bad_checksum_discards_the_chunk(uploads: ResumableUploads, bad_size: int) -> None:
    data = generated_bytes(MIB + bad_size, seed=bad_size)
    first, second = data[:MIB], data[MIB:]
    upload = uploads.create(len(data), {})
    uploads.append(upload.id, 0, io.BytesIO(first), checksum=sha256(first))
    corrupted = b"X" + second[1:]

    with pytest.raises(ChecksumMismatch):
        uploads.append(upload.id, MIB, io.BytesIO(corrupted), checksum=sha1(second))

    assert uploads.info(upload.id).offset == MIB
    uploads.append(upload.id, MIB, io.BytesIO(second), checksum=sha1(second))
    blob = uploads.finish(upload.id)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert read_blob(uploads, blob.key) == data


def test_unsupported_checksum_is_refused_before_reading(uploads: ResumableUploads) -> None:
    upload = uploads.create(3, {})

    with pytest.raises(UnsupportedChecksum):
        uploads.append(upload.id, 0, io.BytesIO(b"abc"), checksum=("md5", b"0" * 16))

    assert uploads.info(upload.id).offset == 0


def test_upload_resumes_in_a_restarted_process(make_uploads: MakeUploads) -> None:
    data = generated_bytes(9 * MIB + 3, seed=5)
    upload = make_uploads().create(len(data), {"filename": "video.mp4"})

    make_uploads().append(upload.id, 0, ChunkedReader(data[: 4 * MIB]))
    restarted = make_uploads()
    info = restarted.info(upload.id)
    assert info.offset == 4 * MIB
    assert info.metadata["filename"] == "video.mp4"
    restarted.append(upload.id, info.offset, ChunkedReader(data[info.offset :]))
    blob = make_uploads().finish(upload.id)

    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert read_blob(restarted, blob.key) == data


def test_a_dropped_connection_keeps_the_bytes_received(uploads: ResumableUploads) -> None:
    data = generated_bytes(6 * MIB, seed=6)
    upload = uploads.create(len(data), {})

    with pytest.raises(ConnectionResetError):
        uploads.append(upload.id, 0, FailingReader(data[: 5 * MIB + 7]))

    offset = uploads.info(upload.id).offset
    assert offset == 5 * MIB + 7
    uploads.append(upload.id, offset, io.BytesIO(data[offset:]))
    assert uploads.finish(upload.id).sha256 == hashlib.sha256(data).hexdigest()


def test_a_dropped_connection_with_a_checksum_keeps_nothing(uploads: ResumableUploads) -> None:
    data = generated_bytes(2 * MIB, seed=7)
    upload = uploads.create(len(data), {})

    with pytest.raises(ConnectionResetError):
        uploads.append(upload.id, 0, FailingReader(data[:MIB]), checksum=sha1(data))

    assert uploads.info(upload.id).offset == 0


def test_terminate_frees_everything(uploads: ResumableUploads) -> None:
    before = leftovers(uploads)
    upload = uploads.create(20 * MIB, {})
    uploads.append(upload.id, 0, GeneratedStream(7 * MIB))

    uploads.terminate(upload.id)

    with pytest.raises(UploadNotFound):
        uploads.info(upload.id)
    with pytest.raises(UploadNotFound):
        uploads.append(upload.id, 7 * MIB, io.BytesIO(b"more"))
    with pytest.raises(UploadNotFound):
        uploads.terminate(upload.id)
    assert leftovers(uploads) == before


def test_terminate_after_finish_keeps_the_blob(uploads: ResumableUploads) -> None:
    upload = uploads.create(5, {})
    uploads.append(upload.id, 0, io.BytesIO(b"hello"))
    blob = uploads.finish(upload.id)

    uploads.terminate(upload.id)

    assert read_blob(uploads, blob.key) == b"hello"


def test_expiry_removes_unfinished_uploads_and_their_parts(
    uploads: ResumableUploads, clock: Clock
) -> None:
    before = leftovers(uploads)
    stale = uploads.create(30 * MIB, {})
    uploads.append(stale.id, 0, GeneratedStream(6 * MIB))
    assert stale.expires_at == clock.now + TTL
    clock.advance(TTL / 2)
    live = uploads.create(10, {})
    done = uploads.create(4, {})
    uploads.append(done.id, 0, io.BytesIO(b"done"))
    blob = uploads.finish(done.id)
    clock.advance(TTL / 2 + timedelta(seconds=1))

    with pytest.raises(UploadExpired):
        uploads.info(stale.id)
    with pytest.raises(UploadExpired):
        uploads.append(stale.id, 6 * MIB, io.BytesIO(b"late"))
    assert uploads.expire() == 1

    with pytest.raises(UploadNotFound):
        uploads.info(stale.id)
    assert uploads.info(live.id).offset == 0
    assert uploads.info(done.id).blob == blob
    clock.advance(TTL)
    assert uploads.expire() == 1
    assert leftovers(uploads) == before
    assert read_blob(uploads, blob.key) == b"done"


def test_each_append_renews_the_expiry(uploads: ResumableUploads, clock: Clock) -> None:
    upload = uploads.create(10, {})
    clock.advance(TTL - timedelta(minutes=1))

    info = uploads.append(upload.id, 0, io.BytesIO(b"12345"))
    clock.advance(timedelta(hours=2))

    assert info.expires_at == clock.now - timedelta(hours=2) + TTL
    assert uploads.expire() == 0
    assert uploads.info(upload.id).offset == 5
    assert format_expires(info.expires_at).endswith(" GMT")


def test_lengths_and_size_limits(uploads: ResumableUploads) -> None:
    with pytest.raises(UploadTooLarge):
        uploads.create(101, {}, max_size=100)
    with pytest.raises(InvalidUploadRequest):
        uploads.create(-1, {})

    upload = uploads.create(10, {})
    with pytest.raises(UploadTooLarge):
        uploads.append(upload.id, 0, io.BytesIO(b"x" * 11))
    assert uploads.info(upload.id).offset == 0

    deferred = uploads.create(None, {}, max_size=8)
    uploads.append(deferred.id, 0, io.BytesIO(b"abc"))
    with pytest.raises(UploadIncomplete):
        uploads.finish(deferred.id)
    with pytest.raises(UploadTooLarge):
        uploads.append(deferred.id, 3, io.BytesIO(b"x" * 6))
    with pytest.raises(UploadTooLarge):
        uploads.append(deferred.id, 3, io.BytesIO(b""), length=9)
    info = uploads.append(deferred.id, 3, io.BytesIO(b"def"), length=6)
    assert info.length == 6 and info.complete
    assert read_blob(uploads, uploads.finish(deferred.id).key) == b"abcdef"


def test_an_empty_upload_is_an_empty_blob(uploads: ResumableUploads) -> None:
    upload = uploads.create(0, {"filename": "empty.txt"})

    assert upload.complete
    blob = uploads.finish(upload.id)

    assert blob.size == 0
    assert blob.sha256 == hashlib.sha256(b"").hexdigest()
    assert read_blob(uploads, blob.key) == b""


def test_nothing_can_be_added_after_finish(uploads: ResumableUploads) -> None:
    upload = uploads.create(3, {})
    uploads.append(upload.id, 0, io.BytesIO(b"abc"))
    uploads.finish(upload.id)

    with pytest.raises(UploadTooLarge):
        uploads.append(upload.id, 3, io.BytesIO(b"d"))
    assert uploads.append(upload.id, 3, io.BytesIO(b"")).offset == 3


@pytest.mark.parametrize("upload_id", ["0" * 32, "../../etc/passwd", "", "A" * 32])
def test_unknown_uploads_are_not_found(uploads: ResumableUploads, upload_id: str) -> None:
    with pytest.raises(UploadNotFound):
        uploads.info(upload_id)
    with pytest.raises(UploadNotFound):
        uploads.append(upload_id, 0, io.BytesIO(b"x"))
    with pytest.raises(UploadNotFound):
        uploads.finish(upload_id)
    with pytest.raises(UploadNotFound):
        uploads.terminate(upload_id)


def test_append_holds_a_bounded_amount_in_memory(uploads: ResumableUploads) -> None:
    size = 40 * MIB
    upload = uploads.create(size, {})
    tracemalloc.start()
    try:
        uploads.append(upload.id, 0, GeneratedStream(size, seed=8))
        blob = uploads.finish(upload.id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert blob.size == size
    # MinIO: two 5 MiB parts on the wire, one being assembled, the bytes after it.
    assert peak < 28 * MIB


def test_a_second_append_at_the_same_time_is_refused(tmp_path: Path, clock: Clock) -> None:
    uploads = FilesystemUploads(FilesystemStore(tmp_path), clock=clock)
    upload = uploads.create(10, {})
    reading = threading.Event()
    release = threading.Event()

    class SlowStream(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            reading.set()
            release.wait(10)
            return b""

    worker = threading.Thread(target=uploads.append, args=(upload.id, 0, SlowStream()))
    worker.start()
    try:
        assert reading.wait(10)
        with pytest.raises(UploadBusy):
            uploads.append(upload.id, 0, io.BytesIO(b"12345"))
    finally:
        release.set()
        worker.join(10)


def test_parse_metadata_decodes_tus_headers() -> None:
    name = base64.b64encode("Año fiscal 2024.pdf".encode()).decode()
    header = f"filename {name},space_id {base64.b64encode(b'abc').decode()},is_confidential"

    assert parse_metadata(header) == {
        "filename": "Año fiscal 2024.pdf",
        "space_id": "abc",
        "is_confidential": "",
    }
    assert parse_metadata(None) == {}
    for bad in ["filename !!!", "a b c", "dup YQ==,dup YQ==", "a YQ==,,b YQ==", "é YQ=="]:
        with pytest.raises(InvalidUploadRequest):
            parse_metadata(bad)


def test_parse_checksum_decodes_tus_headers() -> None:
    digest = hashlib.sha1(b"abc").digest()

    assert parse_checksum(f"sha1 {base64.b64encode(digest).decode()}") == ("sha1", digest)
    assert parse_checksum(None) is None
    with pytest.raises(UnsupportedChecksum):
        parse_checksum("md5 " + base64.b64encode(b"0" * 16).decode())
    with pytest.raises(InvalidUploadRequest):
        parse_checksum("sha1 " + base64.b64encode(b"short").decode())


def test_build_resumable_picks_the_backend(make_uploads: MakeUploads) -> None:
    uploads = make_uploads()

    assert isinstance(uploads, ResumableUploads)
    expected = FilesystemUploads if isinstance(store_of(uploads), FilesystemStore) else MinioUploads
    assert isinstance(uploads, expected)


def test_minio_chunks_become_parts_as_they_arrive(moto_server: S3Server, clock: Clock) -> None:
    store = MinioStore(moto_server.client(), bucket_name(), part_size=MIN_PART_SIZE)
    uploads = MinioUploads(store, clock=clock)
    upload = uploads.create(12 * MIB, {})

    uploads.append(upload.id, 0, GeneratedStream(6 * MIB))

    staged = uploads.objects.list_names(f"uploads/{upload.id}/staged/", recursive=True)
    assert [store.objects.stat_size(name) for name in staged] == [1 * MIB]
    (name, upload_id, _), *others = store.objects.multipart_uploads()
    assert not others
    parts = store.objects.client._list_parts(store.bucket, name, upload_id).parts
    assert [part.size for part in parts] == [MIN_PART_SIZE]
