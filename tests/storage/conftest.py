"""Fixtures for the store tests: the same tests run on the filesystem, moto and nanio."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

# tests/ is on sys.path during the test run; there, tests/storage would shadow the
# storage package as an empty namespace package unless the project root comes first.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)
if "storage" in sys.modules and getattr(sys.modules["storage"], "__file__", None) is None:
    del sys.modules["storage"]
# The helpers module next to this file (last, so that it shadows nothing).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)

import pytest  # noqa: E402
from storage_testing import TTL, Clock, MakeStore, MakeUploads, S3Server  # noqa: E402
from storage_testing import bucket_name as bucket_name  # noqa: E402

from storage import BlobStore, FilesystemStore, ResumableUploads, build_resumable  # noqa: E402
from storage.minio_store import MIN_PART_SIZE, MinioStore  # noqa: E402

BACKENDS = ["filesystem", "moto", "nanio"]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server("moto", tmp_path_factory.mktemp("moto"), "testing", "testing-secret")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nanio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server("nanio", tmp_path_factory.mktemp("nanio"), "portal", "portal-secret-key")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """Build stores of the test's backend; every call on the same test shares one backend."""
    return _store_factory(backend, request, tmp_path)


def _store_factory(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    root = tmp_path / "blobs"
    bucket = bucket_name()
    server: S3Server | None = None
    if backend != "filesystem":
        server = request.getfixturevalue(f"{backend}_server")

    def make() -> BlobStore:
        if server is None:
            return FilesystemStore(root)
        return MinioStore(server.client(), bucket, part_size=MIN_PART_SIZE)

    return make


@pytest.fixture
def store(make_store: MakeStore) -> BlobStore:
    return make_store()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["filesystem", "moto", "nanio"])
def uploads_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def upload_store(uploads_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """Stores for the resumable tests (each call is a new object on the same backend)."""
    return _store_factory(uploads_backend, request, tmp_path)


@pytest.fixture
def make_uploads(upload_store: MakeStore, clock: Clock) -> MakeUploads:
    """A new ResumableUploads on a new store object each call: what a restarted process has."""

    def make() -> ResumableUploads:
        return build_resumable(upload_store(), ttl=TTL, clock=clock)

    return make


@pytest.fixture
def uploads(make_uploads: MakeUploads) -> ResumableUploads:
    return make_uploads()
