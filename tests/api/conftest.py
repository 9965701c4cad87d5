"""S3 servers for the API tests on a MinIO store: the same moto and nanio as tests/storage.

The helpers live in tests/storage/storage_testing.py; that folder goes on sys.path
(last, so that it shadows nothing) to import them under their own unique name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_STORAGE_TESTS = str(Path(__file__).resolve().parents[1] / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)

from storage_testing import S3Server  # noqa: E402


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
