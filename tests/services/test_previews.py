"""Previews made in the background after an upload, kept once, and failing with a status."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from portal_testing import World
from preview_files import Jobs, dxf_bytes, pdf_pages, png_bytes

from app.extensions import db
from app.models import DocumentPreview, PreviewStatus
from app.services import documents, previews
from app.services.errors import NotFound
from previews import ffmpeg_available


@pytest.fixture
def jobs(app) -> Jobs:
    app.config["PREVIEWS_ON_UPLOAD"] = True
    return Jobs(app)


def upload(world: World, data: bytes, filename: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    document = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(data), filename=filename, **kwargs
    )
    db.session.commit()
    return document


def row(document, variant: str = "thumbnail") -> DocumentPreview:  # type: ignore[no-untyped-def]
    found = previews.preview_for(document.current_version.id, variant)
    assert found is not None
    return found


def stored(found: DocumentPreview) -> bytes:
    from app.services.runtime import store

    assert found.blob_key
    return b"".join(store().open_range(found.blob_key))


def test_an_upload_gets_its_thumbnail_in_the_background(world: World, jobs: Jobs):
    document = upload(world, png_bytes(), "fachada.png", title="Fachada")
    version = document.current_version
    # the upload answered before anything was drawn: the rows wait for their jobs
    assert row(document).status == PreviewStatus.pending
    assert row(document, "view").status == PreviewStatus.pending
    assert sorted(jobs.previews_sent()) == [(version.id, "thumbnail"), (version.id, "view")]
    jobs.run_all()
    db.session.expire_all()
    thumbnail = row(document)
    assert thumbnail.status == PreviewStatus.ready
    with Image.open(io.BytesIO(stored(thumbnail))) as image:
        assert image.format == "WEBP" and image.size == (320, 213)
    view = row(document, "view")
    assert (view.width, view.height) == (1200, 800)  # never enlarged
    # kept beside the original, which is untouched
    assert thumbnail.blob_key != version.blob_key != view.blob_key
    assert documents.read_version_bytes(version, max_size=10**8) == png_bytes()


def test_a_second_request_does_not_draw_again(world: World, jobs: Jobs):
    document = upload(world, pdf_pages(), "planos.pdf")
    version = document.current_version
    first = previews.request_preview(world.staff, document.id, 1, "thumbnail")
    db.session.commit()
    assert jobs.previews_sent() == [(version.id, "thumbnail")]  # asked twice, sent once
    jobs.run_all()
    db.session.expire_all()
    first = row(document)
    assert first.status == PreviewStatus.ready and first.page_count == 3 and first.attempts == 1
    again = previews.request_preview(world.client_a, document.id, 1, "thumbnail")
    db.session.commit()
    assert jobs.sent == []
    assert again.blob_key == first.blob_key and again.attempts == 1


def test_pdf_pages_are_drawn_on_demand(world: World, jobs: Jobs):
    document = upload(world, pdf_pages(), "memoria.pdf")
    jobs.run_all()
    page = previews.request_preview(world.staff, document.id, 1, "page-3")
    db.session.commit()
    assert page.status == PreviewStatus.pending
    jobs.run_all()
    db.session.expire_all()
    page = row(document, "page-3")
    assert page.status == PreviewStatus.ready
    assert max(page.width, page.height) == 1400
    beyond = previews.request_preview(world.staff, document.id, 1, "page-9")
    db.session.commit()
    jobs.run_all()
    db.session.expire_all()
    beyond = row(document, "page-9")
    assert (beyond.status, beyond.error) == (PreviewStatus.failed, "no_such_page")


def test_a_drawing_is_one_svg_for_thumbnail_and_view(world: World, jobs: Jobs):
    document = upload(world, dxf_bytes(), "planta baja.dxf")
    jobs.run_all()
    db.session.expire_all()
    view = row(document, "view")
    assert view.status == PreviewStatus.ready and view.media_type == "image/svg+xml"
    assert b"<svg" in stored(view)
    assert previews.preview_for(document.current_version.id, "thumbnail") is None
    asked = previews.request_preview(world.staff, document.id, 1, "thumbnail")
    assert asked.id == view.id


@pytest.mark.parametrize(
    ("data", "filename", "status", "error"),
    [
        (b"%PDF-1.7\n%roto" + b"\x00" * 64, "roto.pdf", "failed", "corrupt"),
        (png_bytes()[:400], "cortada.png", "failed", "corrupt"),
        (b"solo texto", "nota.txt", "unsupported", "unsupported"),
    ],
)
def test_bad_files_end_with_a_clear_status(world, jobs, data, filename, status, error):
    document = upload(world, data, filename)
    jobs.run_all()
    db.session.expire_all()
    found = previews.request_preview(world.staff, document.id, 1, "thumbnail")
    assert (found.status, found.error) == (status, error)
    assert documents.read_version_bytes(document.current_version, max_size=10**6) == data


def test_a_decompression_bomb_fails_without_harm(world: World, jobs: Jobs):
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # 400 megapixels, a few KB
    document = upload(world, out.getvalue(), "bomba.png")
    jobs.run_all()
    db.session.expire_all()
    assert (row(document).status, row(document).error) == ("failed", "too_large")


def test_a_render_over_its_time_fails_as_timeout(app, world: World, jobs: Jobs):
    app.config["PREVIEW_TIMEOUT"] = 0.01
    document = upload(world, png_bytes(6000, 4500), "grande.png")
    jobs.run_all()
    db.session.expire_all()
    assert (row(document).status, row(document).error) == ("failed", "timeout")


def test_a_job_killed_half_way_is_retried_then_given_up(world: World, jobs: Jobs):
    document = upload(world, png_bytes(), "foto.png")
    version_id = document.current_version.id
    for _ in range(previews.MAX_ATTEMPTS):
        assert previews.claim(version_id, "thumbnail") is not None
        db.session.commit()  # ... and the worker dies before drawing
    assert previews.claim(version_id, "thumbnail") is None
    db.session.commit()
    found = row(document)
    assert (found.status, found.error, found.blob_key) == ("failed", "gave_up", None)


def test_redelivery_of_a_finished_job_changes_nothing(world: World, jobs: Jobs):
    document = upload(world, png_bytes(), "foto.png")
    again = list(jobs.sent)
    jobs.run_all()
    db.session.expire_all()
    key = row(document).blob_key
    jobs.sent = again
    jobs.run_all()
    db.session.expire_all()
    assert row(document).blob_key == key and row(document).attempts == 1


def test_video_poster_or_unsupported_without_ffmpeg(
    world: World, jobs: Jobs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    if not ffmpeg_available():
        pytest.skip("ffmpeg not installed")
    video = tmp_path / "obra.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", "testsrc=duration=2:size=320x240:rate=10", "-pix_fmt", "yuv420p", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    document = upload(world, video.read_bytes(), "obra.mp4")
    jobs.run_all()
    db.session.expire_all()
    assert row(document).status == PreviewStatus.ready
    assert row(document, "view").media_type == "image/webp"
    monkeypatch.setenv("PATH", str(tmp_path))
    later = upload(world, video.read_bytes(), "obra2.mp4")
    assert jobs.previews_sent() == []  # nothing to queue: no tool to draw it
    assert (row(later).status, row(later).error) == ("unsupported", "tool_unavailable")


def test_previews_follow_the_access_rules_of_the_content(world: World, jobs: Jobs):
    shared = world.shared.id
    with pytest.raises(NotFound):
        previews.request_preview(world.client_b, shared, 1, "thumbnail")
    with pytest.raises(NotFound):
        previews.request_preview(world.client_a, world.internal.id, 1, "thumbnail")
    with pytest.raises(NotFound):
        previews.request_preview(world.staff, shared, 1, "page-0")
    assert previews.request_preview(world.client_a, shared, 1, "thumbnail").status


@pytest.mark.celery
def test_a_real_worker_draws_the_thumbnail_in_the_background(
    tmp_path: Path, database_url: str, app, redis_url: str
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
        web = make_app(tmp_path, database_url, CELERY_BROKER_URL=redis_url, PREVIEWS_ON_UPLOAD=True)
        web.extensions.pop("portal_job_runner")
        with web.app_context():
            world = build_world()
            document = documents.upload_document(
                world.staff, world.space_a.id, io.BytesIO(png_bytes()), filename="obra.png"
            )
            db.session.commit()  # the upload is done: the jobs go to Redis only now
            version_id = document.current_version.id
            # the upload answered before anything was drawn
            assert previews.preview_for(version_id, "thumbnail").status == "pending"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                db.session.expire_all()
                found = previews.preview_for(version_id, "thumbnail")
                if found.status != "pending":
                    break
                time.sleep(0.5)
            assert (found.status, found.width, found.height) == ("ready", 320, 213)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
