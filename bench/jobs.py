"""Benchmark the background work after uploads: text, thumbnail and search index per document.

Runs standalone: ``.venv/bin/python bench/jobs.py [--documents 1000] [--concurrency 2]``.

A firm that imports a client's archive uploads many small PDFs at once; each needs its text
read (the PDF's own text layer: no tesseract), a thumbnail drawn and the search index
filled before the space is useful. Here:

1. A real portal on SQLite with the embedded broker (``portal init`` state in a temporary
   data directory): ``--documents`` one-page text PDFs are uploaded through
   ``POST /api/v1/spaces/{id}/documents`` (the jobs are queued, nothing is processed yet).
2. The embedded worker (``portal worker --embedded``, the process ``portal run`` starts) is
   started and timed until every document has its text, its thumbnail and its search entry:
   from the moment it says it is ready (a running portal's worker is up before an archive
   arrives) and, for the record, from the moment it was started (imports and pool included).
3. The floor: the same thumbnails drawn by pdfium and the same text read by pypdf, one file
   after another in one process.

Prints documents per second for both, the ratio (portal from ready / floor; target ≥ 0.5),
the time for all documents from the start (target under 4 minutes), and the worker's peak
memory. Exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

RATIO_TARGET = 0.5
TOTAL_TARGET_SECONDS = 240.0
THUMBNAIL_SIDE = 320
PASSWORD = "una-clave-de-prueba-2026"


def one_page_pdf(number: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(
        0,
        6,
        f"Factura {number:05d}\nCliente: Construcciones Ebro S.L.\n"
        f"Concepto: revision del proyecto de obra, fase {number % 7}\n"
        f"Importe: {100 + number % 900},00 EUR\n" + "Texto de relleno. " * 40,
    )
    return bytes(pdf.output())


def floor_seconds(files: list[bytes]) -> float:
    """pdfium thumbnails and pypdf text for every file, in this process: nothing else."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    started = time.perf_counter()
    for data in files:
        document = pdfium.PdfDocument(data)
        page = document[0]
        width, height = page.get_size()
        scale = THUMBNAIL_SIDE / max(width, height)
        image = page.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=80)
        page.close()
        document.close()
        "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    return time.perf_counter() - started


def build_portal(folder: Path, files: list[bytes]) -> tuple[str, list[str]]:
    """A portal with one client's space holding ``files``; returns the space and version ids."""
    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.services import accounts

    app = create_app({"DATA_DIR": str(folder), "RATELIMIT_ENABLED": False})
    upgrade_database(app)
    with app.app_context():
        accounts.create_user(
            None, email="laura@asesoria.es", name="Laura", role="staff", password=PASSWORD
        )
        db.session.commit()
    client = app.test_client()
    answer = client.post(
        "/api/v1/auth/token", json={"email": "laura@asesoria.es", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    made = client.post(
        "/api/v1/clients", headers=headers, json={"name": "Construcciones Ebro", "kind": "company"}
    ).get_json()
    space = client.post(
        f"/api/v1/clients/{made['id']}/spaces",
        headers=headers,
        json={"name": "Archivo 2026", "kind": "general"},
    ).get_json()
    versions = []
    for number, data in enumerate(files):
        stored = client.post(
            f"/api/v1/spaces/{space['id']}/documents",
            headers=headers,
            data={"file": (io.BytesIO(data), f"factura-{number:05d}.pdf")},
            content_type="multipart/form-data",
        )
        if stored.status_code != 201:
            raise SystemExit(
                f"upload {number} answered {stored.status_code}: {stored.data[:200]!r}"
            )
        versions.append(stored.get_json()["id"])
    return space["id"], versions


def processed(folder: Path, version_ids: list[str]) -> tuple[int, int, int]:
    """How many versions have their text, their thumbnail and a search entry."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{folder / 'portal.sqlite'}")
    with engine.connect() as connection:
        texts = connection.execute(
            text("SELECT count(*) FROM ocr_result WHERE status = 'done'")
        ).scalar_one()
        thumbs = connection.execute(
            text(
                "SELECT count(*) FROM document_preview WHERE status IN ('ready', 'failed',"
                " 'unsupported') AND variant = 'thumbnail'"
            )
        ).scalar_one()
        indexed = connection.execute(
            text("SELECT count(*) FROM search_entry WHERE body != ''")
        ).scalar_one()
    engine.dispose()
    return texts, thumbs, indexed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    files = [one_page_pdf(number) for number in range(args.documents)]
    floor = floor_seconds(files)
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "PORTAL_DATA_DIR": str(folder), "OMP_THREAD_LIMIT": "1"}
        os.environ["PORTAL_DATA_DIR"] = str(folder)
        _space, versions = build_portal(folder, files)
        log_path = folder / "worker.log"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with log_path.open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603 - our own command
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "worker",
                    "--embedded",
                    f"--concurrency={args.concurrency}",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        counts = (0, 0, 0)
        ready_at: float | None = None
        try:
            while time.perf_counter() - started < 3 * TOTAL_TARGET_SECONDS:
                if ready_at is None and b" ready." in log_path.read_bytes():
                    ready_at = time.perf_counter()  # Celery's "celery@host ready." line
                counts = processed(folder, versions)
                if min(counts) >= len(versions):
                    break
                time.sleep(0.1)
            finished = time.perf_counter()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = after.ru_maxrss / 1024
    # every process of the worker (pool, rendering children), reaped when it stopped
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    elapsed = finished - started
    working = finished - (ready_at if ready_at is not None else started)
    portal_rate = len(files) / working
    floor_rate = len(files) / floor
    ratio = portal_rate / floor_rate
    print(f"documents: {len(files)} one-page text PDFs, worker concurrency {args.concurrency}")
    print(
        f"floor (pdfium thumbnail + pypdf text, one process): {floor:.1f} s, {floor_rate:.1f} docs/s"
    )
    print(
        f"portal (embedded worker: text, thumbnail, search index), from ready: {working:.1f} s,"
        f" {portal_rate:.1f} docs/s; done: text {counts[0]}, thumbnails {counts[1]},"
        f" indexed {counts[2]}"
    )
    print(
        f"portal from the worker's start (imports and pool start-up included): {elapsed:.1f} s,"
        f" {len(files) / elapsed:.1f} docs/s, {len(files) / elapsed / floor_rate:.2f}x the floor"
    )
    print(f"ratio portal/floor: {ratio:.2f}x (target >= {RATIO_TARGET})")
    print(
        f"all documents: {elapsed:.0f} s from the start (target under {TOTAL_TARGET_SECONDS:.0f} s)"
    )
    print(
        f"CPU used by the worker and its processes: {cpu:.1f} s over {elapsed:.1f} s from its start"
        f" ({cpu / elapsed:.2f} of this machine's {os.cpu_count()} CPUs busy on average);"
        f" the floor's CPU per document {floor / len(files) * 1000:.1f} ms, the portal's"
        f" {cpu / len(files) * 1000:.1f} ms"
    )
    print(f"peak memory of the worker's largest process: {peak:.0f} MiB")
    failed = min(counts) < len(files) or ratio < RATIO_TARGET or elapsed > TOTAL_TARGET_SECONDS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
