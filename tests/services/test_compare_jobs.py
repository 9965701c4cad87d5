"""The compare job: queued after each new version, run once, kept, retried, given up; a real worker."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from compare_samples import plan_set
from preview_files import Jobs

from app.extensions import db
from app.models import PreviewStatus
from app.services import compare, documents

TASK = "portal.compare_versions"


@pytest.fixture
def jobs(app) -> Jobs:
    app.config.update(COMPARE_ON_UPLOAD=True, COMPARE_DPI=72)
    return Jobs(app)


@pytest.fixture
def plans(tmp_path: Path) -> tuple[bytes, bytes]:
    before = plan_set(tmp_path / "A.pdf", [1]).read_bytes()
    return before, plan_set(tmp_path / "B.pdf", [1], {1: ["moved_wall"]}).read_bytes()


def _two_versions(world, plans):  # type: ignore[no-untyped-def]
    document = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(plans[0]), filename="A.pdf"
    )
    db.session.commit()
    documents.upload_version(world.staff, document.id, io.BytesIO(plans[1]), filename="B.pdf")
    db.session.commit()
    return document


def test_a_new_version_queues_its_compare_and_the_job_keeps_it(world, jobs: Jobs, plans):
    document = _two_versions(world, plans)
    newer = document.current_version
    sent = [args for name, args in jobs.sent if name == TASK]
    assert sent == [(newer.id, 1)]  # the first version had nothing to compare with
    row = compare.compare_row(newer.id, 1)
    assert row is not None and row.status == PreviewStatus.pending and row.attempts == 0

    jobs.run_all()
    db.session.expire_all()
    row = compare.compare_row(newer.id, 1)
    assert (row.status, row.media_type, row.page_count) == ("ready", "application/json", 1)
    # asking again sends nothing: the compare is kept
    comparison = compare.request_compare(world.client_a, document.id)
    db.session.commit()
    assert [n for n, _ in jobs.sent if n == TASK] == []
    assert comparison.status == "done" and len(comparison.result.pages[0].changed_areas) == 2
    assert set(comparison.images) == {"overlay-1.jpg", "from-1-on-1.jpg", "to-1.jpg"}
    # a redelivered job finds it finished
    assert jobs._celery.tasks[TASK].apply(args=[newer.id, 1]).get() == "ready"


def test_a_job_that_keeps_dying_is_given_up(world, jobs: Jobs, plans):
    document = _two_versions(world, plans)
    newer = document.current_version
    for _ in range(compare.MAX_ATTEMPTS):
        assert compare.claim(newer.id, 1) is not None  # then the worker dies
        db.session.commit()
    assert compare.claim(newer.id, 1) is None
    db.session.commit()
    row = compare.compare_row(newer.id, 1)
    assert (row.status, row.error) == ("failed", "gave_up")
    assert compare.request_compare(world.staff, document.id).status == "failed"


def test_a_broken_file_fails_with_a_status(world, jobs: Jobs, plans):
    document = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(plans[0]), filename="A.pdf"
    )
    db.session.commit()
    documents.upload_version(
        world.staff, document.id, io.BytesIO(b"%PDF-1.7 roto"), filename="B.pdf"
    )
    db.session.commit()
    jobs.run_all()
    db.session.expire_all()
    comparison = compare.request_compare(world.staff, document.id)
    assert comparison.status == "failed" and comparison.row.error == "corrupt"


@pytest.mark.celery
def test_a_real_worker_compares_in_the_background(
    tmp_path: Path, database_url: str, app, redis_url: str, plans
):
    import os
    import sys
    import time

    from portal_testing import build_world, make_app

    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "PORTAL_BROKER_URL": redis_url,
        "PORTAL_SECRET_KEY": "test-secret",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency=1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        web = make_app(tmp_path, database_url, CELERY_BROKER_URL=redis_url, COMPARE_ON_UPLOAD=True)
        web.extensions.pop("portal_job_runner")
        with web.app_context():
            document = _two_versions(build_world(), plans)
            newer_id = document.current_version.id
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                db.session.expire_all()
                found = compare.compare_row(newer_id, 1)
                if found is not None and found.status != "pending":
                    break
                time.sleep(0.5)
            assert found is not None and found.status == "ready", found and found.error_detail
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
