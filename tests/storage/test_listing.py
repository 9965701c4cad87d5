"""Listing a store's blobs with their times (what the orphan sweep reads), on every backend."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage_testing import ChunkedReader, MakeStore, MakeUploads

from storage import BlobStore, FilesystemStore, new_key
from storage.base import is_blob_key

# S3 servers keep whole seconds; the machine's clock and the server's may differ a little.
SLACK = timedelta(seconds=2)


def test_listing_names_every_blob_with_when_it_was_written(store: BlobStore) -> None:
    before = datetime.now(UTC)
    keys = {store.put(ChunkedReader(data)).key for data in (b"", b"uno", b"dos" * 1000)}
    after = datetime.now(UTC)

    listing = store.iter_blobs()

    assert isinstance(listing, Iterator)  # streamed, not a list built first
    found = dict(listing)
    assert set(found) == keys
    for modified in found.values():
        assert modified.tzinfo is not None
        assert before - SLACK <= modified <= after + SLACK


def test_a_deleted_blob_is_no_longer_listed(store: BlobStore) -> None:
    kept = store.put(io.BytesIO(b"kept")).key
    gone = store.put(io.BytesIO(b"gone")).key

    store.delete(gone)

    assert [key for key, _ in store.iter_blobs()] == [kept]


def test_an_empty_store_lists_nothing(store: BlobStore) -> None:
    assert list(store.iter_blobs()) == []


def test_uploads_in_progress_are_not_blobs_until_finished(
    make_uploads: MakeUploads, upload_store: MakeStore
) -> None:
    uploads = make_uploads()
    store = upload_store()
    half = uploads.create(10, {"filename": "half.bin"})
    uploads.append(half.id, 0, io.BytesIO(b"12345"))
    done = uploads.create(4, {"filename": "done.bin"})
    uploads.append(done.id, 0, io.BytesIO(b"1234"))
    assert list(store.iter_blobs()) == []

    blob = uploads.finish(done.id)

    assert [key for key, _ in store.iter_blobs()] == [blob.key]


def test_filesystem_listing_skips_temporary_files_and_strangers(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "blobs")
    key = store.put(io.BytesIO(b"real")).key
    (store.root / ".tmp" / "up-leftover").write_bytes(b"a write cut off by a crash")
    (store.root / "notes.txt").write_text("not a blob")
    stranger = store.root / "ab" / "cd"
    stranger.mkdir(parents=True, exist_ok=True)
    (stranger / "not-a-key").write_bytes(b"x")
    (stranger / "abcd").write_bytes(b"too short to be a key")

    assert [found for found, _ in store.iter_blobs()] == [key]


def test_filesystem_listing_holds_one_folder_at_a_time(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "blobs")
    source = tmp_path / "source"
    source.write_bytes(b"x")
    count = 5000
    for _ in range(count):
        path = store.root / new_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, path)

    tracemalloc.start()
    try:
        seen = sum(1 for _ in store.iter_blobs())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert seen == count
    # The whole listing as a list would be about 1 MB; the walk keeps a folder's names.
    assert peak < 256 * 1024


def test_only_names_made_by_new_key_are_blob_keys() -> None:
    assert is_blob_key(new_key())
    assert not is_blob_key("uploads/0123456789abcdef0123456789abcdef/state.json")
    assert not is_blob_key("ab/cd/abce" + "0" * 28)  # folders that do not match the name
    assert not is_blob_key("AB/CD/ABCD" + "0" * 28)
