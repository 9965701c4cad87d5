"""No page waits on OCR, signing or previews: the web process hands them to the Celery
broker after its commit and answers at once.

The web app here is set up as in production: no inline job runner, the real Celery
producer writing to the embedded filesystem broker, OCR on upload.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from portal_signing import annual_accounts_pdf, next_totp
from portal_testing import PASSWORD, csrf_token, enable_mfa, make_app


def forget_producers() -> None:
    """Producers made for an earlier test's broker folder would still write there: one app
    per process in production, many per process here (kombu keeps them in global pools)."""
    from kombu import pools

    from app.extensions import celery

    celery.close()
    pools.reset()
    celery.amqp._producer_pool = None


@pytest.fixture
def production_web(tmp_path: Path, database_url: str, app: Flask) -> Iterator[Flask]:
    from app.extensions import db

    application = make_app(tmp_path, database_url, OCR_ON_UPLOAD=True)
    application.extensions.pop("portal_job_runner")
    forget_producers()
    yield application
    forget_producers()
    with application.app_context():
        db.engine.dispose()


def queued_jobs(tmp_path: Path) -> list[tuple[str, list]]:
    """(task name, arguments) of every message waiting in the embedded broker."""
    jobs = []
    for path in sorted((tmp_path / "broker" / "queue").glob("*")):
        message = json.loads(path.read_text())
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        jobs.append((message["headers"]["task"], args))
    return jobs


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/login", data={"csrf_token": csrf_token(client), "email": user.email, "password": PASSWORD}
    )
    assert answer.status_code == 302


def test_an_upload_answers_before_ocr_and_previews(production_web, world, tmp_path):
    from app.extensions import db
    from app.models import Document, OcrResult, SearchEntry

    client = production_web.test_client()
    login(client, world.client_a)
    answer = client.post(
        f"/spaces/{world.space_a.id}/upload",
        data={
            "up-csrf_token": csrf_token(client, f"/spaces/{world.space_a.id}"),
            "up-file": (io.BytesIO(annual_accounts_pdf(2, "Nomina de marzo")), "nomina.pdf"),
            "up-title": "Nómina de marzo",
            "up-visibility": "shared",
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    db.session.expire_all()
    document = db.session.query(Document).filter_by(title="Nómina de marzo").one()
    version = document.current_version
    # the page came back with the reading still to do ...
    assert db.session.query(OcrResult).filter_by(version_id=version.id).one().status == "queued"
    assert db.session.get(SearchEntry, document.id).body == ""
    # ... because it was handed to the workers, after the commit
    jobs = queued_jobs(tmp_path)
    assert ("portal.ocr_version", [version.id]) in jobs
    previews = [args for name, args in jobs if name == "portal.render_preview"]
    assert all(args[0] == version.id for args in previews)


def test_signing_answers_before_the_signature_is_made(production_web, world, tmp_path):
    from app.extensions import db
    from app.models import SignatureRequestSigner
    from app.services import documents, signatures

    documents.upload_version(
        world.staff,
        world.shared.id,
        io.BytesIO(annual_accounts_pdf(1, "Contrato")),
        filename="contrato.pdf",
    )
    request = signatures.request_signatures(
        world.staff, world.shared.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    versions_before = world.shared.current_version_number
    client = production_web.test_client()
    login(client, world.client_a)
    secret = enable_mfa(world.client_a)  # signing asks for a fresh second factor
    for path in (tmp_path / "broker" / "queue").glob("*"):
        path.unlink()  # what the setup queued (e-mails, OCR of the new version)

    answer = client.post(
        f"/signatures/{request.id}/sign",
        data={
            "sign-csrf_token": csrf_token(client, f"/signatures/{request.id}"),
            "sign-otp": next_totp(secret),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert answer.status_code == 200, re.findall(r'class="error[^"]*"[^>]*>([^<]+)', answer.text)
    assert "Estamos firmando el documento" in answer.get_data(as_text=True)
    db.session.expire_all()
    signer = db.session.query(SignatureRequestSigner).filter_by(request_id=request.id).one()
    assert signer.status == "signing"
    assert world.shared.current_version_number == versions_before  # nothing signed in the request
    assert ("portal.sign_document", [signer.id]) in queued_jobs(tmp_path)
