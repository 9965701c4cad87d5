"""Faults during the load, each with what must have survived it.

After each: every upload the portal answered 2xx for is in the store with its SHA-256, the
audit chain verifies, and while the fault lasted the portal answered 503 with Retry-After
(or the request succeeded), never a 500.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from checks import check_audit, check_everything_kept, ledger
from topology import Topology, locust_command

pytestmark = [pytest.mark.topology, pytest.mark.xdist_group("topology")]


class Load:
    """A lighter locust load in the background while a fault is made."""

    def __init__(self, topology: Topology, folder: Path, *, users: int = 40, seconds: int = 25):
        self.ledger = folder / "ledger.jsonl"
        command, env = locust_command(
            topology,
            users=users,
            seconds=seconds,
            max_upload=2 * 1024 * 1024,
            ledger=self.ledger,
            csv=folder / "load",
        )
        self.process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def finish(self) -> list[dict[str, Any]]:
        _, err = self.process.communicate(timeout=600)
        assert "Traceback" not in err, err[-3000:]
        return ledger(self.ledger)


def _no_500s(topology: Topology, entries: list[dict[str, Any]]) -> None:
    bad = [
        e for e in entries if e["kind"] == "5xx" and not (e["status"] == 503 and e["retry_after"])
    ]
    assert bad == [], f"{bad[:10]}\n{topology.diagnostics()}"


def _after(
    topology: Topology, portal: Any, people: dict[str, Any], entries: list[dict[str, Any]]
) -> None:
    _no_500s(topology, entries)
    check_everything_kept(portal, entries)
    _wait_healthy(topology)
    check_audit(topology.url, people["admin"]["token"])


def _wait_healthy(topology: Topology, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all(
                requests.get(f"{topology.web_url(i)}/healthz", timeout=5).status_code == 200
                for i in range(len(topology.web_ports))
            ):
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError("the portal did not come back")


def _queue_drained(topology: Topology, timeout: float = 420) -> None:
    """Wait until the workers have taken every queued job (the loads leave a backlog of
    thumbnails and text to read), so that a test's own job is not timed behind it."""
    import redis

    broker = redis.Redis.from_url(topology.redis_url(0))
    _wait_for(lambda: broker.llen("celery") == 0, timeout, "the job queue drained")


def _scanned_pdf(pages: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=42)
    images = []
    for number in range(pages):
        page = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(page)
        for line in range(12):
            draw.text(
                (100, 150 + line * 110), f"Pagina {number + 1} linea {line} factura", font=font
            )
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def _ocr_rows(portal: Any, document_id: str) -> list[Any]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import DocumentVersion, OcrResult

    with portal.app_context():
        return list(
            db.session.execute(
                select(OcrResult.status, OcrResult.page_count, OcrResult.text)
                .join(DocumentVersion, DocumentVersion.id == OcrResult.version_id)
                .where(DocumentVersion.document_id == document_id)
            ).all()
        )


def _wait_for(check, timeout: float, what: str) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_a_worker_killed_mid_ocr_the_job_is_redelivered_and_gives_one_result(
    topology: Topology, portal, people
):
    _queue_drained(topology)
    person = people["clients"][3]
    answer = requests.post(
        f"{topology.url}/api/v1/spaces/{person['space_id']}/documents",
        headers={"Authorization": f"Bearer {person['token']}"},
        files={"file": ("escaneo.pdf", _scanned_pdf(6), "application/pdf")},
        timeout=60,
    )
    assert answer.status_code == 201
    document_id = answer.json()["id"]
    _wait_for(
        lambda: [r for r in _ocr_rows(portal, document_id) if r.status == "running"],
        60,
        "OCR running",
    )
    for name in ("worker0", "worker1"):
        topology.processes[name].kill()  # whichever held it, it is gone mid-page
    for index in (0, 1):
        topology.start_worker(index)
    rows = _wait_for(
        lambda: (
            [r for r in _ocr_rows(portal, document_id) if r.status == "done"]
            and _ocr_rows(portal, document_id)
        ),
        topology.visibility_timeout * 4 + 60,
        "OCR done after the redelivery",
    )
    assert len(rows) == 1  # one result, not one per delivery
    assert rows[0].page_count == 6
    assert "factura" in rows[0].text.lower()


