"""The orphan sweep: blobs no row names are deleted once past the grace period, nothing else."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Campaign,
    CampaignClient,
    DocumentPreview,
    OcrResult,
    PreviewStatus,
)
from app.services import orphan_blobs, uploads
from app.services.runtime import resumable, store

GRACE = timedelta(hours=24)
# Far enough ahead that every blob written by the test is past the grace period.
LATER = timedelta(hours=48)


def _put(data: bytes) -> str:
    return store().put(io.BytesIO(data)).key


def _age(key: str, hours: float) -> None:
    """Make a blob look written `hours` ago (its file's modification time)."""
    path = Path(store().root, *key.split("/"))  # type: ignore[attr-defined]
    when = (datetime.now(UTC) - timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


def _stored() -> set[str]:
    return {key for key, _ in store().iter_blobs()}


def _later() -> datetime:
    return datetime.now(UTC) + LATER


def test_an_orphan_past_the_grace_period_is_deleted_and_audited(world) -> None:
    before = _stored()
    orphan = _put(b"a version whose row never committed")
    _age(orphan, 25)

    assert orphan_blobs.sweep() == 1
    db.session.commit()

    assert orphan not in _stored()
    assert _stored() == before
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "orphan_blobs_deleted")
    ).scalar_one()
    assert event.actor_id is None
    assert event.details["count"] == 1 and event.details["keys"] == [orphan]


def test_a_fresh_orphan_is_left_to_its_commit(world) -> None:
    fresh = _put(b"written a moment ago; its row may be committing now")
    _age(_put(b"written 23 hours ago"), 23)

    assert orphan_blobs.sweep() == 0

    assert fresh in _stored()
    assert (
        db.session.execute(select(AuditEvent.id).where(AuditEvent.action.like("orphan%"))).all()
        == []
    )


def test_every_blob_a_row_names_is_kept(world) -> None:
    version = world.shared.current_version
    preview = DocumentPreview(
        version_id=version.id,
        variant="thumbnail",
        status=PreviewStatus.ready,
        blob_key=_put(b"thumbnail"),
    )
    images = {"overlay-1.jpg": _put(b"overlay"), "to-1.jpg": _put(b"page")}
    manifest = _put(json.dumps({"result": {"pages": []}, "images": images}).encode())
    comparison = DocumentPreview(
        version_id=version.id, variant="compare-1", status=PreviewStatus.ready, blob_key=manifest
    )
    ocr = OcrResult(version_id=version.id, status="done", searchable_blob_key=_put(b"%PDF ocr"))
    campaign = Campaign(
        name="Firma de cuentas",
        kind="signature",
        due_date=date.today(),
        space_kind="fiscal_year",
        space_name="Ejercicio {year}",
        created_by_id=world.staff.id,
    )
    db.session.add_all([preview, comparison, ocr, campaign])
    db.session.flush()
    pdf = store().put(io.BytesIO(b"%PDF cuentas"))
    db.session.add(
        CampaignClient(
            campaign_id=campaign.id,
            client_id=world.firm_a.id,
            source={"key": pdf.key, "sha256": pdf.sha256, "size": pdf.size, "filename": "c.pdf"},
        )
    )
    db.session.commit()
    orphans = {_put(b"orphan one"), _put(b"orphan two")}
    named = _stored() - orphans
    assert {version.blob_key, preview.blob_key, manifest, *images.values(), pdf.key} <= named

    assert set(orphan_blobs.orphans(GRACE, now=_later())) == orphans
    assert orphan_blobs.sweep(now=_later()) == 2

    assert _stored() == named


def test_the_keys_are_checked_a_batch_at_a_time(world, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orphan_blobs, "BATCH", 2)
    orphans = {_put(f"orphan {n}".encode()) for n in range(5)}
    named = _stored() - orphans

    assert orphan_blobs.sweep(now=_later()) == 5

    assert _stored() == named


def test_listing_the_orphans_deletes_nothing(world) -> None:
    orphan = _put(b"orphan")

    assert orphan_blobs.orphans(GRACE, now=_later()) == [orphan]

    assert orphan in _stored()
    assert (
        db.session.execute(select(AuditEvent.id).where(AuditEvent.action.like("orphan%"))).all()
        == []
    )


def _tus_upload(world, data: bytes) -> str:
    status = uploads.start_upload(
        world.client_a,
        length=len(data),
        metadata={"space_id": world.space_a.id, "filename": "plano.pdf"},
    )
    db.session.commit()
    return status.id


def test_an_upload_finished_in_the_store_but_not_yet_a_version_is_kept(world) -> None:
    upload_id = _tus_upload(world, b"%PDF plano")
    resumable().append(upload_id, 0, io.BytesIO(b"%PDF plano"))
    blob = resumable().finish(upload_id)  # the web process dies before the version commits
    orphan = _put(b"orphan")

    assert orphan_blobs.sweep(now=_later()) == 1

    assert blob.key in _stored() and orphan not in _stored()
    # the client asks again: the upload becomes its document with the kept bytes
    status = uploads.upload_status(world.client_a, upload_id)
    db.session.commit()
    assert status.document_id is not None


def test_an_ocr_copy_finished_but_not_recorded_is_kept(world) -> None:
    info = resumable().create(None, {"purpose": "ocr-searchable-copy"})
    db.session.add(
        OcrResult(
            version_id=world.shared.current_version.id,
            status="running",
            searchable_upload_id=info.id,
        )
    )
    db.session.commit()
    resumable().append(info.id, 0, io.BytesIO(b"%PDF searchable"), length=15)
    copy = resumable().finish(info.id)

    assert orphan_blobs.sweep(now=_later()) == 0

    assert copy.key in _stored()


def test_nothing_is_deleted_while_an_upload_with_all_its_bytes_is_being_finished(world) -> None:
    upload_id = _tus_upload(world, b"%PDF plano")
    resumable().append(upload_id, 0, io.BytesIO(b"%PDF plano"))  # complete, not finished yet
    orphan = _put(b"orphan")

    assert orphan_blobs.orphans(GRACE, now=_later()) == []
    assert orphan_blobs.sweep(now=_later()) == 0

    assert orphan in _stored()


def test_the_daily_task_sweeps_and_commits(app, world) -> None:
    from app.extensions import celery
    from app.tasks.uploads import sweep_orphan_blobs

    orphan = _put(b"orphan")
    _age(orphan, 30)

    assert sweep_orphan_blobs.apply().get() == 1

    db.session.rollback()
    assert orphan not in _stored()
    assert db.session.execute(
        select(AuditEvent.id).where(AuditEvent.action == "orphan_blobs_deleted")
    ).all()
    schedule = celery.conf.beat_schedule["sweep-orphan-blobs"]
    assert schedule["task"] == "portal.sweep_orphan_blobs"
    assert app.config["BLOB_ORPHAN_GRACE_HOURS"] == 24
