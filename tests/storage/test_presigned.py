"""Presigned download URLs, checked by a real S3 server (nanio verifies SigV4 and expiry)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import time_machine
from storage_testing import S3Server, bucket_name

from storage import StorageError, StoredBlob, content_disposition
from storage.minio_store import MinioStore

FILENAME = 'Cuentas anuales "2024" – firmadas.pdf'


@pytest.fixture
def nanio_store(nanio_server: S3Server) -> MinioStore:
    return MinioStore(nanio_server.client(), bucket_name())


@pytest.fixture
def blob(nanio_store: MinioStore) -> StoredBlob:
    return nanio_store.put(io.BytesIO(b"%PDF-1.7 signed accounts"))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_presigned_url_downloads_the_blob(nanio_store: MinioStore, blob: StoredBlob) -> None:
    url = nanio_store.presigned_url(blob.key, filename=FILENAME)

    assert url is not None
    assert url.startswith("http://127.0.0.1:")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7 signed accounts"


def test_the_url_asks_for_an_attachment_with_the_rfc6266_filename(
    nanio_store: MinioStore, blob: StoredBlob
) -> None:
    url = nanio_store.presigned_url(blob.key, filename=FILENAME, expires_seconds=30)

    assert url is not None
    query = parse_qs(urlsplit(url).query)
    disposition = query["response-content-disposition"][0]
    assert disposition == content_disposition(FILENAME)
    assert disposition.startswith("attachment; filename=\"Cuentas anuales '2024' _ firmadas.pdf\"")
    assert "filename*=UTF-8''Cuentas%20anuales%20%222024%22%20%E2%80%93%20firmadas.pdf" in (
        disposition
    )
    assert query["X-Amz-Expires"] == ["30"]


def test_a_forged_signature_is_refused(nanio_store: MinioStore, blob: StoredBlob) -> None:
    url = nanio_store.presigned_url(blob.key, filename="a.pdf")
    assert url is not None
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")

    response = requests.get(with_query(url, **{"X-Amz-Signature": forged}), timeout=10)

    assert response.status_code == 403
    assert b"signed accounts" not in response.content


def test_a_changed_url_is_refused(nanio_store: MinioStore, blob: StoredBlob) -> None:
    url = nanio_store.presigned_url(blob.key, filename="a.pdf")
    other = nanio_store.put(io.BytesIO(b"someone else's file"))
    assert url is not None

    for tampered in [
        with_query(url, **{"response-content-disposition": "inline"}),
        with_query(url, **{"X-Amz-Expires": "604800"}),
        url.replace(blob.key, other.key),
    ]:
        assert requests.get(tampered, timeout=10).status_code == 403


def test_an_expired_url_is_refused(nanio_store: MinioStore, blob: StoredBlob) -> None:
    with time_machine.travel(datetime.now(UTC) - timedelta(seconds=90), tick=False):
        url = nanio_store.presigned_url(blob.key, filename="a.pdf", expires_seconds=60)
    assert url is not None

    response = requests.get(url, timeout=10)

    assert response.status_code == 403
    assert b"signed accounts" not in response.content


def test_a_public_url_signs_for_the_public_host(nanio_server: S3Server) -> None:
    public = f"http://localhost:{nanio_server.port}"
    store = MinioStore.from_url(nanio_server.url(bucket_name()), public_url=public)
    blob = store.put(io.BytesIO(b"%PDF-1.7 plano"))

    url = store.presigned_url(blob.key, filename="plano.pdf")

    assert url is not None and url.startswith(f"{public}/")
    assert requests.get(url, timeout=10).content == b"%PDF-1.7 plano"
    # Reads and writes still go to the internal endpoint.
    assert store.objects.client._base_url.host == nanio_server.endpoint  # noqa: SLF001


@pytest.mark.parametrize(
    "public_url",
    [
        "files.example.com",
        "ftp://files.example.com",
        "https://files.example.com/bucket",
        "https://",
    ],
)
def test_a_malformed_public_url_is_a_clear_error(public_url: str) -> None:
    with pytest.raises(StorageError, match="public storage URL"):
        MinioStore.from_url("minio://key:secret@minio:9000/portal", public_url=public_url)
