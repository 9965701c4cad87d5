"""Resumable uploads (tus 1.0) at /api/v1/uploads/: every answer of the protocol, file types,
quotas, sessions, expiry and a full disk (filesystem store)."""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from portal_testing import CSRF_RE, api_token, make_user, web_login

TUS = {"Tus-Resumable": "1.0.0"}
PATCH = {**TUS, "Content-Type": "application/offset+octet-stream"}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 80  # 20 489 bytes, recognised as a PDF
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 9000


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def create(client, headers, length: int | None, **fields: str):
    extra = {"Upload-Length": str(length)} if length is not None else {"Upload-Defer-Length": "1"}
    return client.post(
        "/api/v1/uploads/",
        headers={**headers, **TUS, **extra, "Upload-Metadata": metadata(**fields)},
    )


def patch(client, headers, url: str, offset: int, data: bytes, **extra: str):
    return client.patch(
        url, headers={**headers, **PATCH, "Upload-Offset": str(offset), **extra}, data=data
    )


def documents_in(client, headers, space_id: str) -> list[dict]:
    return client.get(f"/api/v1/spaces/{space_id}/documents", headers=headers).get_json()["items"]


def blob_files(tmp_path: Path) -> list[Path]:
    """Stored blobs (the tus working folder and temporary files aside)."""
    root = tmp_path / "blobs"
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).parts[0].startswith(".")
    ]


@pytest.fixture
def client_a(client, world):
    return api_token(client, world.client_a)