def test_the_same_task_delivered_twice_gives_one_result(topology: Topology, portal, people):
    _queue_drained(topology)
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import DocumentPreview, DocumentVersion, OcrResult

    person = people["clients"][4]
    answer = requests.post(
        f"{topology.url}/api/v1/spaces/{person['space_id']}/documents",
        headers={"Authorization": f"Bearer {person['token']}"},
        files={"file": ("escaneo.pdf", _scanned_pdf(1), "application/pdf")},
        timeout=60,
    )
    document_id = answer.json()["id"]
    with portal.app_context():
        version_id = db.session.execute(
            select(DocumentVersion.id).where(DocumentVersion.document_id == document_id)
        ).scalar_one()
        celery = portal.extensions["celery"]
        for _ in range(2):  # the broker hands the same jobs out again
            celery.send_task("portal.ocr_version", args=[version_id])
            celery.send_task("portal.render_preview", args=[version_id, "thumbnail"])

    def settled() -> bool:
        with portal.app_context():
            ocr = (
                db.session.execute(
                    select(OcrResult.status).where(OcrResult.version_id == version_id)
                )
                .scalars()
                .all()
            )
            thumbs = (
                db.session.execute(
                    select(DocumentPreview.status).where(DocumentPreview.version_id == version_id)
                )
                .scalars()
                .all()
            )
            db.session.rollback()
        return ocr == ["done"] and thumbs and all(s != "pending" for s in thumbs)

    _wait_for(settled, 120, "OCR and thumbnail done")
    time.sleep(3)  # the duplicates have run too by now
    with portal.app_context():
        assert (
            db.session.execute(
                select(func.count())
                .select_from(OcrResult)
                .where(OcrResult.version_id == version_id)
            ).scalar_one()
            == 1
        )
        variants = (
            db.session.execute(
                select(DocumentPreview.variant).where(DocumentPreview.version_id == version_id)
            )
            .scalars()
            .all()
        )
        assert sorted(variants) == sorted(set(variants))


def test_postgresql_restarted_during_the_load(topology, portal, people, tmp_path):
    load = Load(topology, tmp_path)
    time.sleep(6)
    topology.restart("postgres", down_for=3)
    _after(topology, portal, people, load.finish())


def test_redis_restarted_during_the_load(topology, portal, people, tmp_path):
    load = Load(topology, tmp_path)
    time.sleep(6)
    topology.restart("redis", down_for=3)
    _after(topology, portal, people, load.finish())


def test_the_s3_server_stopped_for_20_seconds(topology, portal, people, tmp_path):
    load = Load(topology, tmp_path, seconds=35)
    time.sleep(5)
    topology.restart("s3", down_for=20)
    _after(topology, portal, people, load.finish())


