"""Bad input gets a clear answer and loses nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from portal_testing import api_token, make_app


def _blob_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../x", "x"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("factura\u202efdp.exe", "facturafdp.exe"),
        ("CON", "CON"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_odd_filenames_are_stored_under_server_keys(app, client, world, sent, shown):
    headers = api_token(client, world.staff)
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(b"contenido"), sent)},
    )
    assert response.status_code == 201
    version = response.get_json()["current_version"]
    name = version["filename"]
    assert "/" not in name and "\\" not in name and "\x00" not in name and "\u202e" not in name
    assert name.endswith(shown) and len(name) <= 200
    blobs = Path(app.config["DATA_DIR"]) / "blobs"
    for path in _blob_files(blobs):
        assert path.resolve().is_relative_to(blobs.resolve())
        assert "x" != path.name and "evil" not in path.name
    assert not (Path(app.config["DATA_DIR"]).parent / "x").exists()


def test_html_in_filenames_and_titles_is_shown_escaped(app, client, world):
    from portal_testing import web_login

    headers = api_token(client, world.staff)
    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={
            "file": (io.BytesIO(b"x"), "<img src=x onerror=alert(1)>.pdf"),
            "title": "<b>negrita</b>",
        },
    ).get_json()
    web_login(client, world.staff)
    page = client.get(f"/documents/{created['id']}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    assert "<b>negrita</b>" not in page and "&lt;b&gt;negrita&lt;/b&gt;" in page


def test_upload_over_the_limit_answers_413_and_stores_nothing(tmp_path, database_url, app, world):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Document, DocumentVersion

    small = make_app(tmp_path, database_url, MAX_UPLOAD_SIZE=1024 * 1024)
    client = small.test_client()
    headers = api_token(client, world.staff)
    blobs = Path(app.config["DATA_DIR"]) / "blobs"
    before = _blob_files(blobs)
    documents_before = db.session.execute(select(func.count(Document.id))).scalar_one()
    too_big = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(b"\0" * (2 * 1024 * 1024 + 10)), "grande.bin")},
    )
    assert too_big.status_code == 413
    assert too_big.mimetype == "application/problem+json"
    # just over the limit but under the request margin: refused by the store while streaming
    # (a PDF, since a file of no accepted type is refused before: 415)
    slightly = client.post(
        f"/api/v1/documents/{world.shared.id}/versions",
        headers=headers,
        data={"file": (io.BytesIO(b"%PDF-1.4\n" + b"\0" * (1024 * 1024 + 100)), "algo.pdf")},
    )
    assert slightly.status_code == 413
    db.session.expire_all()
    assert db.session.execute(select(func.count(Document.id))).scalar_one() == documents_before
    assert (
        db.session.execute(
            select(func.count(DocumentVersion.id)).where(
                DocumentVersion.document_id == world.shared.id
            )
        ).scalar_one()
        == 1
    )
    assert _blob_files(blobs) == before
    assert not list((blobs / ".tmp").iterdir())


def test_a_client_cannot_choose_visibility_or_reach_other_clients(app, client, world):
    headers = api_token(client, world.client_a)
    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={
            "file": (io.BytesIO(b"x"), "nomina.pdf"),
            "visibility": "internal",
            "client_id": world.firm_b.id,
        },
    )
    assert created.status_code == 201
    assert created.get_json()["visibility"] == "shared"
    assert created.get_json()["space_id"] == world.space_a.id
    forged = client.post(
        f"/api/v1/clients/{world.firm_b.id}/spaces",
        headers=headers,
        json={"name": "Intrusión", "kind": "case"},
    )
    assert forged.status_code == 404
    other = client.get(
        f"/api/v1/documents/{world.other_doc.id}/versions/1/content", headers=headers
    )
    assert other.status_code == 404
    role = client.post(
        "/api/v1/users", headers=headers, json={"email": "yo@x.es", "name": "Yo", "role": "admin"}
    )
    assert role.status_code == 403


def test_member_permission_cannot_be_given_across_clients(app, client, world):
    headers = api_token(client, world.admin)
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/members",
        headers=headers,
        json={"user_id": world.client_b.id, "permission": "view"},
    )
    assert response.status_code == 422
    assert "user_id" in response.get_json()["errors"]


def test_malformed_json_and_unknown_routes_answer_problem_json(app, client, world):
    headers = api_token(client, world.admin)
    broken = client.post(
        "/api/v1/clients", headers={**headers, "Content-Type": "application/json"}, data="{nope"
    )
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
