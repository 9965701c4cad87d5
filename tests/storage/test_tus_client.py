"""A real tus client (tuspy) uploads through storage.resumable, is interrupted, and resumes.

The default run moves a few MB; ``PORTAL_TEST_LARGE=1`` adds 1 GB uploads (data
generated on the fly, never held whole) on the filesystem and on nanio.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import tracemalloc
from pathlib import Path

import pytest
import requests
from storage_testing import (
    MIB,
    GeneratedStream,
    MakeStore,
    MakeUploads,
    S3Server,
    bucket_name,
    generated_sha256,
)
from tus_wsgi import TusApp, TusServer
from tusclient.client import TusClient

from storage import BlobStore, FilesystemStore, build_resumable
from storage.minio_store import MinioStore

LARGE = os.environ.get("PORTAL_TEST_LARGE") == "1"
GIB = 1024 * MIB
large_only = pytest.mark.skipif(not LARGE, reason="set PORTAL_TEST_LARGE=1 for 1 GB uploads")


def upload_interrupted_and_resumed(
    make_uploads: MakeUploads, size: int, chunk_size: int, seed: int
) -> tuple[TusServer, str]:
    """tuspy sends half the file, the web process restarts, a new tuspy uploader resumes."""
    server = TusServer(TusApp(make_uploads(), max_size=50 * GIB))
    client = TusClient(server.url)
    first = client.uploader(
        file_stream=GeneratedStream(size, seed),
        chunk_size=chunk_size,
        metadata={"filename": "Vídeo obra 3.mp4", "space_id": "space-1"},
        upload_checksum=True,
    )
    first.upload(stop_at=size // 2)
    assert first.url is not None
    upload_id = first.url.rsplit("/", 1)[-1]
    port = server.port
    server.stop()

    server = TusServer(TusApp(make_uploads(), max_size=50 * GIB), port=port)
    resumed = client.uploader(
        file_stream=GeneratedStream(size, seed),
        chunk_size=chunk_size,
        url=first.url,
        upload_checksum=True,
    )
    assert size // 2 <= resumed.offset < size
    resumed.upload()
    return server, upload_id


def test_tuspy_upload_interrupted_and_resumed(make_uploads: MakeUploads) -> None:
    size = 11 * MIB + 5
    server, upload_id = upload_interrupted_and_resumed(make_uploads, size, MIB, seed=11)
    try:
        blob = server.app.finished[upload_id]
        assert blob.size == size
        assert blob.sha256 == generated_sha256(size, seed=11)
        info = server.app.uploads.info(upload_id)
        assert info.metadata == {"filename": "Vídeo obra 3.mp4", "space_id": "space-1"}
    finally:
        server.stop()


def test_tus_answers_offsets_conflicts_and_termination(make_uploads: MakeUploads) -> None:
    server = TusServer(TusApp(make_uploads(), max_size=100))
    base = {"Tus-Resumable": "1.0.0"}
    try:
        options = requests.options(server.url, timeout=10)
        assert "checksum" in options.headers["Tus-Extension"]
        assert options.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
        too_big = requests.post(server.url, headers={**base, "Upload-Length": "101"}, timeout=10)
        assert too_big.status_code == 413

        created = requests.post(server.url, headers={**base, "Upload-Length": "10"}, timeout=10)
        assert created.status_code == 201
        url = server.url.removesuffix("/files/") + created.headers["Location"]
        patch = {**base, "Content-Type": "application/offset+octet-stream"}
        wrong = requests.patch(
            url, data=b"abc", headers={**patch, "Upload-Offset": "3"}, timeout=10
        )
        assert wrong.status_code == 409
        bad_sum = requests.patch(
            url,
            data=b"abc",
            headers={
                **patch,
                "Upload-Offset": "0",
                "Upload-Checksum": "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            },
            timeout=10,
        )
        assert bad_sum.status_code == 460
        assert requests.head(url, headers=base, timeout=10).headers["Upload-Offset"] == "0"

        assert requests.delete(url, headers=base, timeout=10).status_code == 204
        assert requests.head(url, headers=base, timeout=10).status_code == 404
    finally:
        server.stop()


# ---------------------------------------------------------------- 1 GB, on request


@pytest.fixture(params=["filesystem", "nanio"])
def large_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    if request.param == "filesystem":
        return lambda: FilesystemStore(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("nanio_server")
    bucket = bucket_name()
    return lambda: MinioStore(server.client(), bucket)


@large_only
def test_tuspy_uploads_1_gb_interrupted_half_way(large_store: MakeStore) -> None:
    size = GIB
    server, upload_id = upload_interrupted_and_resumed(
        lambda: build_resumable(large_store()), size, 32 * MIB, seed=21
    )
    try:
        blob = server.app.finished[upload_id]
        assert blob.size == size
        assert blob.sha256 == generated_sha256(size, seed=21)
    finally:
        server.stop()


@large_only
def test_library_resumes_1_gb_after_a_drop_in_constant_memory(large_store: MakeStore) -> None:
    size = GIB
    chunk = 8 * MIB
    store: BlobStore = large_store()
    upload = build_resumable(store).create(size, {"filename": "big.bin"})
    source = GeneratedStream(size, seed=22)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        uploads = build_resumable(store)
        offset = 0
        while offset < size // 2:
            source.seek(offset)
            piece = source.read(chunk)
            info = uploads.append(
                upload.id,
                offset,
                io.BytesIO(piece),
                checksum=("sha1", hashlib.sha1(piece).digest()),
            )
            offset = info.offset
        restarted = build_resumable(large_store())
        offset = restarted.info(upload.id).offset
        source.seek(offset)
        restarted.append(upload.id, offset, source)
        blob = restarted.finish(upload.id)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert blob.sha256 == generated_sha256(size, seed=22)
    assert traced_peak < 64 * MIB
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 200 * 1024
