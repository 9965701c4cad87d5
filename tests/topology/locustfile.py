"""The load on the topology: clients and staff doing what they do on a busy morning.

Read by ``locust`` (``tests/topology/test_load.py``, ``bench/topology.py``). The people come
from the JSON file named by ``TOPOLOGY_SEED`` (see ``seed.py``); every upload the portal
answers 2xx for is written, with the SHA-256 of what was sent, to ``TOPOLOGY_LEDGER`` (one
JSON line each), and every answer with its status to the same ledger when it is a 5xx, so
that a test can check afterwards that nothing acknowledged was lost.

``TOPOLOGY_MAX_UPLOAD`` caps the largest upload (bytes; 200 MB by default, as a firm's
largest scans and plots; CI shortens it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import threading

from locust import HttpUser, between, events, task

PEOPLE = json.loads(open(os.environ["TOPOLOGY_SEED"]).read())  # noqa: SIM115
LEDGER = os.environ["TOPOLOGY_LEDGER"]
MAX_UPLOAD = int(os.environ.get("TOPOLOGY_MAX_UPLOAD", str(200 * 1024 * 1024)))
_lock = threading.Lock()
_random = random.Random(int(os.environ.get("TOPOLOGY_SEED_NUMBER", "20261206")))


def _record(entry: dict) -> None:
    with _lock, open(LEDGER, "a") as ledger:
        ledger.write(json.dumps(entry) + "\n")


_page_cache = {"hit": 0, "miss": 0}


@events.quitting.add_listener
def _page_cache_ratio(environment, **kw):  # type: ignore[no-untyped-def]
    _record({"kind": "page-cache", **_page_cache})


@events.request.add_listener
def _server_errors(
    request_type, name, response_time, response_length, response=None, exception=None, **kw
):  # type: ignore[no-untyped-def]
    status = getattr(response, "status_code", 0)
    seen = response.headers.get("X-Page-Cache") if response is not None else None
    if seen in _page_cache:
        _page_cache[seen] += 1
    if status >= 500:
        _record(
            {
                "kind": "5xx",
                "name": name,
                "status": status,
                "retry_after": response.headers.get("Retry-After"),
            }
        )


def _size() -> int:
    """Mostly small office files, some scans of a few MB, rarely a big plot."""
    roll = _random.random()
    if roll < 0.80:
        return _random.randint(1024, 64 * 1024)
    if roll < 0.98:
        return min(MAX_UPLOAD, _random.randint(256 * 1024, 4 * 1024 * 1024))
    return min(MAX_UPLOAD, _random.randint(16 * 1024 * 1024, 200 * 1024 * 1024))


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.4\n% carga de prueba\n"
    return head + os.urandom(max(0, size - len(head)))


class ClientUser(HttpUser):
    weight = 5
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.me = _random.choice(PEOPLE["clients"])
        self.api = {"Authorization": f"Bearer {self.me['token']}"}
        self.documents = [self.me["document_id"]]

    @task(6)
    def agenda(self) -> None:
        self.client.get("/api/v1/me/agenda", headers=self.api, name="api: agenda")

    @task(4)
    def space_documents(self) -> None:
        self.client.get(
            f"/api/v1/spaces/{self.me['space_id']}/documents?limit=50",
            headers=self.api,
            name="api: space documents",
        )

    @task(4)
    def pages(self) -> None:
        cookie = self.me.get("cookie")
        if not cookie:
            return
        headers = {"Cookie": f"portal_session={cookie}"}
        self.client.get("/", headers=headers, name="page: home")
        self.client.get(f"/spaces/{self.me['space_id']}", headers=headers, name="page: space")

    @task(2)
    def upload_multipart(self) -> None:
        data = _pdf(_size())
        answer = self.client.post(
            f"/api/v1/spaces/{self.me['space_id']}/documents",
            headers=self.api,
            files={"file": ("factura.pdf", data, "application/pdf")},
            name="api: upload multipart",
        )
        if answer.status_code == 201:
            document = answer.json()
            self.documents.append(document["id"])
            _record(
                {
                    "kind": "upload",
                    "document_id": document["id"],
                    "version": 1,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            )

    @task(1)
    def upload_tus(self) -> None:
        data = _pdf(_size())
        metadata = ",".join(
            f"{key} {base64.b64encode(value.encode()).decode()}"
            for key, value in {"space_id": self.me["space_id"], "filename": "escaneo.pdf"}.items()
        )
        created = self.client.post(
            "/api/v1/uploads/",
            headers={
                **self.api,
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(len(data)),
                "Upload-Metadata": metadata,
            },
            name="tus: create",
        )
        if created.status_code != 201:
            return
        location = created.headers["Location"]
        offset, chunk = 0, 8 * 1024 * 1024
        while offset < len(data):
            piece = data[offset : offset + chunk]
            answer = self.client.patch(
                location,
                data=piece,
                name="tus: patch",
                headers={
                    **self.api,
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            if answer.status_code != 204:
                return
            offset = int(answer.headers["Upload-Offset"])
        document_id = answer.headers.get("X-Document-Id") or answer.headers.get(
            "Portal-Document-Id"
        )
        _record(
            {
                "kind": "upload-tus",
                "location": location,
                "document_id": document_id,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "space_id": self.me["space_id"],
            }
        )

    @task(2)
    def comment(self) -> None:
        document = _random.choice(self.documents)
        self.client.post(
            f"/api/v1/documents/{document}/comments",
            headers=self.api,
            json={"body": "¿Está bien así?"},
            name="api: comment",
        )

    @task(1)
    def complete_item(self) -> None:
        item = _random.choice(self.me["item_ids"])
        data = _pdf(_random.randint(1024, 32 * 1024))
        answer = self.client.post(
            f"/api/v1/request-items/{item}/upload",
            headers=self.api,
            files={"file": ("justificante.pdf", data, "application/pdf")},
            name="api: request item upload",
        )
        if answer.status_code == 201:
            body = answer.json()
            document_id = (body.get("documents") or [None])[-1]
            _record(
                {
                    "kind": "item-upload",
                    "item_id": item,
                    "document_id": document_id,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            )

    @task(2)
    def download(self) -> None:
        document = _random.choice(self.documents)
        self.client.get(
            f"/api/v1/documents/{document}/versions/1/content",
            headers=self.api,
            name="api: download",
        )


class StaffUser(HttpUser):
    weight = 1
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.me = _random.choice(PEOPLE["staff"])
        self.api = {"Authorization": f"Bearer {self.me['token']}"}

    def _client(self) -> dict:
        return _random.choice(PEOPLE["clients"])

    @task(4)
    def agenda(self) -> None:
        self.client.get("/api/v1/me/agenda", headers=self.api, name="api: agenda (staff)")
        if self.me.get("cookie"):
            self.client.get(
                "/",
                headers={"Cookie": f"portal_session={self.me['cookie']}"},
                name="page: home (staff)",
            )

    @task(4)
    def review(self) -> None:
        client = self._client()
        listed = self.client.get(
            f"/api/v1/spaces/{client['space_id']}/documents?limit=20",
            headers=self.api,
            name="api: space documents (staff)",
        )
        if listed.status_code != 200 or not listed.json()["items"]:
            return
        document = _random.choice(listed.json()["items"])
        action = _random.choice(["check", "validate", "request_changes"])
        with self.client.post(
            f"/api/v1/documents/{document['id']}/review",
            headers=self.api,
            json={"action": action, "comment": "Revisado"},
            name="api: review",
            catch_response=True,
        ) as answer:
            # 409: not allowed from its state; 403: a version the firm uploaded, which the
            # client reviews (documents signed by the firm): both normal answers
            if answer.status_code in (403, 409):
                answer.success()

    @task(2)
    def request_documents(self) -> None:
        client = self._client()
        self.client.post(
            f"/api/v1/spaces/{client['space_id']}/requests",
            headers=self.api,
            json={
                "title": "Trimestre",
                "due_date": "2027-01-20",
                "items": [{"title": "Facturas emitidas"}, {"title": "Facturas recibidas"}],
            },
            name="api: new request",
        )

    @task(1)
    def clients(self) -> None:
        self.client.get("/api/v1/clients?limit=50", headers=self.api, name="api: clients")
