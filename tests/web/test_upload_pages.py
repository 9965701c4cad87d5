"""Upload pages: the uploader above the plain form, file types and quotas set by an admin."""

from __future__ import annotations

import io

from portal_testing import CSRF_RE, web_login


def _token(client, path: str) -> str:
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def test_space_page_has_the_uploader_and_the_plain_form(client, world, web_app):
    web_login(client, world.client_a)
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert f'action="/spaces/{world.space_a.id}/upload"' in page  # the fallback without JavaScript
    assert "data-upload-fallback" in page
    from app.blueprints.uploads import _bundle_installed

    if _bundle_installed(str(web_app.static_folder)):
        assert "data-uploader" in page
        assert 'data-target-name="space_id"' in page
        assert "/static/upload.js" in page and "/static/vendor/uppy/uppy.min.css" in page
        assert 'capture="environment"' in page
        assert 'data-meta="visibility"' not in page  # clients never choose visibility
        assert "<script>" not in page and "style=" not in page  # the CSP allows neither


def test_without_the_bundle_only_the_plain_form(client, world, web_app, monkeypatch):
    from app.blueprints import uploads

    monkeypatch.setattr(uploads, "_bundle_installed", lambda folder: False)
    web_login(client, world.staff)
    page = client.get(f"/documents/{world.shared.id}").get_data(as_text=True)
    assert "data-uploader" not in page
    assert f'action="/documents/{world.shared.id}/versions"' in page


def test_plain_form_refuses_a_disallowed_type_with_the_reason(client, world):
    web_login(client, world.client_a)
    token = _token(client, f"/spaces/{world.space_a.id}")
    response = client.post(
        f"/spaces/{world.space_a.id}/upload",
        data={
            "up-csrf_token": token,
            "up-file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 600), "programa.pdf"),
            "up-visibility": "shared",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "no se admite (exe)" in response.get_data(as_text=True)


def test_admin_edits_the_allowed_types(app, client, world):
    web_login(client, world.admin)
    page = client.get("/admin/uploads").get_data(as_text=True)
    assert "pdf, jpg" in page and "dwg" in page
    token = _token(client, "/admin/uploads")
    wrong = client.post("/admin/uploads", data={"csrf_token": token, "kinds": "pdf, nonsense"})
    assert wrong.status_code == 422
    assert "nonsense" in wrong.get_data(as_text=True)
    saved = client.post("/admin/uploads", data={"csrf_token": token, "kinds": "pdf .DWG, mp4"})
    assert saved.status_code == 302
    from app.extensions import db
    from app.services.settings import get_setting

    db.session.expire_all()
    assert get_setting("upload_allowed_types") == ["pdf", "dwg", "mp4"]


def test_admin_sets_a_clients_quota(app, client, world):
    web_login(client, world.admin)
    page = client.get(f"/clients/{world.firm_a.id}").get_data(as_text=True)
    assert "sin límite" in page
    token = _token(client, f"/clients/{world.firm_a.id}")
    response = client.post(
        f"/clients/{world.firm_a.id}/quota", data={"csrf_token": token, "quota_gb": "2.5"}
    )
    assert response.status_code == 302
    page = client.get(f"/clients/{world.firm_a.id}").get_data(as_text=True)
    assert "de 2,5 GB" in page
    from app.extensions import db
    from app.models import Client

    db.session.expire_all()
    assert db.session.get(Client, world.firm_a.id).storage_quota == int(2.5 * 1024**3)
    client.post(f"/clients/{world.firm_a.id}/quota", data={"csrf_token": token, "quota_gb": ""})
    db.session.expire_all()
    assert db.session.get(Client, world.firm_a.id).storage_quota is None


def test_staff_do_not_see_the_quota_form(client, world):
    web_login(client, world.staff)
    page = client.get(f"/clients/{world.firm_a.id}").get_data(as_text=True)
    assert 'id="quota"' not in page
