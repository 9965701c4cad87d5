"""A blob as a file on this machine, for tools that want a path (pdfium, tesseract, renderers)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_testing import ChunkedReader

from storage import BlobNotFound, BlobStore, FilesystemStore, StorageError, local_file


def test_the_file_holds_the_blob_and_leaves_nothing_behind(store: BlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)  # several chunks
    key = store.put(ChunkedReader(data)).key

    with local_file(store, key) as path:
        assert path.read_bytes() == data
        seen = path

    if isinstance(store, FilesystemStore):
        assert seen.is_file()  # the store's own file, read in place: nothing was copied
    else:
        assert not seen.exists() and not seen.parent.exists()  # the download is gone
    assert b"".join(store.open_range(key)) == data  # and the blob is untouched


def test_a_filesystem_blob_is_read_in_place(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "blobs")
    key = store.put(ChunkedReader(b"acta")).key
    with local_file(store, key) as path:
        assert path.is_relative_to(tmp_path / "blobs")
        assert path == store.local_path(key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/../cd", "", "no/such/blob0"])
def test_a_missing_or_forged_key_is_not_found(store: BlobStore, key: str) -> None:
    with pytest.raises(StorageError) as raised, local_file(store, key):
        pass
    if isinstance(store, FilesystemStore):
        assert isinstance(raised.value, BlobNotFound)