def test_options_advertises_the_protocol(client, client_a):
    response = client.options("/api/v1/uploads/", headers=client_a)
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    extensions = response.headers["Tus-Extension"].split(",")
    assert {"creation", "termination", "checksum", "expiration"} <= set(extensions)
    assert int(response.headers["Tus-Max-Size"]) == 50 * 1024**3
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_upload_in_chunks_becomes_a_document_only_at_the_end(client, world, client_a):
    before = len(documents_in(client, client_a, world.space_a.id))
    created = create(
        client,
        client_a,
        len(PDF),
        space_id=world.space_a.id,
        filename="Plano 3.pdf",
        title="Plano de planta",
        note="primera entrega",
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    assert url.startswith("/api/v1/uploads/")
    assert created.headers["Tus-Resumable"] == "1.0.0"
    assert "GMT" in created.headers["Upload-Expires"]

    first = patch(client, client_a, url, 0, PDF[:9000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "9000"
    assert "Portal-Document-Id" not in first.headers
    head = client.head(url, headers={**client_a, **TUS})
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "9000"
    assert head.headers["Upload-Length"] == str(len(PDF))
    assert head.headers["Cache-Control"] == "no-store"
    assert len(documents_in(client, client_a, world.space_a.id)) == before  # not visible yet

    last = patch(client, client_a, url, 9000, PDF[9000:])
    assert last.status_code == 204
    assert last.headers["Upload-Offset"] == str(len(PDF))
    document_id = last.headers["Portal-Document-Id"]
    assert last.headers["Portal-Version"] == "1"
    document = client.get(f"/api/v1/documents/{document_id}", headers=client_a).get_json()
    assert document["title"] == "Plano de planta"
    assert document["visibility"] == "shared"
    version = document["current_version"]
    assert version["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert version["size"] == len(PDF)
    assert version["filename"] == "Plano 3.pdf"
    assert version["note"] == "primera entrega"
    content = client.get(f"/api/v1/documents/{document_id}/versions/1/content", headers=client_a)
    assert content.data == PDF
    assert len(documents_in(client, client_a, world.space_a.id)) == before + 1

    # The answer stays: a client that lost the last response asks again.
    again = client.head(url, headers={**client_a, **TUS})
    assert again.headers["Upload-Offset"] == str(len(PDF))
    assert again.headers["Portal-Document-Id"] == document_id
    replay = patch(client, client_a, url, len(PDF), b"")
    assert replay.status_code == 204 and replay.headers["Portal-Document-Id"] == document_id
    assert len(documents_in(client, client_a, world.space_a.id)) == before + 1


def test_upload_onto_a_document_is_a_new_version(client, world):
    staff = api_token(client, world.staff)
    created = create(
        client, staff, len(PDF), document_id=world.shared.id, filename="contrato-v2.pdf"
    )
    url = created.headers["Location"]
    done = patch(client, staff, url, 0, PDF)
    assert done.headers["Portal-Document-Id"] == world.shared.id
    assert done.headers["Portal-Version"] == "2"
    versions = client.get(f"/api/v1/documents/{world.shared.id}/versions", headers=staff).get_json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    old = client.get(f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=staff)
    assert old.data == b"%PDF-1.4 contrato v1"


def test_sha1_checksums_are_checked(client, world, client_a):
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    good = "sha1 " + base64.b64encode(hashlib.sha1(PDF[:5000]).digest()).decode()
    assert (
        patch(client, client_a, url, 0, PDF[:5000], **{"Upload-Checksum": good}).status_code == 204
    )
    bad = "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    refused = patch(client, client_a, url, 5000, PDF[5000:10000], **{"Upload-Checksum": bad})
    assert refused.status_code == 460
    assert refused.mimetype == "application/problem+json"
    assert client.head(url, headers={**client_a, **TUS}).headers["Upload-Offset"] == "5000"
    unknown = patch(client, client_a, url, 5000, PDF[5000:], **{"Upload-Checksum": "md5 AAAA"})
    assert unknown.status_code == 400


def test_wrong_offset_answers_409_with_the_real_one(client, world, client_a):
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    patch(client, client_a, url, 0, PDF[:9000])
    response = patch(client, client_a, url, 4000, PDF[4000:])
    assert response.status_code == 409
    assert response.headers["Upload-Offset"] == "9000"


def test_protocol_errors(client, world, client_a):
    no_version = client.post("/api/v1/uploads/", headers={**client_a, "Upload-Length": "10"})
    assert no_version.status_code == 412
    assert no_version.headers["Tus-Version"] == "1.0.0"
    no_length = client.post(
        "/api/v1/uploads/",
        headers={**client_a, **TUS, "Upload-Metadata": metadata(space_id=world.space_a.id)},
    )
    assert no_length.status_code == 400
    no_target = create(client, client_a, 10, filename="a.pdf")
    assert no_target.status_code == 422
    bad_metadata = client.post(
        "/api/v1/uploads/",
        headers={**client_a, **TUS, "Upload-Length": "5", "Upload-Metadata": "space_id ***"},
    )
    assert bad_metadata.status_code == 400
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    wrong_type = client.patch(
        url,
        headers={
            **client_a,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/octet-stream",
        },
        data=PDF,
    )
    assert wrong_type.status_code == 415
    no_offset = client.patch(url, headers={**client_a, **PATCH}, data=PDF)
    assert no_offset.status_code == 400
    beyond = patch(client, client_a, url, 0, PDF + b"more")
    assert beyond.status_code == 413
    unknown = client.head(
        "/api/v1/uploads/0123456789abcdef0123456789abcdef", headers={**client_a, **TUS}
    )
    assert unknown.status_code == 404


def test_size_limit_at_creation(app, tmp_path, database_url, world):
    from portal_testing import make_app

    small = make_app(tmp_path, database_url, MAX_UPLOAD_SIZE=1000).test_client()
    headers = api_token(small, world.client_a)
    response = create(small, headers, 1001, space_id=world.space_a.id, filename="a.pdf")
    assert response.status_code == 413
    assert "1000 B" in response.get_json()["detail"]
    assert small.options("/api/v1/uploads/", headers=headers).headers["Tus-Max-Size"] == "1000"


def test_deferred_length(client, world, client_a):
    created = create(client, client_a, None, space_id=world.space_a.id, filename="a.pdf")
    assert created.status_code == 201
    url = created.headers["Location"]
    assert client.head(url, headers={**client_a, **TUS}).headers["Upload-Defer-Length"] == "1"
    patch(client, client_a, url, 0, PDF[:9000])
    done = patch(client, client_a, url, 9000, PDF[9000:], **{"Upload-Length": str(len(PDF))})
    assert done.status_code == 204
    assert "Portal-Document-Id" in done.headers


def test_empty_file_is_complete_at_creation(client, world, client_a):
    created = create(client, client_a, 0, space_id=world.space_a.id, filename="vacío.txt")
    assert created.status_code == 201
    assert created.headers["Upload-Offset"] == "0"
    assert "Portal-Document-Id" in created.headers


def test_termination(client, world, client_a):
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    patch(client, client_a, url, 0, PDF[:9000])
    assert client.delete(url, headers={**client_a, **TUS}).status_code == 204
    assert client.head(url, headers={**client_a, **TUS}).status_code == 404
    assert patch(client, client_a, url, 9000, PDF[9000:]).status_code == 404


def test_only_the_creator_may_touch_an_upload(client, world, client_a):
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    for user in (world.admin, world.staff, world.client_b):
        other = api_token(client, user)
        for response in (
            client.head(url, headers={**other, **TUS}),
            patch(client, other, url, 0, PDF),
            client.delete(url, headers={**other, **TUS}),
        ):
            assert response.status_code == 404
    assert client.head(url, headers={**client_a, **TUS}).headers["Upload-Offset"] == "0"


def test_access_is_checked_at_creation(client, world):
    viewer = make_user("client", client_id=world.firm_a.id)
    from app.services import clients

    clients.add_member(world.admin, world.space_a.id, user_id=viewer.id, permission="view")
    from app.extensions import db

    db.session.commit()
    response = create(
        client, api_token(client, viewer), 10, space_id=world.space_a.id, filename="a.pdf"
    )
    assert response.status_code == 403
    hidden = create(
        client, api_token(client, world.client_b), 10, space_id=world.space_a.id, filename="a.pdf"
    )
    assert hidden.status_code == 404
    assert hidden.get_json()["detail"] == "Not found"
    internal = create(
        client,
        api_token(client, world.client_a),
        10,
        document_id=world.internal.id,
        filename="a.txt",
    )
    assert internal.status_code == 404


def test_clients_cannot_choose_internal(client, world, client_a):
    url = create(
        client,
        client_a,
        len(PDF),
        space_id=world.space_a.id,
        filename="a.pdf",
        visibility="internal",
    ).headers["Location"]
    done = patch(client, client_a, url, 0, PDF)
    document = client.get(
        f"/api/v1/documents/{done.headers['Portal-Document-Id']}", headers=client_a
    )
    assert document.get_json()["visibility"] == "shared"


def test_expired_upload_answers_410_and_is_cleaned_up(
    app, web_app, client, world, client_a, tmp_path
):
    from storage import build_resumable
    from storage.resumable import DEFAULT_TTL

    now = [datetime.now(UTC)]
    uploads = build_resumable(web_app.extensions["portal_store"], clock=lambda: now[0])
    web_app.extensions["portal_uploads"] = uploads
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    patch(client, client_a, url, 0, PDF[:9000])
    now[0] += DEFAULT_TTL + timedelta(minutes=1)
    assert client.head(url, headers={**client_a, **TUS}).status_code == 410
    assert patch(client, client_a, url, 9000, PDF[9000:]).status_code == 410

    from app.extensions import db
    from app.models import Upload
    from app.services.uploads import expire_uploads

    app.extensions["portal_uploads"] = build_resumable(
        app.extensions["portal_store"], clock=lambda: now[0]
    )
    assert expire_uploads(now[0]) >= 1
    db.session.commit()
    assert db.session.get(Upload, url.rsplit("/", 1)[1]) is None
    assert not list((tmp_path / "blobs" / ".uploads").glob("*.part"))
    assert client.head(url, headers={**client_a, **TUS}).status_code == 404


def test_busy_upload_answers_423(client, world, client_a, tmp_path):
    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    part = tmp_path / "blobs" / ".uploads" / f"{url.rsplit('/', 1)[1]}.part"
    fd = os.open(part, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another request is writing to it
        assert patch(client, client_a, url, 0, PDF).status_code == 423
    finally:
        os.close(fd)
    assert patch(client, client_a, url, 0, PDF).status_code == 204


# ---------------------------------------------------------------- file types


def test_disallowed_type_is_refused_from_the_first_chunk(client, world, client_a, tmp_path):
    blobs_before = blob_files(tmp_path)
    url = create(
        client, client_a, len(EXE), space_id=world.space_a.id, filename="factura.pdf"
    ).headers["Location"]
    response = patch(client, client_a, url, 0, EXE)
    assert response.status_code == 415
    body = response.get_json()
    assert "exe" in body["detail"] and "pdf" in body["detail"]
    assert client.head(url, headers={**client_a, **TUS}).status_code == 404
    assert blob_files(tmp_path) == blobs_before
    assert not list((tmp_path / "blobs" / ".uploads").glob("*.part"))


def test_disallowed_type_in_small_chunks_is_refused_at_the_end(client, world, client_a, tmp_path):
    blobs_before = blob_files(tmp_path)
    before = len(documents_in(client, client_a, world.space_a.id))
    url = create(client, client_a, len(EXE), space_id=world.space_a.id, filename="x.bin").headers[
        "Location"
    ]
    assert patch(client, client_a, url, 0, EXE[:100]).status_code == 204
    response = patch(client, client_a, url, 100, EXE[100:])
    assert response.status_code == 415
    assert blob_files(tmp_path) == blobs_before
    assert len(documents_in(client, client_a, world.space_a.id)) == before


def test_multipart_upload_of_a_disallowed_type_stores_nothing(client, world, client_a, tmp_path):
    blobs_before = blob_files(tmp_path)
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=client_a,
        data={"file": (io.BytesIO(EXE), "programa.exe")},
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "exe" in response.get_json()["detail"]
    assert blob_files(tmp_path) == blobs_before


def test_admin_changes_the_allow_list(app, client, world, client_a):
    from app.extensions import db
    from app.services.settings import update_setting

    update_setting(world.admin, "upload_allowed_types", ["pdf"])
    db.session.commit()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    refused = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=client_a,
        data={"file": (io.BytesIO(png), "foto.png")},
    )
    assert refused.status_code == 415
    accepted = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=client_a,
        data={"file": (io.BytesIO(PDF), "doc.pdf")},
    )
    assert accepted.status_code == 201


def test_detected_kinds():
    from app.services.file_types import detect_kind

    assert detect_kind(PDF, "x.bin") == "pdf"
    assert detect_kind(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "foto") == "jpg"
    assert detect_kind(b"fecha;importe\n2026-01-01;1.234,56\n", "banco.csv") == "csv"
    assert detect_kind("Nota en español\n".encode("cp1252"), "nota.txt") == "txt"
    assert detect_kind(b"  0\nSECTION\n  2\nHEADER\n", "plano.dxf") == "dxf"
    assert detect_kind(b"AC1032\x00\x00\x00\x00\x00\x00", "plano.dwg") == "dwg"
    assert detect_kind(b"\x00\x01\x02\x03" * 100, "raro.bin") is None
    assert detect_kind(EXE, "factura.pdf") == "exe"


# ---------------------------------------------------------------- quotas


def _set_quota(world, quota: int | None) -> None:
    from app.extensions import db
    from app.services import quotas

    quotas.set_quota(world.admin, world.firm_a.id, quota)
    db.session.commit()


def test_quota_is_checked_at_creation_with_a_clear_message(client, world, client_a):
    from app.services.quotas import client_usage

    used = client_usage(world.firm_a.id)
    _set_quota(world, used + 1000)
    response = create(client, client_a, 1001, space_id=world.space_a.id, filename="a.pdf")
    assert response.status_code == 413
    body = response.get_json()
    assert body["quota"] == used + 1000
    assert "cuota" in body["detail"]
    assert (
        create(client, client_a, 1000, space_id=world.space_a.id, filename="a.pdf").status_code
        == 201
    )
    # The unfinished upload holds its room: a second one no longer fits.
    assert (
        create(client, client_a, 10, space_id=world.space_a.id, filename="b.pdf").status_code == 413
    )
    other_client = api_token(client, world.client_b)
    assert (
        create(client, other_client, 5000, space_id=world.space_b.id, filename="c.pdf").status_code
        == 201
    )


def test_quota_applies_to_multipart_uploads(client, world, client_a, tmp_path):
    from app.services.quotas import client_usage

    _set_quota(world, client_usage(world.firm_a.id) + 100)
    blobs_before = blob_files(tmp_path)
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=client_a,
        data={"file": (io.BytesIO(PDF), "doc.pdf")},
    )
    assert response.status_code == 413
    assert "cuota" in response.get_json()["detail"]
    assert blob_files(tmp_path) == blobs_before


# ---------------------------------------------------------------- the browser session


def test_session_needs_the_csrf_header(client, world):
    web_login(client, world.client_a)
    fields = {"space_id": world.space_a.id, "filename": "a.pdf"}
    without = client.post(
        "/api/v1/uploads/",
        headers={**TUS, "Upload-Length": str(len(PDF)), "Upload-Metadata": metadata(**fields)},
    )
    assert without.status_code == 403
    token = CSRF_RE.search(client.get("/account/").get_data(as_text=True)).group(1)
    csrf = {"X-CSRFToken": token}
    created = create(client, csrf, len(PDF), **fields)
    assert created.status_code == 201
    url = created.headers["Location"]
    assert client.head(url, headers=TUS).headers["Upload-Offset"] == "0"
    assert patch(client, {}, url, 0, PDF).status_code == 403
    done = patch(client, csrf, url, 0, PDF)
    assert done.status_code == 204 and "Portal-Document-Id" in done.headers


def test_session_is_not_accepted_elsewhere_in_the_api(client, world):
    web_login(client, world.client_a)
    assert client.get("/api/v1/me").status_code == 401


def test_no_session_no_token_is_401(client, world):
    response = create(client, {}, 10, space_id=world.space_a.id, filename="a.pdf")
    assert response.status_code == 401


# ---------------------------------------------------------------- a full disk


def test_disk_full_mid_upload_is_a_clean_507(client, world, client_a, tmp_path, monkeypatch):
    from storage.resumable_fs import FilesystemUploads

    url = create(client, client_a, len(PDF), space_id=world.space_a.id, filename="a.pdf").headers[
        "Location"
    ]
    assert patch(client, client_a, url, 0, PDF[:9000]).status_code == 204
    before = len(documents_in(client, client_a, world.space_a.id))

    def full(self, fd, data, position):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FilesystemUploads, "_write_at", full)
    response = patch(client, client_a, url, 9000, PDF[9000:])
    assert response.status_code == 507
    assert response.mimetype == "application/problem+json"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert len(documents_in(client, client_a, world.space_a.id)) == before
    assert client.head(url, headers={**client_a, **TUS}).headers["Upload-Offset"] == "9000"
    monkeypatch.undo()
    done = patch(client, client_a, url, 9000, PDF[9000:])
    assert done.status_code == 204 and "Portal-Document-Id" in done.headers


def test_disk_full_on_a_multipart_upload_leaves_the_previous_version(
    client, world, tmp_path, monkeypatch
):
    from storage import FilesystemStore

    staff = api_token(client, world.staff)

    class Full(io.RawIOBase):
        def writable(self):
            return True

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_temp(self):
        return Full(), str(tmp_path / "blobs" / ".tmp" / "never-created")

    monkeypatch.setattr(FilesystemStore, "_create_temp", full_temp)
    response = client.post(
        f"/api/v1/documents/{world.shared.id}/versions",
        headers=staff,
        data={"file": (io.BytesIO(PDF), "contrato-v2.pdf")},
    )
    assert response.status_code == 507
    versions = client.get(f"/api/v1/documents/{world.shared.id}/versions", headers=staff).get_json()
    assert [v["number"] for v in versions["items"]] == [1]
    assert (
        client.get(f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=staff).data
        == b"%PDF-1.4 contrato v1"
    )
