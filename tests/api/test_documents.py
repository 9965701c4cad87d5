"""Spaces and documents through the REST API, as an integration would use them."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import unquote

from portal_testing import api_token, pdf_bytes


def test_contract_versions_download_and_restore(client, world):
    staff = api_token(client, world.staff)
    v1 = pdf_bytes("Contrato v1")
    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=staff,
        data={
            "file": (io.BytesIO(v1), "contrato de suministro.pdf"),
            "title": "Contrato de suministro",
        },
    )
    assert created.status_code == 201, created.get_json()
    document = created.get_json()
    assert document["visibility"] == "shared"
    assert document["current_version"]["number"] == 1
    assert document["current_version"]["sha256"] == hashlib.sha256(v1).hexdigest()
    assert document["current_version"]["size"] == len(v1)

    v2 = pdf_bytes("Contrato v2 con cambios")
    second = client.post(
        f"/api/v1/documents/{document['id']}/versions",
        headers=staff,
        data={"file": (io.BytesIO(v2), "contrato-v2.pdf"), "note": "cláusula 4"},
    )
    assert second.status_code == 201
    assert second.get_json()["number"] == 2

    versions = client.get(f"/api/v1/documents/{document['id']}/versions", headers=staff).get_json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    assert versions["next"] is None

    old = client.get(f"/api/v1/documents/{document['id']}/versions/1/content", headers=staff)
    assert old.status_code == 200
    assert old.data == v1
    assert old.headers["ETag"] == f'"{hashlib.sha256(v1).hexdigest()}"'
    assert old.headers["Content-Disposition"].startswith("attachment;")
    assert "contrato%20de%20suministro.pdf" in old.headers["Content-Disposition"]

    restored = client.post(f"/api/v1/documents/{document['id']}/versions/1/restore", headers=staff)
    assert restored.status_code == 201
    body = restored.get_json()
    assert body["number"] == 3 and body["source"] == "restore"
    assert body["sha256"] == hashlib.sha256(v1).hexdigest()
    current = client.get(f"/api/v1/documents/{document['id']}", headers=staff).get_json()
    assert current["current_version"]["number"] == 3
    assert (
        client.get(f"/api/v1/documents/{document['id']}/versions/3/content", headers=staff).data
        == v1
    )
    # version 2 is untouched
    assert (
        client.get(f"/api/v1/documents/{document['id']}/versions/2/content", headers=staff).data
        == v2
    )


def test_range_and_conditional_requests(client, world):
    headers = api_token(client, world.client_a)
    url = f"/api/v1/documents/{world.shared.id}/versions/1/content"
    full = client.get(url, headers=headers)
    partial = client.get(url, headers={**headers, "Range": "bytes=5-9"})
    assert partial.status_code == 206
    assert partial.data == full.data[5:10]
    assert partial.headers["Content-Range"] == f"bytes 5-9/{len(full.data)}"
    suffix = client.get(url, headers={**headers, "Range": "bytes=-4"})
    assert suffix.status_code == 206 and suffix.data == full.data[-4:]
    beyond = client.get(url, headers={**headers, "Range": "bytes=9999-"})
    assert beyond.status_code == 416
    cached = client.get(url, headers={**headers, "If-None-Match": full.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""


def test_unicode_filename_is_encoded_per_rfc6266(client, world):
    headers = api_token(client, world.staff)
    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(b"datos"), "Año fiscal «2025» ñ.pdf")},
    ).get_json()
    response = client.get(f"/api/v1/documents/{created['id']}/versions/1/content", headers=headers)
    disposition = response.headers["Content-Disposition"]
    fallback, encoded = disposition.split("filename*=UTF-8''")
    assert unquote(encoded) == "Año fiscal «2025» ñ.pdf"
    assert fallback.encode("ascii")  # the plain filename= part is pure ASCII


def test_client_lists_only_shared_documents_and_own_spaces(client, world):
    headers = api_token(client, world.client_a)
    spaces = client.get(f"/api/v1/clients/{world.firm_a.id}/spaces", headers=headers).get_json()
    assert [s["name"] for s in spaces["items"]] == ["Litigio 2026/114"]
    docs = client.get(f"/api/v1/spaces/{world.space_a.id}/documents", headers=headers).get_json()
    assert [d["title"] for d in docs["items"]] == ["Certificado de retenciones", "Contrato"]
    clients = client.get("/api/v1/clients", headers=headers).get_json()
    assert [c["name"] for c in clients["items"]] == ["Petrolera del Norte S.A."]
    staff_docs = client.get(
        f"/api/v1/spaces/{world.space_a.id}/documents", headers=api_token(client, world.staff)
    ).get_json()
    assert sorted(d["title"] for d in staff_docs["items"]) == ["Certificado de retenciones", "Contrato", "Memo"]


def test_filter_documents_by_title_and_state(client, world):
    headers = api_token(client, world.staff)
    found = client.get(
        f"/api/v1/spaces/{world.space_a.id}/documents?q=contr", headers=headers
    ).get_json()
    assert [d["title"] for d in found["items"]] == ["Contrato"]
    by_state = client.get(
        f"/api/v1/spaces/{world.space_a.id}/documents?state=validated", headers=headers
    ).get_json()
    assert by_state["items"] == []


def test_create_client_space_member_and_user(client, world):
    admin = api_token(client, world.admin)
    firm = client.post(
        "/api/v1/clients", headers=admin, json={"name": "Obras Levante S.L.", "kind": "company"}
    )
    assert firm.status_code == 201
    firm_id = firm.get_json()["id"]
    space = client.post(
        f"/api/v1/clients/{firm_id}/spaces",
        headers=admin,
        json={"name": "Edificio A", "kind": "project"},
    )
    assert space.status_code == 201
    user = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "email": "Jefe@Obras.es",
            "name": "Jefe de obra",
            "role": "client",
            "client_id": firm_id,
            "password": "una clave larga",
        },
    )
    assert user.status_code == 201
    assert user.get_json()["email"] == "jefe@obras.es"
    member = client.post(
        f"/api/v1/spaces/{space.get_json()['id']}/members",
        headers=admin,
        json={"user_id": user.get_json()["id"], "permission": "contribute"},
    )
    assert member.status_code == 201
    jefe = client.post(
        "/api/v1/auth/token", json={"email": "jefe@obras.es", "password": "una clave larga"}
    )
    spaces = client.get(
        f"/api/v1/clients/{firm_id}/spaces",
        headers={"Authorization": f"Bearer {jefe.get_json()['token']}"},
    ).get_json()
    assert [s["name"] for s in spaces["items"]] == ["Edificio A"]


def test_invalid_fields_answer_422_with_errors(client, world):
    admin = api_token(client, world.admin)
    response = client.post(
        "/api/v1/users", headers=admin, json={"email": "nope", "name": "", "role": "boss"}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) >= {"email", "name", "role"}
    missing_client = client.post(
        "/api/v1/users", headers=admin, json={"email": "c@x.es", "name": "C", "role": "client"}
    )
    assert missing_client.status_code == 422 and "client_id" in missing_client.get_json()["errors"]
    bad_space = client.post(
        f"/api/v1/clients/{world.firm_a.id}/spaces",
        headers=admin,
        json={"name": "X", "kind": "boat"},
    )
    assert bad_space.status_code == 422 and "kind" in bad_space.get_json()["errors"]
    no_file = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents", headers=admin, data={"title": "x"}
    )
    assert no_file.status_code == 422 and "file" in no_file.get_json()["errors"]


def test_token_revocation_and_unauthenticated_answers(client, world):
    headers = api_token(client, world.staff)
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == world.staff.email
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401 and after.mimetype == "application/problem+json"
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401
