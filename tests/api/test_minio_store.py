"""The portal on a MinIO store (moto and nanio on 127.0.0.1): upload, list, download through a
presigned URL issued after the access check, Range there; the S3 server killed mid-upload."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from portal_testing import World, api_token, build_world, make_app
from storage_testing import MIB, GeneratedStream, S3Server, bucket_name

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


@pytest.fixture(params=["moto", "nanio"])
def s3(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue(f"{request.param}_server")


def _apps(tmp_path: Path, database_url: str, storage_url: str) -> Iterator[tuple[World, object]]:
    from app.extensions import db

    builder = make_app(tmp_path, database_url, STORAGE_URL=storage_url)
    with builder.app_context():
        world = build_world()
        web = make_app(tmp_path, database_url, STORAGE_URL=storage_url)
        yield world, web.test_client()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def minio_world(tmp_path, database_url, s3) -> Iterator[tuple[World, object]]:
    yield from _apps(tmp_path, database_url, s3.url(bucket_name()))


def test_upload_list_and_download_through_a_presigned_url(minio_world, s3, tmp_path):
    world, client = minio_world
    headers = api_token(client, world.client_a)
    uploaded = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(PDF), "Memoria técnica.pdf"), "title": "Memoria"},
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    document = uploaded.get_json()
    listed = client.get(f"/api/v1/spaces/{world.space_a.id}/documents", headers=headers)
    assert document["id"] in {d["id"] for d in listed.get_json()["items"]}
    assert not (tmp_path / "blobs").exists() or not any((tmp_path / "blobs").rglob("*.pdf"))

    url = f"/api/v1/documents/{document['id']}/versions/1/content"
    response = client.get(url, headers=headers)
    assert response.status_code == 303
    presigned = response.headers["Location"]
    assert "X-Amz-Signature" in presigned and "X-Amz-Expires=60" in presigned
    assert response.headers["Cache-Control"] == "private, no-store"
    whole = requests.get(presigned, timeout=30)
    assert whole.status_code == 200 and whole.content == PDF
    if s3.kind == "moto":  # nanio ignores response-content-disposition
        assert "filename" in whole.headers["Content-Disposition"]
    ranged = requests.get(presigned, headers={"Range": "bytes=9-16"}, timeout=30)
    assert ranged.status_code == 206 and ranged.content == PDF[9:17]

    # The web download redirects too; other clients and anonymous callers get nothing.
    assert client.get(url, headers=api_token(client, world.client_b)).status_code == 404
    assert client.get(url).status_code == 401

    # The URL is in no audit record.
    from app.extensions import db
    from app.models import AuditEvent

    details = [json.dumps(e.details) for e in db.session.query(AuditEvent)]
    assert any("download" in e.action for e in db.session.query(AuditEvent))
    assert not any("X-Amz" in d or "http" in d for d in details)


def test_tus_upload_lands_in_the_bucket(minio_world):
    world, client = minio_world
    headers = api_token(client, world.staff)
    data = PDF + GeneratedStream(6 * MIB, seed=4).read()  # more than one S3 part
    created = client.post(
        "/api/v1/uploads/",
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(document_id=world.shared.id, filename="contrato-v2.pdf"),
        },
    )
    assert created.status_code == 201
    location = created.headers["Location"]
    half = len(data) // 2
    first = client.patch(
        location, headers={**headers, **PATCH, "Upload-Offset": "0"}, data=data[:half]
    )
    assert first.status_code == 204
    last = client.patch(
        location, headers={**headers, **PATCH, "Upload-Offset": str(half)}, data=data[half:]
    )
    assert last.status_code == 204, last.get_json()
    assert last.headers["Portal-Version"] == "2"
    version = client.get(f"/api/v1/documents/{world.shared.id}/versions/2", headers=headers)
    assert version.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    redirect = client.get(
        f"/api/v1/documents/{world.shared.id}/versions/2/content", headers=headers
    )
    assert (
        hashlib.sha256(requests.get(redirect.headers["Location"], timeout=60).content).hexdigest()
        == hashlib.sha256(data).hexdigest()
    )


def test_forged_presigned_url_is_refused_by_the_server(tmp_path, database_url, nanio_server):
    for world, client in _apps(tmp_path, database_url, nanio_server.url(bucket_name())):
        headers = api_token(client, world.staff)
        response = client.get(
            f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=headers
        )
        presigned = response.headers["Location"]
        assert requests.get(presigned, timeout=30).content == b"%PDF-1.4 contrato v1"
        other_key = world.internal.current_version.blob_key
        forged = presigned.replace(world.shared.current_version.blob_key, other_key)
        assert requests.get(forged, timeout=30).status_code == 403


# ---------------------------------------------------------------- the server dies mid-upload


@pytest.fixture
def own_nanio(tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server("nanio", tmp_path / "nanio-data", "portal", "portal-secret-key")
    server.start()
    yield server
    server.stop()


def test_s3_killed_mid_upload_then_resumed(tmp_path, database_url, own_nanio):
    url = own_nanio.url(bucket_name()) + "?part_size=5242880"
    for world, client in _apps(tmp_path, database_url, url):
        headers = api_token(client, world.staff)
        data = PDF + GeneratedStream(12 * MIB, seed=9).read()
        created = client.post(
            "/api/v1/uploads/",
            headers={
                **headers,
                **TUS,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": metadata(document_id=world.shared.id, filename="planos.pdf"),
            },
        )
        location = created.headers["Location"]
        first = client.patch(
            location, headers={**headers, **PATCH, "Upload-Offset": "0"}, data=data[: 6 * MIB]
        )
        assert first.status_code == 204
        own_nanio.kill()

        cut = client.patch(
            location,
            headers={**headers, **PATCH, "Upload-Offset": str(6 * MIB)},
            data=data[6 * MIB :],
        )
        assert cut.status_code in (503, 507), cut.get_json()
        assert cut.mimetype == "application/problem+json"
        versions = client.get(f"/api/v1/documents/{world.shared.id}/versions", headers=headers)
        assert [v["number"] for v in versions.get_json()["items"]] == [1]

        own_nanio.start()
        offset = int(client.head(location, headers={**headers, **TUS}).headers["Upload-Offset"])
        assert 0 < offset <= 6 * MIB
        done = client.patch(
            location, headers={**headers, **PATCH, "Upload-Offset": str(offset)}, data=data[offset:]
        )
        assert done.status_code == 204, done.get_json()
        assert done.headers["Portal-Version"] == "2"
        second = client.get(f"/api/v1/documents/{world.shared.id}/versions/2", headers=headers)
        assert second.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
        old = client.get(f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=headers)
        assert requests.get(old.headers["Location"], timeout=30).content == b"%PDF-1.4 contrato v1"


def test_presigned_urls_name_the_public_host_and_work_there(tmp_path, database_url, nanio_server):
    """Behind docker-compose the portal reaches MinIO at minio:9000, browsers at another host.

    Here the portal talks to nanio at 127.0.0.1:port and the public name is localhost:port:
    the redirect names the public host, is signed for it, and works there.
    """
    from app.extensions import db

    public = f"http://localhost:{nanio_server.port}"
    storage_url = nanio_server.url(bucket_name())
    builder = make_app(tmp_path, database_url, STORAGE_URL=storage_url)
    with builder.app_context():
        world = build_world()
        web = make_app(tmp_path, database_url, STORAGE_URL=storage_url, STORAGE_PUBLIC_URL=public)
        client = web.test_client()
        headers = api_token(client, world.client_a)
        uploaded = client.post(
            f"/api/v1/spaces/{world.space_a.id}/documents",
            headers=headers,
            data={"file": (io.BytesIO(PDF), "Plano de planta.pdf")},
        )
        assert uploaded.status_code == 201, uploaded.get_json()
        url = f"/api/v1/documents/{uploaded.get_json()['id']}/versions/1/content"

        response = client.get(url, headers=headers)

        assert response.status_code == 303
        presigned = response.headers["Location"]
        assert presigned.startswith(f"{public}/")
        fetched = requests.get(presigned, timeout=30)
        assert fetched.status_code == 200 and fetched.content == PDF
        # Signed for the public host: the same URL sent to the internal name is refused.
        internal = presigned.replace(public, f"http://{nanio_server.endpoint}", 1)
        refused = requests.get(internal, timeout=30)
        assert refused.status_code == 403 and PDF not in refused.content
        db.session.remove()
        db.engine.dispose()
