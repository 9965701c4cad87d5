"""The document page: renaming a document, found by search under its new title only."""

from __future__ import annotations

from portal_testing import CSRF_RE, web_login


def test_staff_rename_a_document_and_search_follows(client, world):
    web_login(client, world.staff)
    page = client.get(f"/documents/{world.shared.id}").get_data(as_text=True)
    assert page.count('id="title"') == 1
    token = CSRF_RE.search(page).group(1)

    blank = client.post(
        f"/documents/{world.shared.id}/rename", data={"csrf_token": token, "title": "  "}
    )
    assert blank.status_code == 422
    assert "Escriba un título." in blank.get_data(as_text=True)

    response = client.post(
        f"/documents/{world.shared.id}/rename",
        data={"csrf_token": token, "title": "Escritura de compraventa Villaverde"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "<h1>Escritura de compraventa Villaverde" in response.get_data(as_text=True)
    found = client.get("/search", query_string={"q": "Villaverde"}).get_data(as_text=True)
    assert "Escritura de compraventa Villaverde" in found
    assert f"/documents/{world.shared.id}" in found
    old = client.get("/search", query_string={"q": "Contrato"}).get_data(as_text=True)
    assert f"/documents/{world.shared.id}" not in old


def test_clients_see_no_rename_form(client, world):
    web_login(client, world.client_a)
    page = client.get(f"/documents/{world.shared.id}").get_data(as_text=True)
    assert f"/documents/{world.shared.id}/rename" not in page


def test_a_document_under_signature_is_kept_with_a_reason_and_deleted_once_cancelled(client, world):
    import io

    from portal_signing import annual_accounts_pdf

    from app.extensions import db
    from app.services import documents, signatures

    accounts = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(annual_accounts_pdf(1)), filename="cuentas.pdf"
    )
    request = signatures.request_signatures(
        world.staff, accounts.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    web_login(client, world.staff)
    page = client.get(f"/documents/{accounts.id}").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    kept = client.post(
        f"/documents/{accounts.id}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    text = kept.get_data(as_text=True)
    assert "solicitud de firma en curso" in text and "Documento eliminado." not in text
    assert client.get(f"/documents/{accounts.id}").status_code == 200

    signatures.cancel_request(world.staff, request.id)
    db.session.commit()
    gone = client.post(
        f"/documents/{accounts.id}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Documento eliminado." in gone.get_data(as_text=True)
    assert client.get(f"/documents/{accounts.id}").status_code == 404
