"""A real Celery worker over Redis killed with SIGKILL in the middle of an OCR job."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import ocr_samples as samples
import pytest
from PIL import Image, ImageDraw
from portal_testing import BACKEND, make_app

pytestmark = [pytest.mark.celery, pytest.mark.timeout(900)]

#: Seconds before Redis hands a dead worker's task to another worker (4 hours in production).
VISIBILITY_TIMEOUT = 5
WORDS = ("Albarracín", "Peñíscola", "Cudillero", "Frigiliana")


def scanned_pdf(words: tuple[str, ...]) -> bytes:
    """A scanner's PDF: one image per page, no text layer, one word of ``words`` per page."""
    font = samples._font(64)
    pages = []
    for number, word in enumerate(words, start=1):
        image = Image.new("L", (1240, 877), 255)
        draw = ImageDraw.Draw(image)
        draw.text((120, 200), f"Acta de inspección, página {number}", font=font, fill=0)
        draw.text((120, 400), f"Municipio de {word}", font=font, fill=0)
        pages.append(image)
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    return out.getvalue()


def start_worker(env: dict[str, str], queue: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    """A Celery worker process of the portal, in its own process group, on its own queue."""
    code = (
        "import sys; from app import create_app; "
        "create_app().extensions['celery'].worker_main(sys.argv[1:])"
    )
    argv = [
        sys.executable, "-c", code, "worker", "--loglevel=INFO", "--without-gossip",
        "--without-mingle", "--concurrency=1", "-Q", queue, "-n", f"{name}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def worker_env(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The settings of a worker process on this test's database, blobs and Redis."""
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "PORTAL_BROKER_URL": redis_url,
        "PORTAL_OUTBOX_DIR": str(tmp_path / "worker-outbox"),
        "PORTAL_SECRET_KEY": "test-secret",
        "OMP_THREAD_LIMIT": "1",
    }
    env.pop("PORTAL_SMTP_HOST", None)
    return env


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """A warm stop for each worker still running; a kill for one that does not stop."""
    for worker in workers:
        if worker.poll() is None:
            kill_group(worker, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(worker, signal.SIGKILL)
                worker.wait(timeout=10)


def kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the worker with its pool process and any tesseract it started."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def blob_keys(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).parts[0].startswith(".")
    }


def test_a_worker_killed_mid_ocr_gives_exactly_one_result_after_redelivery(
    tmp_path, database_url, app, world, redis_url
):
    from app.extensions import celery, db
    from app.models import OcrResult
    from app.services import documents, search
    from app.services import ocr as ocr_service

    env = worker_env(tmp_path, database_url, redis_url)
    env["PORTAL_BROKER_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT)
    queue = f"ocr-test-{uuid.uuid4().hex}"  # other runs on the same Redis never take it
    workers: list[subprocess.Popen[bytes]] = []
    make_app(tmp_path, database_url, CELERY_BROKER_URL=redis_url)  # sends go to Redis now
    root = tmp_path / "blobs"
    before = blob_keys(root)
    try:
        document = documents.upload_document(
            world.client_a,
            world.space_a.id,
            io.BytesIO(scanned_pdf(WORDS)),
            filename="acta.pdf",
            title="Acta de inspección",
        )
        db.session.commit()  # OCR on upload is off in test apps: the job is sent below
        version_id = document.current_version.id
        original_key = document.current_version.blob_key
        # The job, sent to its own queue; acknowledged late, as every portal task.
        celery.send_task(ocr_service.TASK, args=[version_id], queue=queue)

        workers.append(start_worker(env, queue, "first", tmp_path / "first.log"))

        def result() -> OcrResult | None:
            db.session.rollback()  # see what the workers committed
            return ocr_service.result_for(version_id)

        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            row = result()
            if row is not None and row.page_count and 1 <= len(row.pages) < row.page_count:
                break
            assert workers[0].poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.2)
        else:
            pytest.fail(
                "the first worker never read a page:\n" + (tmp_path / "first.log").read_text()
            )
        kill_group(workers[0], signal.SIGKILL)  # mid-OCR: no warm shutdown, no ack, no reject
        workers[0].wait(timeout=30)
        row = result()
        assert row is not None
        pages_when_killed = len(row.pages)
        assert row.status == "running" and pages_when_killed < len(WORDS)

        workers.append(start_worker(env, queue, "second", tmp_path / "second.log"))
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            row = result()
            if row is not None and row.status in ocr_service.FINISHED:
                break
            assert workers[1].poll() is None, (tmp_path / "second.log").read_text()
            time.sleep(0.5)
        second_log = (tmp_path / "second.log").read_text()
        assert row is not None and row.status == "done", (row and row.error_detail, second_log)
        assert "portal.ocr_version" in second_log  # the second worker took the task

        rows = db.session.query(OcrResult).filter_by(version_id=version_id).all()
        assert len(rows) == 1
        done = rows[0]
        assert done.attempts == 2
        # One set of pages, each read once, in order; the pages read before the kill kept.
        assert [page["number"] for page in done.pages] == [1, 2, 3, 4]
        for word, page in zip(WORDS, done.pages, strict=True):
            assert word in page["text"]
        # One searchable copy in the store, the one the result points at, and no upload left.
        assert blob_keys(root) - before == {original_key, done.searchable_blob_key}
        assert not list(root.glob(".uploads/*"))
        # One searchable copy of the text: the last page's word finds the document once.
        hits = search.search_documents(world.staff, WORDS[-1])
        assert [hit.document.id for hit in hits] == [document.id]
    finally:
        stop_workers(workers)


@pytest.mark.skipif(
    BACKEND != "postgres",
    reason="row locks are PostgreSQL's: the embedded SQLite mode runs one worker on a broker "
    "that never delivers a job twice",
)
def test_the_same_ocr_job_on_two_live_workers_at_once_gives_one_result(
    tmp_path, database_url, app, world, redis_url
):
    """The broker hands a job out again while its first worker is still alive on it."""
    from app.extensions import celery, db
    from app.services import documents
    from app.services import ocr as ocr_service

    env = worker_env(tmp_path, database_url, redis_url)
    queue = f"ocr-twice-{uuid.uuid4().hex}"
    make_app(tmp_path, database_url, CELERY_BROKER_URL=redis_url)
    root = tmp_path / "blobs"
    before = blob_keys(root)
    workers = [start_worker(env, queue, name, tmp_path / f"{name}.log") for name in ("one", "two")]
    try:
        document = documents.upload_document(
            world.client_a,
            world.space_a.id,
            io.BytesIO(scanned_pdf(WORDS)),
            filename="acta.pdf",
            title="Acta de inspección",
        )
        db.session.commit()
        version_id = document.current_version.id
        original_key = document.current_version.blob_key
        for _ in range(2):
            celery.send_task(ocr_service.TASK, args=[version_id], queue=queue)

        def logs() -> str:
            return "\n".join((tmp_path / f"{n}.log").read_text() for n in ("one", "two"))

        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            db.session.rollback()
            row = ocr_service.result_for(version_id)
            if (
                row is not None
                and row.status in ocr_service.FINISHED
                and logs().count("succeeded in") >= 2
            ):
                break
            time.sleep(0.5)
        db.session.rollback()
        row = ocr_service.result_for(version_id)
        assert row is not None and row.status == "done", (row and row.error_detail, logs())
        assert logs().count("succeeded in") == 2  # both deliveries ran, each on its worker
        assert row.attempts == 2
        assert [page["number"] for page in row.pages] == [1, 2, 3, 4]
        assert blob_keys(root) - before == {original_key, row.searchable_blob_key}
        assert not list(root.glob(".uploads/*"))
    finally:
        stop_workers(workers)
