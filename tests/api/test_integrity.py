"""A blob corrupted on disk: the integrity task flags it, downloads are refused, admins are told."""

from __future__ import annotations

from pathlib import Path

from portal_testing import api_token, web_login


def _blob_path(tmp_path: Path, key: str) -> Path:
    return tmp_path / "blobs" / Path(*key.split("/"))


def test_corrupted_blob_is_flagged_refused_and_alerted(app, client, world, tmp_path):
    from app.extensions import db
    from app.models import Alert, Notification
    from app.tasks.uploads import check_integrity

    version = world.shared.current_version
    path = _blob_path(tmp_path, version.blob_key)
    assert path.read_bytes() == b"%PDF-1.4 contrato v1"

    assert check_integrity.apply().get() == 0  # everything intact at first
    path.write_bytes(b"%PDF-1.4 contrato v9")  # a flipped byte on the disk

    assert check_integrity.apply().get() == 1
    db.session.expire_all()

    staff = api_token(client, world.staff)
    response = client.get(f"/api/v1/documents/{world.shared.id}/versions/1/content", headers=staff)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Content corrupted"
    assert b"contrato" not in response.data
    ranged = client.get(
        f"/api/v1/documents/{world.shared.id}/versions/1/content",
        headers={**staff, "Range": "bytes=0-3"},
    )
    assert ranged.status_code == 500 and b"%PDF" not in ranged.data

    web_login(client, world.client_a)
    page = client.get(f"/documents/{world.shared.id}/versions/1/download")
    assert page.status_code == 500
    assert "Archivo dañado" in page.get_data(as_text=True)
    assert b"contrato v9" not in page.data

    alert = db.session.query(Alert).filter_by(kind="integrity").one()
    assert alert.target_id == version.id
    assert alert.resolved_at is None
    told = db.session.query(Notification).filter_by(kind="alert_integrity").all()
    assert {n.user_id for n in told} == {world.admin.id}
    admin = api_token(client, world.admin)
    alerts = client.get("/api/v1/alerts", headers=admin).get_json()["items"]
    assert any(a["kind"] == "integrity" for a in alerts)

    # The next runs neither re-alert nor re-check the damaged blob; other versions still serve.
    assert check_integrity.apply().get() == 0
    assert db.session.query(Alert).filter_by(kind="integrity").count() == 1
    internal = client.get(
        f"/api/v1/documents/{world.internal.id}/versions/1/content", headers=staff
    )
    assert internal.status_code == 200 and internal.data == b"memo interno"


def test_missing_blob_is_flagged(app, client, world, tmp_path):
    from app.extensions import db
    from app.models import BlobCheck
    from app.services import integrity

    version = world.internal.current_version
    _blob_path(tmp_path, version.blob_key).unlink()
    report = integrity.check_sample()
    db.session.commit()
    assert report.corrupted == [version.blob_key]
    assert db.session.get(BlobCheck, version.blob_key).problem == "missing"


def test_sample_rotates_through_the_blobs(app, world):
    from app.extensions import db
    from app.models import BlobCheck, DocumentVersion
    from app.services import integrity

    keys = {v.blob_key for v in db.session.query(DocumentVersion)}
    first = integrity.check_sample(max_blobs=2)
    db.session.commit()
    second = integrity.check_sample(max_blobs=len(keys) - 2)
    db.session.commit()
    assert first.checked == 2 and second.checked == len(keys) - 2
    assert {row.blob_key for row in db.session.query(BlobCheck)} == keys
