"""Jobs run on a real Celery worker over Redis (PORTAL_TEST_REDIS_URL)."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from portal_testing import BACKEND, make_app

pytestmark = pytest.mark.celery


def test_invitation_mail_is_delivered_by_a_worker_over_redis(
    tmp_path, database_url, app, redis_url
):
    from app.extensions import db
    from app.services import accounts, clients

    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BROKER_URL": redis_url,
        "PORTAL_OUTBOX_DIR": str(tmp_path / "worker-outbox"),
        "PORTAL_SECRET_KEY": "test-secret",
    }
    env.pop("PORTAL_SMTP_HOST", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency=1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        web = make_app(tmp_path, database_url, CELERY_BROKER_URL=redis_url)
        web.extensions.pop("portal_job_runner")
        with web.app_context():
            admin = accounts.create_user(
                None, email="a@despacho.es", name="Admin", role="admin", password="x" * 12
            )
            firm = clients.create_client(admin, name="Cliente Redis S.L.")
            accounts.create_user(
                admin, email="cliente@redis.es", name="Cliente", role="client", client_id=firm.id
            )
            db.session.commit()  # the job is sent to Redis only now
        outbox = tmp_path / "worker-outbox"
        deadline = time.monotonic() + 60
        found: list[Path] = []
        while time.monotonic() < deadline and not found:
            found = list(outbox.glob("*.eml")) if outbox.exists() else []
            time.sleep(0.5)
        assert found, "the worker did not deliver the invitation"
        message = email.message_from_bytes(found[0].read_bytes())
        assert message["To"] == "cliente@redis.es"
        assert "/invitation/" in message.get_payload()[0].get_payload(decode=True).decode()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    _ = BACKEND
