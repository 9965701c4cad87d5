"""What must hold after the load and after every fault: nothing acknowledged is lost."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import requests


def ledger(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def server_errors(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["kind"] == "5xx"]


def check_everything_kept(app: Any, entries: list[dict[str, Any]]) -> int:
    """Every upload answered 2xx is stored, whole, with the SHA-256 of what was sent.

    Returns how many were checked. Reads the rows through the app and every blob back from
    the store (the S3 server), hashing it.
    """
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Document, DocumentVersion, RequestItem
    from app.services.runtime import store

    checked = 0
    with app.app_context():
        blobs = store()
        for entry in entries:
            if entry["kind"] not in ("upload", "upload-tus", "item-upload"):
                continue
            document_id = entry.get("document_id")
            assert document_id, f"an acknowledged upload without its document: {entry}"
            document = db.session.get(Document, document_id)
            assert document is not None, f"document {document_id} answered 2xx is missing"
            versions = (
                db.session.execute(
                    select(DocumentVersion).where(DocumentVersion.document_id == document_id)
                )
                .scalars()
                .all()
            )
            matching = [v for v in versions if v.sha256 == entry["sha256"]]
            assert matching, f"no version of {document_id} has the SHA-256 that was sent"
            digest = hashlib.sha256()
            for chunk in blobs.open_range(matching[0].blob_key):
                digest.update(chunk)
            assert digest.hexdigest() == entry["sha256"], f"blob of {document_id} differs"
            if entry["kind"] == "item-upload":
                item = db.session.get(RequestItem, entry["item_id"])
                assert item is not None
                assert document_id in {file.document_id for file in item.files}
                assert item.status in ("submitted", "accepted"), item.status
            checked += 1
    return checked


def check_audit(url: str, admin_token: str) -> None:
    answer = requests.get(
        f"{url}/api/v1/audit/verify",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True, answer.json()