def test_a_web_process_killed_mid_upload_the_upload_resumes_through_the_other(
    topology: Topology, portal, people, tmp_path
):
    person = people["clients"][2]
    api = {"Authorization": f"Bearer {person['token']}", "Tus-Resumable": "1.0.0"}
    data = b"%PDF-1.4\n% plano\n" + os.urandom(48 * 1024 * 1024)
    import base64

    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"space_id": person["space_id"], "filename": "plano-grande.pdf"}.items()
    )
    created = requests.post(
        f"{topology.url}/api/v1/uploads/",
        headers={**api, "Upload-Length": str(len(data)), "Upload-Metadata": meta},
        timeout=30,
    )
    assert created.status_code == 201
    location = created.headers["Location"]
    url = location if location.startswith("http") else topology.url + location
    offset, chunk, killed, failures = 0, 2 * 1024 * 1024, False, 0
    answer = None
    while offset < len(data):
        if offset >= 8 * chunk and not killed:
            topology.processes["web0"].kill()
            killed = True
        try:
            answer = requests.patch(
                url,
                data=data[offset : offset + chunk],
                headers={
                    **api,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                timeout=60,
            )
        except requests.RequestException:
            answer = None
        if answer is not None and answer.status_code == 204:
            offset = int(answer.headers["Upload-Offset"])
            continue
        failures += 1
        assert failures < 10, answer.text if answer is not None else "no answer"
        # the proxy's 502 when the process died under the request, or no answer at all
        assert answer is None or answer.status_code >= 500, answer.text
        # as a tus client does: ask where the upload stands, go on from there
        head = requests.head(url, headers=api, timeout=30)
        assert head.status_code == 200, head.status_code
        offset = int(head.headers["Upload-Offset"])
    assert killed
    document_id = answer.headers["Portal-Document-Id"]
    topology.start_web(0)
    entry = {
        "kind": "upload-tus",
        "document_id": document_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    _after(topology, portal, people, [entry])


# ------------------------------------------------------------------ signing with a remote TSA


def _ask_signature(topology: Topology, portal: Any, people: dict[str, Any], index: int) -> tuple:
    """A B-T signature request of a real PDF for one client, and their e-mailed code."""
    import re

    from portal_signing import annual_accounts_pdf
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail

    staff = {"Authorization": f"Bearer {people['staff'][0]['token']}"}
    person = people["clients"][index]
    client = {"Authorization": f"Bearer {person['token']}"}
    stored = requests.post(
        f"{topology.url}/api/v1/spaces/{person['space_id']}/documents",
        headers=staff,
        files={"file": ("cuentas-anuales.pdf", annual_accounts_pdf(), "application/pdf")},
        timeout=60,
    )
    assert stored.status_code == 201, stored.text
    document_id = stored.json()["id"]
    asked = requests.post(
        f"{topology.url}/api/v1/documents/{document_id}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": person["id"]}], "level": "B-T"},
        timeout=60,
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    sent = requests.post(
        f"{topology.url}/api/v1/signature-requests/{request_id}/email-code",
        headers=client,
        timeout=60,
    )
    assert sent.status_code == 202, sent.text

    def code() -> str | None:
        with portal.app_context():
            mails = db.session.execute(
                select(OutboxMail).order_by(OutboxMail.created_at.desc())
            ).scalars()
            for mail in mails:
                if person["email"] in mail.to:
                    found = re.search(r"\b(\d{6})\b", mail.body_text)
                    return found.group(1) if found else None
        return None

    return document_id, request_id, client, _wait_for(code, 30, "the signing code by e-mail")


