"""The same behaviour from every blob store: filesystem, MinIO on moto, MinIO on nanio."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tracemalloc
from pathlib import Path

import pytest
from storage_testing import (
    MIB,
    ChunkedReader,
    GeneratedStream,
    MakeStore,
    S3Server,
    bucket_name,
    generated_bytes,
)

from storage import (
    BlobNotFound,
    BlobStore,
    BlobTooLarge,
    FilesystemStore,
    StorageError,
    build_store,
)
from storage.minio_store import MIN_PART_SIZE, MinioStore


def stored_objects(store: BlobStore) -> list[str]:
    """Everything the backend holds: files under the root, or objects and multipart uploads."""
    if isinstance(store, FilesystemStore):
        return sorted(
            str(path.relative_to(store.root)) for path in store.root.rglob("*") if path.is_file()
        )
    assert isinstance(store, MinioStore)
    objects = store.objects.list_names("", recursive=True)
    uploads = [f"multipart:{name}" for name, _, _ in store.objects.multipart_uploads()]
    return sorted(objects + uploads)


def read_all(store: BlobStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join(store.open_range(key, start, length))


@pytest.mark.parametrize("size", [0, 5, 3 * MIB + 7, 2 * MIN_PART_SIZE + 12345])
def test_round_trip_records_sha256_and_size(store: BlobStore, size: int) -> None:
    data = generated_bytes(size, seed=size)

    blob = store.put(ChunkedReader(data))

    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists(blob.key)
    assert store.size(blob.key) == size
    assert read_all(store, blob.key) == data
    assert store.hash_blob(blob.key) == blob.sha256


def test_ranges_match_the_bytes(store: BlobStore) -> None:
    data = generated_bytes(2 * MIB + 100, seed=3)
    key = store.put(io.BytesIO(data)).key

    for start, length in [
        (0, 1),
        (0, None),
        (10, 100),
        (MIB - 5, 10),
        (MIB + 1, None),
        (len(data) - 1, None),
        (len(data) - 10, 1000),
    ]:
        expected = data[start:] if length is None else data[start : start + length]
        assert read_all(store, key, start, length) == expected, (start, length)

    assert read_all(store, key, 0, 0) == b""
    assert read_all(store, key, len(data)) == b""
    assert read_all(store, key, len(data) + 10, 5) == b""


def test_open_file_is_the_exact_span_or_none(store: BlobStore) -> None:
    data = generated_bytes(2 * MIB + 100, seed=4)
    key = store.put(io.BytesIO(data)).key

    if not isinstance(store, FilesystemStore):
        assert store.open_file(key) is None  # no local file: downloads stream or redirect
        return
    for start, length in [(0, None), (10, 100), (MIB - 5, MIB + 10), (len(data) - 3, 1000)]:
        expected = data[start:] if length is None else data[start : start + length]
        with store.open_file(key, start, length) as span:
            # What a WSGI server does with a file: measure it, then read it in blocks.
            assert span.seekable() and span.seek(0, os.SEEK_END) == len(expected)
            span.seek(0)
            assert b"".join(iter(lambda: span.read(64 * 1024), b"")) == expected
            span.seek(3)
            assert span.tell() == 3 and span.read() == expected[3:]
            assert span.read(10) == b""
            into = bytearray(8)
            span.seek(0)
            assert span.readinto(into) == min(8, len(expected))
            assert bytes(into[: len(expected)]) == expected[:8]
    with pytest.raises(BlobNotFound):
        store.open_file("ab/cd/" + "0" * 32)


def test_a_download_span_read_ahead_in_many_windows_is_still_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.filesystem

    # Windows far smaller than the span, so the kernel is advised many times, at
    # offsets that are not multiples of the block a server reads.
    monkeypatch.setattr(storage.filesystem, "READ_AHEAD", 96 * 1024)
    store = FilesystemStore(tmp_path)
    data = generated_bytes(MIB + 333, seed=9)
    key = store.put(io.BytesIO(data)).key

    with store.open_file(key, 4097, MIB - 7) as span:
        blocks = list(iter(lambda: span.read(40_000), b""))

    assert b"".join(blocks) == data[4097 : 4097 + MIB - 7]
    assert len(blocks) == -(-(MIB - 7) // 40_000)


def test_range_reads_stream_in_chunks(store: BlobStore) -> None:
    key = store.put(GeneratedStream(6 * MIB)).key

    chunks = list(store.open_range(key, 1, 5 * MIB))

    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 1 * MIB
    assert b"".join(chunks) == generated_bytes(6 * MIB)[1 : 5 * MIB + 1]


@pytest.mark.parametrize("size", [MIB, 2 * MIN_PART_SIZE + 1])
def test_max_size_is_refused_and_nothing_is_stored(store: BlobStore, size: int) -> None:
    before = stored_objects(store)

    with pytest.raises(BlobTooLarge) as caught:
        store.put(GeneratedStream(size), max_size=size - 1)

    assert caught.value.limit == size - 1
    assert stored_objects(store) == before


def test_max_size_itself_is_accepted(store: BlobStore) -> None:
    blob = store.put(GeneratedStream(MIB), max_size=MIB)

    assert blob.size == MIB


def test_keys_are_new_every_time_and_never_overwritten(store: BlobStore) -> None:
    first = store.put(io.BytesIO(b"same content"))
    second = store.put(io.BytesIO(b"same content"))
    third = store.put(io.BytesIO(b"other content"))

    assert len({first.key, second.key, third.key}) == 3
    assert all(re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}", b.key) for b in (first, third))
    assert read_all(store, first.key) == b"same content"
    assert read_all(store, third.key) == b"other content"


@pytest.mark.parametrize("key", ["aa/bb/" + "0" * 32, "../../etc/passwd", "uploads/x/state", ""])
def test_missing_keys_raise_blob_not_found(store: BlobStore, key: str) -> None:
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.size(key)
    with pytest.raises(BlobNotFound):
        store.open_range(key)
    with pytest.raises(BlobNotFound):
        store.open_range(key, 10, 0)
    with pytest.raises(BlobNotFound):
        store.hash_blob(key)
    store.delete(key)


def test_delete_removes_a_blob_that_never_became_visible(store: BlobStore) -> None:
    kept = store.put(io.BytesIO(b"kept"))
    dropped = store.put(io.BytesIO(b"dropped"))

    store.delete(dropped.key)

    assert not store.exists(dropped.key)
    assert store.exists(kept.key)
    assert not any(dropped.key in name for name in stored_objects(store))


def test_a_second_store_object_sees_the_same_blobs(make_store: MakeStore) -> None:
    blob = make_store().put(io.BytesIO(b"across processes"))

    assert make_store().hash_blob(blob.key) == blob.sha256


def test_put_holds_a_bounded_amount_in_memory(store: BlobStore) -> None:
    size = 48 * MIB
    tracemalloc.start()
    try:
        blob = store.put(GeneratedStream(size, seed=9))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert blob.size == size
    # MinIO: (upload threads + 1) parts of 5 MiB plus the part being joined.
    assert peak < 32 * MIB


def test_store_is_a_blob_store(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


# ---------------------------------------------------------------- MinIO specifics


@pytest.mark.parametrize("server_name", ["moto_server", "nanio_server"])
def test_build_store_from_a_minio_url(request: pytest.FixtureRequest, server_name: str) -> None:
    server: S3Server = request.getfixturevalue(server_name)
    store = build_store(server.url(bucket_name()) + "?part_size=5242880")

    assert isinstance(store, MinioStore)
    assert store.part_size == MIN_PART_SIZE
    blob = store.put(io.BytesIO(b"from the URL"))
    assert read_all(store, blob.key) == b"from the URL"
    assert "secret" not in repr(store)


def test_minio_url_options_without_touching_the_network() -> None:
    store = build_store(
        "minios://ke%40y:se%2Fcret@storage.example:9443/docs?region=eu-west-1&upload_threads=4"
    )

    assert isinstance(store, MinioStore)
    assert store.bucket == "docs"
    assert store.upload_threads == 4
    client = store.objects.client
    assert client._base_url.is_https
    credentials = client._provider.retrieve() if client._provider else None
    assert credentials is not None
    assert (credentials.access_key, credentials.secret_key) == ("ke@y", "se/cret")


def test_minio_url_needs_a_bucket() -> None:
    with pytest.raises(StorageError):
        build_store("minio://key:secret@127.0.0.1:9")


def test_bucket_is_created_with_versioning_on_moto(moto_server: S3Server) -> None:
    store = MinioStore(moto_server.client(), bucket_name())

    store.put(io.BytesIO(b"x"))

    assert store.objects.versioned
    assert moto_server.client().get_bucket_versioning(store.bucket).status == "Enabled"


def test_versioned_delete_leaves_no_old_version(moto_server: S3Server) -> None:
    store = MinioStore(moto_server.client(), bucket_name())
    blob = store.put(io.BytesIO(b"x"))

    store.delete(blob.key)

    versions = list(
        moto_server.client().list_objects(store.bucket, recursive=True, include_version=True)
    )
    assert versions == []


def test_nanio_without_versioning_still_works(nanio_server: S3Server) -> None:
    store = MinioStore(nanio_server.client(), bucket_name())

    blob = store.put(io.BytesIO(b"x"))

    assert not store.objects.versioned
    assert store.exists(blob.key)


def test_filesystem_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    key = store.put(io.BytesIO(b"x")).key

    assert store.presigned_url(key, filename="x.pdf") is None


def test_storage_errors_do_not_reveal_credentials() -> None:
    store = MinioStore(
        S3Server("nanio", Path(os.devnull), "visible-key", "hidden-secret").client(retries=0),
        bucket_name(),
    )

    with pytest.raises(StorageError) as caught:
        store.put(io.BytesIO(b"x"))

    assert "hidden-secret" not in str(caught.value)
    assert "hidden-secret" not in repr(caught.value.__cause__)
