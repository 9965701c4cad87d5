"""Hostile bodies and paths get a clear 4xx answer and change nothing, never a 500."""

from __future__ import annotations

import io
import json

import pytest
from portal_testing import api_token, web_login

BIG = 2**63  # one beyond the largest 64-bit integer


def _document(client, world, headers) -> dict:
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(b"contenido"), "nota.txt")},
    )
    assert response.status_code == 201
    return response.get_json()


def _comments(client, headers, document_id) -> list:
    return client.get(f"/api/v1/documents/{document_id}/comments", headers=headers).get_json()[
        "items"
    ]


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_deeply_nested_body_is_a_bad_request_even_before_login(client, depth):
    nested = '{"email": ' + "[" * depth + "]" * depth + ', "password": "x"}'
    response = client.post("/api/v1/auth/token", data=nested, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400


def test_a_lone_surrogate_is_refused_and_nothing_is_created(client, world):
    headers = api_token(client, world.staff)
    before = client.get("/api/v1/clients", headers=headers).get_json()["items"]
    raw = json.dumps({"name": "Cliente \ud800", "kind": "person"})  # ensure_ascii keeps it escaped
    response = client.post(
        "/api/v1/clients", data=raw, content_type="application/json", headers=headers
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/clients", headers=headers).get_json()["items"] == before


def test_numbers_beyond_64_bits_in_a_path_are_not_found(client, world):
    headers = api_token(client, world.staff)
    document = _document(client, world, headers)
    for path in (
        f"/api/v1/documents/{document['id']}/versions/{BIG}/content",
        f"/api/v1/documents/{document['id']}/versions/{BIG}/text",
        f"/api/v1/documents/{document['id']}/versions/{BIG * 10**20}/validation",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    web_login(client, world.staff)
    page = client.get(f"/documents/{document['id']}/versions/{BIG}/download")
    assert page.status_code == 404
    assert "text/html" in page.content_type


def test_a_json_body_over_one_mebibyte_is_refused_whole(client, world):
    headers = api_token(client, world.staff)
    document = _document(client, world, headers)
    response = client.post(
        f"/api/v1/documents/{document['id']}/comments",
        headers=headers,
        json={"body": "x" * (2 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert _comments(client, headers, document["id"]) == []


def test_an_over_long_comment_is_refused_not_cut(client, world):
    headers = api_token(client, world.staff)
    document = _document(client, world, headers)
    response = client.post(
        f"/api/v1/documents/{document['id']}/comments",
        headers=headers,
        json={"body": "palabra " * 1000},
    )
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]
    assert _comments(client, headers, document["id"]) == []
    kept = "Línea uno\nLínea dos\ttabulada"
    response = client.post(
        f"/api/v1/documents/{document['id']}/comments", headers=headers, json={"body": kept}
    )
    assert response.status_code == 201
    assert [c["body"] for c in _comments(client, headers, document["id"])] == [kept]


@pytest.mark.parametrize("body", [123, ["a"], {"a": 1}, "con\x00nulo"])
def test_a_comment_that_is_not_plain_text_is_an_invalid_field(client, world, body):
    headers = api_token(client, world.staff)
    document = _document(client, world, headers)
    response = client.post(
        f"/api/v1/documents/{document['id']}/comments", headers=headers, json={"body": body}
    )
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]
    assert _comments(client, headers, document["id"]) == []


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/v1/clients", "name"), ("/api/v1/clients", "tax_id")],
)
@pytest.mark.parametrize("value", ["a" * 100_000, "Nombre\x00con nulo", 42])
def test_names_with_nul_too_long_or_not_text_are_invalid_fields(client, world, path, field, value):
    headers = api_token(client, world.staff)
    before = client.get("/api/v1/clients", headers=headers).get_json()["items"]
    body = {"name": "Cliente correcto", "kind": "company", field: value}
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert client.get("/api/v1/clients", headers=headers).get_json()["items"] == before


@pytest.mark.parametrize("value", ["t" * 301, "título\x00", 7])
def test_a_bad_document_title_is_refused_before_the_file_is_stored(app, client, world, value):
    from pathlib import Path

    headers = api_token(client, world.staff)
    blobs = Path(app.config["DATA_DIR"]) / "blobs"
    before = sorted(p for p in blobs.rglob("*") if p.is_file())
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(b"contenido"), "nota.txt"), "title": str(value)},
    )
    if isinstance(value, int):  # a form field is always text: 7 is a fine title
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert "title" in response.get_json()["errors"]
    assert sorted(p for p in blobs.rglob("*") if p.is_file()) == before


def test_a_space_name_over_200_characters_is_refused_not_cut(client, world):
    headers = api_token(client, world.staff)
    response = client.post(
        f"/api/v1/clients/{world.firm_a.id}/spaces",
        headers=headers,
        json={"name": "e" * 201, "kind": "general"},
    )
    assert response.status_code == 422 and "name" in response.get_json()["errors"]