def _signed_versions(portal: Any, document_id: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import DocumentVersion

    with portal.app_context():
        return db.session.execute(
            select(func.count())
            .select_from(DocumentVersion)
            .where(
                DocumentVersion.document_id == document_id, DocumentVersion.source == "signature"
            )
        ).scalar_one()


def _valid_with_timestamp(topology: Topology, headers: dict, document_id: str) -> None:
    versions = requests.get(
        f"{topology.url}/api/v1/documents/{document_id}/versions", headers=headers, timeout=60
    ).json()["items"]
    newest = max(version["number"] for version in versions)
    report = requests.get(
        f"{topology.url}/api/v1/documents/{document_id}/versions/{newest}/validation",
        headers=headers,
        timeout=120,
    ).json()
    assert report["valid"] is True, report
    assert all(signature["timestamp"] for signature in report["signatures"]), report


def test_the_tsa_unreachable_during_b_t_signing_the_signature_waits_then_is_made(
    topology: Topology, portal, people
):
    _queue_drained(topology)
    document_id, request_id, client, code = _ask_signature(topology, portal, people, 5)
    assert topology.tsa is not None
    topology.tsa.set("refuse")
    try:
        answer = requests.post(
            f"{topology.url}/api/v1/signature-requests/{request_id}/sign",
            headers=client,
            json={"otp": code},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        time.sleep(8)  # several tries of the job, each refused by the TSA
        assert _signed_versions(portal, document_id) == 0  # never signed without its timestamp
        waiting = requests.get(
            f"{topology.url}/api/v1/signature-requests/{request_id}", headers=client, timeout=60
        ).json()
        assert [signer["status"] for signer in waiting["signers"]] == ["signing"], waiting
    finally:
        topology.tsa.set("pass")
    _wait_for(lambda: _signed_versions(portal, document_id), 90, "signed once the TSA answers")
    time.sleep(3)
    assert _signed_versions(portal, document_id) == 1
    _valid_with_timestamp(topology, client, document_id)


def test_a_worker_killed_mid_signing_the_job_is_redelivered_and_signs_once(
    topology: Topology, portal, people
):
    _queue_drained(topology)
    document_id, request_id, client, code = _ask_signature(topology, portal, people, 6)
    assert topology.tsa is not None
    topology.tsa.set("hang")  # the job waits on the TSA: the worker dies in the middle
    try:
        answer = requests.post(
            f"{topology.url}/api/v1/signature-requests/{request_id}/sign",
            headers=client,
            json={"otp": code},
            timeout=60,
        )
        assert answer.status_code == 202, answer.text
        time.sleep(3)
        for name in ("worker0", "worker1"):
            topology.processes[name].kill()
    finally:
        topology.tsa.set("pass")
    for index in (0, 1):
        topology.start_worker(index)
    _wait_for(
        lambda: _signed_versions(portal, document_id),
        topology.visibility_timeout * 4 + 90,
        "signed after the redelivery",
    )
    time.sleep(topology.visibility_timeout + 5)  # a second delivery, if any, has run by now
    assert _signed_versions(portal, document_id) == 1
    _valid_with_timestamp(topology, client, document_id)


def test_the_disk_full_while_uploads_arrive(topology: Topology, portal, people, tmp_path):
    if not topology.disk_mounted:
        pytest.skip("filling a disk needs a tmpfs of the test's own (mount, as root)")
    filler = topology.disk / "filler"
    free = shutil.disk_usage(topology.disk).free
    with filler.open("wb") as handle:  # all but 2 MiB of the disk that holds data and blobs
        handle.truncate(0)
        block = b"\0" * (8 * 1024 * 1024)
        left = free - 2 * 1024 * 1024
        while left > 0:
            handle.write(block[: min(len(block), left)])
            left -= len(block)
    try:
        load = Load(topology, tmp_path, users=30, seconds=15)
        entries = load.finish()
    finally:
        filler.unlink()
    refused = [e for e in entries if e["kind"] == "5xx"]
    assert refused, "the full disk refused no upload: the fault did not bite"
    # refused as full (507) or as unavailable for now (503 with Retry-After), never a 500
    assert all(e["status"] in (503, 507) for e in refused), refused[:10]
    assert all(e["retry_after"] for e in refused if e["status"] == 503), refused[:10]
    _after(topology, portal, people, [e for e in entries if e["kind"] != "5xx"])
    # with room again, uploads are taken as before
    person = people["clients"][7]
    again = requests.post(
        f"{topology.url}/api/v1/spaces/{person['space_id']}/documents",
        headers={"Authorization": f"Bearer {person['token']}"},
        files={"file": ("factura.pdf", b"%PDF-1.4 despues", "application/pdf")},
        timeout=60,
    )
    assert again.status_code == 201, again.text


def test_after_the_faults_the_orphan_sweep_removes_what_crashes_left_and_nothing_named(
    topology: Topology, portal, people
):
    """Blobs stored by a process that died before its commit are within the sweep's reach:
    run as if its grace period had passed, it deletes every blob no row names, and every
    blob a row names is still in the store."""

    _queue_drained(topology)
    # a warm stop: each worker finishes and commits the job it holds, so no blob is being
    # written without its row (the grace period stands for this in production)
    for index in (0, 1):
        topology.processes[f"worker{index}"].stop(timeout=120)
    try:
        _sweep_and_check(portal)
    finally:
        for index in (0, 1):
            topology.start_worker(index)
    check_audit(topology.url, people["admin"]["token"])


def _sweep_and_check(portal: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from app.extensions import db
    from app.models import DocumentPreview, DocumentVersion, OcrResult
    from app.services import orphan_blobs
    from app.services.runtime import store

    with portal.app_context():
        later = datetime.now(UTC) + orphan_blobs.grace_period() + timedelta(hours=1)
        left = orphan_blobs.orphans(orphan_blobs.grace_period(), now=later)
        swept = orphan_blobs.sweep(now=later)
        db.session.commit()
        assert swept == len(left)
        assert orphan_blobs.orphans(orphan_blobs.grace_period(), now=later) == []
        named = [
            *db.session.execute(select(DocumentVersion.blob_key)).scalars(),
            *db.session.execute(
                select(DocumentPreview.blob_key).where(DocumentPreview.blob_key.is_not(None))
            ).scalars(),
            *db.session.execute(
                select(OcrResult.searchable_blob_key).where(
                    OcrResult.searchable_blob_key.is_not(None)
                )
            ).scalars(),
        ]
        blobs = store()
        missing = [key for key in named if not blobs.exists(key)]
        db.session.rollback()
    assert len(named) > 100  # the loads and faults stored that much at least
    assert missing == []
