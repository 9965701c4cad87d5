"""Faults: the S3 server dies mid-upload, the disk fills up, the server reports it is full."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from storage_testing import (
    MIB,
    GeneratedStream,
    S3Server,
    bucket_name,
    generated_bytes,
    generated_sha256,
)

from storage import (
    FilesystemStore,
    StorageError,
    StorageFull,
    build_resumable,
)
from storage.minio_store import MIN_PART_SIZE, MinioStore
from storage.resumable_fs import FilesystemUploads


class KillingStream(GeneratedStream):
    """Generated data whose reading kills the S3 server once `after` bytes were read."""

    def __init__(self, size: int, server: S3Server, after: int, seed: int = 1) -> None:
        super().__init__(size, seed)
        self.server = server
        self.after = after

    def read(self, size: int = -1) -> bytes:
        if self.tell() >= self.after and self.server.process is not None:
            self.server.kill()
        return super().read(size)


@pytest.fixture
def own_nanio(tmp_path: Path) -> Iterator[S3Server]:
    """A nanio server of this test's own, free to be killed and restarted."""
    server = S3Server("nanio", tmp_path / "nanio-data", "portal", "portal-secret-key")
    server.start()
    yield server
    server.stop()


def test_server_killed_mid_put_leaves_no_blob_and_recovers(own_nanio: S3Server) -> None:
    store = MinioStore(own_nanio.client(retries=1), bucket_name(), part_size=MIN_PART_SIZE)
    previous = store.put(GeneratedStream(6 * MIB, seed=2))

    with pytest.raises(StorageError):
        store.put(KillingStream(40 * MIB, own_nanio, after=12 * MIB))

    own_nanio.start()
    assert store.objects.list_names("", recursive=True) == [previous.key]
    assert store.hash_blob(previous.key) == previous.sha256
    # The multipart upload the crash cut off is cleaned up, like any stale upload.
    assert len(store.objects.multipart_uploads()) == 1
    assert store.abort_stale_uploads(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert store.objects.multipart_uploads() == []
    again = store.put(GeneratedStream(12 * MIB, seed=3))
    assert again.sha256 == generated_sha256(12 * MIB, seed=3)
    assert store.hash_blob(again.key) == again.sha256


def test_server_killed_mid_append_and_the_upload_resumes(own_nanio: S3Server) -> None:
    store = MinioStore(own_nanio.client(retries=1), bucket_name(), part_size=MIN_PART_SIZE)
    uploads = build_resumable(store)
    size = 16 * MIB
    upload = uploads.create(size, {"filename": "obra.dwg"})
    source = GeneratedStream(size, seed=4)
    uploads.append(upload.id, 0, io.BytesIO(source.read(6 * MIB)))

    with pytest.raises(StorageError):
        uploads.append(upload.id, 6 * MIB, KillingStream(4 * MIB, own_nanio, after=3 * MIB))

    own_nanio.start()
    restarted = build_resumable(MinioStore(own_nanio.client(), store.bucket))
    offset = restarted.info(upload.id).offset
    assert offset == 6 * MIB
    source.seek(offset)
    restarted.append(upload.id, offset, source)
    blob = restarted.finish(upload.id)
    assert blob.sha256 == generated_sha256(size, seed=4)
    assert store.hash_blob(blob.key) == blob.sha256


# ---------------------------------------------------------------- the disk fills up


class FillingFile(io.FileIO):
    """A real file that fails with ENOSPC, as a full disk does, once `budget` bytes are in."""

    def __init__(self, name: str, budget: int) -> None:
        super().__init__(name, "wb")
        self.budget = budget

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if size > self.budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.budget -= size
        return super().write(data)


class FullDiskStore(FilesystemStore):
    """A filesystem store whose temporary files run out of space after `budget` bytes."""

    def __init__(self, root: Path, budget: int) -> None:
        super().__init__(root)
        self.budget = budget

    def _create_temp(self) -> tuple[BinaryIO, str]:
        out, name = super()._create_temp()
        out.close()
        return FillingFile(name, self.budget), name  # type: ignore[return-value]


class FullDiskUploads(FilesystemUploads):
    """Resumable uploads whose partial files run out of space after `budget` bytes."""

    budget = 0
    _saving = False

    def _save(self, state: Any) -> None:
        self._saving = True
        try:
            super()._save(state)
        finally:
            self._saving = False

    def _write_at(self, fd: int, data: bytes, position: int) -> None:
        if not self._saving and position + len(data) > self.budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super()._write_at(fd, data, position)


def blob_files(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and ".uploads" not in path.parts
    )


@pytest.fixture(params=["injected", "tmpfs"])
def full_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the disk fills: a file that raises ENOSPC, or a real 4 MiB tmpfs when mountable."""
    if request.param == "injected":
        yield "injected"
        return
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield str(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def test_disk_full_during_put_is_a_clean_error(full_disk: str, tmp_path: Path) -> None:
    if full_disk == "injected":
        store: FilesystemStore = FullDiskStore(tmp_path / "blobs", budget=2 * MIB)
    else:
        store = FilesystemStore(full_disk)
    kept = store.put(GeneratedStream(MIB, seed=1))

    with pytest.raises(StorageFull):
        store.put(GeneratedStream(8 * MIB, seed=2))

    assert blob_files(store.root) == [kept.key]
    again = store.put(GeneratedStream(MIB, seed=3))
    assert store.hash_blob(again.key) == again.sha256
    assert store.hash_blob(kept.key) == kept.sha256


def test_disk_full_during_append_keeps_the_offset(full_disk: str, tmp_path: Path) -> None:
    if full_disk == "injected":
        uploads = FullDiskUploads(FilesystemStore(tmp_path / "blobs"))
        uploads.budget = 2 * MIB
    else:
        uploads = FilesystemUploads(FilesystemStore(full_disk))
    upload = uploads.create(8 * MIB, {})
    source = GeneratedStream(8 * MIB, seed=5)
    uploads.append(upload.id, 0, io.BytesIO(source.read(2 * MIB)))

    with pytest.raises(StorageFull):
        uploads.append(upload.id, 2 * MIB, source)

    assert uploads.info(upload.id).offset == 2 * MIB
    assert (uploads.directory / f"{upload.id}.part").stat().st_size == 2 * MIB
    uploads.terminate(upload.id)
    assert list(uploads.directory.iterdir()) == []


def writer_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if "upload-writer" in thread.name]


def test_disk_full_chunks_into_an_append_keeps_the_offset_and_resumes(
    full_disk: str, tmp_path: Path
) -> None:
    """Chunks are written while the next ones arrive; the disk filling chunks later is the
    same clean error, and the upload resumes from its last committed offset."""
    size = 3 * MIB + MIB // 2
    if full_disk == "injected":
        uploads = FullDiskUploads(FilesystemStore(tmp_path / "blobs"))
        uploads.budget = 3 * MIB  # the third chunk of the second append does not fit
        filler = None
    else:
        uploads = FilesystemUploads(FilesystemStore(full_disk))
        # 2 MiB of the 4 MiB taken: the second append's second chunk does not fit.
        filler = Path(full_disk) / "filler.bin"
        filler.write_bytes(b"\0" * 2 * MIB)
    upload = uploads.create(size, {})
    source = GeneratedStream(size, seed=9)
    uploads.append(upload.id, 0, io.BytesIO(source.read(MIB // 2)))

    with pytest.raises(StorageFull):
        uploads.append(upload.id, MIB // 2, source)

    assert writer_threads() == []
    assert uploads.info(upload.id).offset == MIB // 2
    assert (uploads.directory / f"{upload.id}.part").stat().st_size == MIB // 2
    if filler is None:
        uploads.budget = 2 * size
    else:
        filler.unlink()
    source.seek(MIB // 2)
    assert uploads.append(upload.id, MIB // 2, source).offset == size
    blob = uploads.finish(upload.id)
    # The running hash counted none of the bytes of the append that failed.
    assert blob.sha256 == generated_sha256(size, seed=9)
    assert uploads.store.hash_blob(blob.key) == blob.sha256


class FailingDiskUploads(FilesystemUploads):
    """Resumable uploads whose disk fails (EIO) at the third chunk written after `armed`."""

    armed = False
    writes = 0

    def _write_at(self, fd: int, data: bytes, position: int) -> None:
        if self.armed and len(data) == MIB:
            self.writes += 1
            if self.writes == 3:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        super()._write_at(fd, data, position)


@pytest.mark.parametrize("with_checksum", [False, True])
def test_a_failed_write_mid_append_counts_nothing_of_it(
    tmp_path: Path, with_checksum: bool
) -> None:
    """A disk error while later chunks arrive: nothing of that append counts, with or without
    a checksum, the writer thread is gone, and the same bytes go in once the disk is back."""
    size = 6 * MIB
    data = generated_bytes(size, seed=10)
    uploads = FailingDiskUploads(FilesystemStore(tmp_path / "blobs"))
    upload = uploads.create(size, {})
    uploads.append(upload.id, 0, io.BytesIO(data[:MIB]))
    rest = data[MIB:]
    checksum = ("sha1", hashlib.sha1(rest).digest()) if with_checksum else None
    uploads.armed = True

    with pytest.raises(StorageError, match="upload storage failed") as failed:
        uploads.append(upload.id, MIB, io.BytesIO(rest), checksum=checksum)

    assert not isinstance(failed.value, StorageFull)
    assert writer_threads() == []
    assert uploads.info(upload.id).offset == MIB
    assert (uploads.directory / f"{upload.id}.part").stat().st_size == MIB
    uploads.armed = False
    assert uploads.append(upload.id, MIB, io.BytesIO(rest), checksum=checksum).offset == size
    blob = uploads.finish(upload.id)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert uploads.store.hash_blob(blob.key) == blob.sha256


# ---------------------------------------------------------------- the S3 server says it is full


class FullMinioHandler(BaseHTTPRequestHandler):
    """An S3 endpoint that answers every write as MinIO does when its disks are full."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(
        self, status: int, body: bytes = b"", content_type: str = "application/xml"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        self._answer(200)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(
            200,
            b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Status>Enabled</Status></VersioningConfiguration>",
        )

    def do_PUT(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(
            507,
            b"<Error><Code>XMinioStorageFull</Code><Message>Storage backend has reached its"
            b" minimum free drive threshold.</Message><Resource>/b/k</Resource>"
            b"<RequestId>1</RequestId><HostId>1</HostId></Error>",
        )


def test_minio_storage_full_is_reported_as_storage_full() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FullMinioHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"127.0.0.1:{server.server_address[1]}"
        store = MinioStore.from_url(f"minio://key:secret@{endpoint}/full-bucket")

        with pytest.raises(StorageFull):
            store.put(io.BytesIO(b"x" * 1000))
    finally:
        server.shutdown()
        server.server_close()
