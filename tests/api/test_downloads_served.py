"""Downloads and uploads through the server `portal run` uses (gunicorn, app.server).

Filesystem blobs are handed to gunicorn as a ``wsgi.file_wrapper`` over the blob's exact
span (storage.filesystem.FileSpan), which it reads and sends in blocks; these tests
check what a client sees over real HTTP on one kept-alive connection: exact bytes for
the whole file and for every kind of range (a byte too many would corrupt the next
response on the connection), ETag and filename headers, and no bytes at all for a blob
found damaged. A tus PATCH sent with chunked transfer coding streams into the upload,
and forged X-Forwarded-* headers from a client that is not a configured proxy never
reach the app.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from portal_testing import PASSWORD, _free_port

SIZE = 5 * 1024 * 1024 + 12345  # several of our read blocks, not a multiple of any
ROOT = Path(__file__).resolve().parents[2]

# The child: the app on the same database and blobs as the test, served by app.server
# exactly as `portal run` serves it (jobs are dropped: no worker runs here).
SERVE = """
import json, sys
from app import create_app
from app import server
server.IDLE_SECONDS = 3  # a silent client is cut off after 3 s instead of 120
from app.server import serve
app = create_app(json.loads(sys.argv[1]))
app.extensions["portal_job_runner"] = lambda name, *args: None
serve(app, "127.0.0.1", int(sys.argv[2]), workers=int(sys.argv[3]), threads=4)
"""


@contextmanager
def _served(
    tmp_path: Path, database_url: str, *, storage_url: str | None = None, workers: int = 2
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The portal under gunicorn in its own process, until SIGTERM: its URL and process."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    config = {
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_URL": storage_url or f"file://{tmp_path / 'blobs'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
        "BASE_URL": base,
    }
    command = [sys.executable, "-c", SERVE, json.dumps(config), str(port), str(workers)]
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, (tmp_path / "server.log").read_text()
        log.close()


@pytest.fixture
def live_server(tmp_path, database_url, app) -> Iterator[str]:
    """The portal under gunicorn in its own process (two workers), until SIGTERM."""
    with _served(tmp_path, database_url) as (base, _process):
        yield base


@pytest.fixture
def stored(app, world):
    """A multi-MiB PDF version in client A's space, stored on the filesystem store."""
    from app.extensions import db
    from app.services import documents

    data = b"%PDF-1.7\n" + random.Random(3).randbytes(SIZE - 9)
    document = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(data), filename="Plano «planta» 2ª.pdf"
    )
    db.session.commit()
    return document, data


def _connect(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _token(connection: http.client.HTTPConnection, user) -> dict[str, str]:
    body = json.dumps({"email": user.email, "password": PASSWORD})
    connection.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    assert response.status == 200, payload
    return {"Authorization": f"Bearer {payload['token']}"}


def _get(connection, url, headers):  # type: ignore[no-untyped-def]
    connection.request("GET", url, headers=headers)
    response = connection.getresponse()
    return response, response.read()


def test_whole_file_and_exact_ranges_on_one_connection(live_server, world, stored):
    document, data = stored
    connection = _connect(live_server)
    auth = _token(connection, world.client_a)
    url = f"/api/v1/documents/{document.id}/versions/1/content"

    response, body = _get(connection, url, auth)
    assert response.status == 200
    assert body == data
    assert int(response.headers["Content-Length"]) == SIZE
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Plano «planta» 2ª.pdf"

    cases = {
        "bytes=0-0": (0, 1),
        "bytes=1000000-3000000": (1000000, 2000001),  # a span inside, across read blocks
        f"bytes={SIZE - 10}-": (SIZE - 10, 10),
        "bytes=-4": (SIZE - 4, 4),
        f"bytes=4194000-{SIZE + 999}": (4194000, SIZE - 4194000),  # clipped at the end
    }
    for header, (start, length) in cases.items():
        response, body = _get(connection, url, {**auth, "Range": header})
        assert response.status == 206, header
        assert body == data[start : start + length], header
        assert response.headers["Content-Range"] == f"bytes {start}-{start + length - 1}/{SIZE}"
        assert int(response.headers["Content-Length"]) == length

    # The connection is still in step: nothing was sent past any range.
    response, body = _get(
        connection, url, {**auth, "If-None-Match": f'"{hashlib.sha256(data).hexdigest()}"'}
    )
    assert response.status == 304 and body == b""
    response, body = _get(connection, url, {**auth, "Range": f"bytes={SIZE}-"})
    assert response.status == 416
    connection.request("HEAD", url, headers=auth)
    head = connection.getresponse()
    assert head.status == 200 and head.read() == b""
    assert int(head.headers["Content-Length"]) == SIZE
    response, body = _get(connection, url, {**auth, "Range": "bytes=7-8"})
    assert response.status == 206 and body == data[7:9]
    connection.close()


def test_other_clients_and_damaged_blobs_get_no_bytes(live_server, app, world, stored, tmp_path):
    from pathlib import Path

    from app.extensions import db
    from app.services import integrity

    document, data = stored
    connection = _connect(live_server)
    url = f"/api/v1/documents/{document.id}/versions/1/content"

    outsider = _token(connection, world.client_b)
    response, body = _get(connection, url, outsider)
    assert response.status == 404 and data[:4096] not in body

    version = document.current_version
    path = tmp_path / "blobs" / Path(*version.blob_key.split("/"))
    with open(path, "r+b") as handle:  # one flipped byte on the disk
        handle.seek(SIZE // 2)
        handle.write(bytes([data[SIZE // 2] ^ 0xFF]))
    assert integrity.check_blob(version.blob_key, version.sha256) == integrity.MISMATCH
    db.session.commit()

    staff = _token(connection, world.staff)
    for headers in ({}, {"Range": "bytes=0-1023"}):
        response, body = _get(connection, url, {**staff, **headers})
        assert response.status == 500
        assert response.headers["Content-Type"] == "application/problem+json"
        assert b"%PDF" not in body and len(body) < 4096
    connection.close()


def test_a_chunked_tus_patch_streams_in_and_downloads_back(live_server, world):
    """A PATCH without Content-Length (chunked, as a streaming client sends) is taken whole."""
    data = b"%PDF-1.7\n" + random.Random(5).randbytes(3 * 1024 * 1024)
    connection = _connect(live_server)
    auth = {**_token(connection, world.client_a), "Tus-Resumable": "1.0.0"}
    location = _create_upload(connection, auth, world.space_a.id, len(data), "obra.pdf")
    pieces = (data[i : i + 100_000] for i in range(0, len(data), 100_000))
    connection.request(
        "PATCH",
        location,
        body=pieces,
        headers={
            **auth,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Transfer-Encoding": "chunked",
        },
        encode_chunked=True,
    )
    patched = connection.getresponse()
    patched.read()
    assert patched.status == 204
    assert int(patched.headers["Upload-Offset"]) == len(data)
    document_id = patched.headers["Portal-Document-Id"]

    url = f"/api/v1/documents/{document_id}/versions/1/content"
    response, body = _get(connection, url, auth)
    assert response.status == 200 and body == data
    connection.close()


def test_forwarded_headers_reach_the_app_only_from_configured_proxies():
    from werkzeug.test import Client
    from werkzeug.wrappers import Request, Response

    from app.server import drop_untrusted_forwarded_headers, proxy_networks

    @Request.application
    def echo(request: Request) -> Response:
        seen = {k: v for k, v in request.environ.items() if "FORWARDED" in k}
        return Response(json.dumps({**seen, "peer": request.remote_addr}))

    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Forwarded": "for=x"}
    wrapped = drop_untrusted_forwarded_headers(echo, proxy_networks("10.0.0.0/8, ::1"))
    client = Client(wrapped)
    untrusted = client.get("/", headers=forged, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert json.loads(untrusted.get_data()) == {"peer": "192.0.2.7"}
    trusted = client.get("/", headers=forged, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert json.loads(trusted.get_data())["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
    # behind the proxy, the throttle and the audit trail see the person, not the proxy
    assert json.loads(trusted.get_data())["peer"] == "203.0.113.9"
    # a person's own X-Forwarded-For is to the left of what the proxy appended: not believed
    chained = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.9.9.9"}
    hops = client.get("/", headers=chained, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert json.loads(hops.get_data())["peer"] == "203.0.113.9"
    garbled = client.get(
        "/", headers={"X-Forwarded-For": "<script>"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert json.loads(garbled.get_data())["peer"] == "10.1.2.3"
    nobody = drop_untrusted_forwarded_headers(echo, proxy_networks(""))
    local = Client(nobody).get("/", headers=forged, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert json.loads(local.get_data()) == {"peer": "127.0.0.1"}


def test_the_server_sends_files_with_sendfile():
    """Blob downloads go from the page cache to the socket without passing through Python.

    Gunicorn turns sendfile(2) off as soon as its "sendfile" setting has any value, True
    included; the 4 GB download then ran at 0.5-0.7 of the disk's read speed.
    """
    from flask import Flask

    from app.server import PortalServer, server_options

    server = PortalServer(Flask(__name__), server_options("127.0.0.1", _free_port()))
    assert server.cfg.sendfile is True


def _create_upload(connection, auth, space_id: str, length: int, filename: str) -> str:
    import base64

    metadata = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"space_id": space_id, "filename": filename}.items()
    )
    connection.request(
        "POST",
        "/api/v1/uploads/",
        headers={**auth, "Upload-Length": str(length), "Upload-Metadata": metadata},
    )
    created = connection.getresponse()
    created.read()
    assert created.status == 201
    return created.headers["Location"]


@pytest.mark.parametrize("fault", ["stalls", "hangs up"])
def test_a_patch_cut_short_resumes_from_what_arrived(live_server, world, fault):
    """A client that stops sending mid-PATCH frees its thread; the upload resumes."""
    data = b"%PDF-1.7\n" + random.Random(9).randbytes(2 * 1024 * 1024)
    connection = _connect(live_server)
    auth = {**_token(connection, world.client_a), "Tus-Resumable": "1.0.0"}
    location = _create_upload(connection, auth, world.space_a.id, len(data), "corte.pdf")
    connection.close()

    parts = urlsplit(live_server)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = "".join(f"{k}: {v}\r\n" for k, v in auth.items())
    raw.sendall(
        f"PATCH {location} HTTP/1.1\r\nHost: x\r\n{head}Upload-Offset: 0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data[: len(data) // 2]
    )
    started = time.monotonic()
    if fault == "stalls":
        raw.recv(4096)  # the server gives up on the silent client (3 s here)
        assert time.monotonic() - started < 20
    raw.close()

    connection = _connect(live_server)
    for _ in range(50):  # the server notices the hang-up and records what arrived
        connection.request("HEAD", location, headers=auth)
        status = connection.getresponse()
        status.read()
        assert status.status == 200
        offset = int(status.headers["Upload-Offset"])
        if offset or fault == "stalls":
            break
        time.sleep(0.2)
    assert 0 <= offset <= len(data) // 2
    connection.request(
        "PATCH",
        location,
        body=data[offset:],
        headers={
            **auth,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
    )
    patched = connection.getresponse()
    patched.read()
    assert patched.status == 204, patched.headers
    document_id = patched.headers["Portal-Document-Id"]
    url = f"/api/v1/documents/{document_id}/versions/1/content"
    response, body = _get(connection, url, auth)
    assert response.status == 200 and body == data
    connection.close()


# A bare app served by app.server exactly as the portal is.
SERVE_BARE = """
import sys
from flask import Flask
from app.server import serve
app = Flask("bare")
app.get("/")(lambda: "ok")
serve(app, "127.0.0.1", int(sys.argv[1]), workers=2, threads=2)
"""


def test_a_taken_address_stops_the_server_with_the_reason() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        started = time.monotonic()
        finished = subprocess.run(  # noqa: S603
            [sys.executable, "-c", SERVE_BARE, str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in finished.stderr
    assert time.monotonic() - started < 30


def _memory_mib(pid: int, field: str) -> float:
    """A process's resident memory (VmRSS) or its peak since the last reset (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def _only_worker(process: subprocess.Popen[bytes]) -> int:
    """The pid of gunicorn's one worker, which holds the requests."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_large_upload_to_minio_leaves_the_web_worker_lean(
    tmp_path, database_url, app, world, nanio_server
):
    """512 MiB through tus into nanio: the worker's memory peaks at a few parts, not more.

    The parts (8 MiB, two on the wire, one filling) pass through the worker; glibc's
    default would keep serving them from its arenas after the first few were freed and
    the worker's peak grew with the upload (about 100 MiB over its start at 1 GB).
    """
    from storage_testing import bucket_name

    size, patch = 512 * 1024 * 1024, 64 * 1024 * 1024
    block = b"%PDF-1.7\n" + random.Random(11).randbytes(1024 * 1024 - 9)
    with _served(
        tmp_path, database_url, storage_url=nanio_server.url(bucket_name()), workers=1
    ) as (base, process):
        connection = _connect(base)
        auth = {**_token(connection, world.client_a), "Tus-Resumable": "1.0.0"}
        location = _create_upload(connection, auth, world.space_a.id, size, "maqueta.pdf")
        worker = _only_worker(process)
        before = _memory_mib(worker, "VmRSS")
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # VmHWM starts again from here
        digest, offset = hashlib.sha256(), 0
        while offset < size:
            connection.putrequest("PATCH", location)
            for name, value in {
                **auth,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(patch),
            }.items():
                connection.putheader(name, value)
            connection.endheaders()
            for number in range(patch // len(block)):
                stamp = (offset + number * len(block)).to_bytes(8, "big")  # each MiB its own
                piece = block[:9] + stamp + block[17:]
                digest.update(piece)
                connection.send(piece)
            patched = connection.getresponse()
            patched.read()
            assert patched.status == 204
            offset = int(patched.headers["Upload-Offset"])
        grown = _memory_mib(worker, "VmHWM") - before
        document_id = patched.headers["Portal-Document-Id"]
        response, body = _get(connection, f"/api/v1/documents/{document_id}", auth)
        assert response.status == 200
        version = json.loads(body)["current_version"]
        response, _ = _get(connection, f"/api/v1/documents/{document_id}/versions/1/content", auth)
        assert response.status == 303
        connection.close()
        presigned = urlsplit(response.headers["Location"])
        download = http.client.HTTPConnection(presigned.hostname, presigned.port, timeout=60)
        download.request("GET", f"{presigned.path}?{presigned.query}")
        content, downloaded = download.getresponse(), hashlib.sha256()
        while piece := content.read(1024 * 1024):
            downloaded.update(piece)
        download.close()
    assert (version["size"], version["sha256"]) == (size, digest.hexdigest())
    assert downloaded.hexdigest() == digest.hexdigest()
    assert "X-Amz-Signature" not in (tmp_path / "server.log").read_text()  # never logged
    # Four 8 MiB parts (two on the wire, one handed over, one filling) and the server's
    # read buffers: about 35 MiB. Parts copied through a growing bytearray and served from
    # glibc's arenas grew it by 65-80 MiB here (and ~100 MiB at 1 GB).
    assert grown < 52, f"the web worker grew {grown:.0f} MiB during a 512 MiB upload"


# The portal's app served as `portal run` serves it, with one more route: what its request
# threads see of the garbage collector.
SERVE_FROZEN = """
import gc, json, sys
from app import create_app
from app.server import serve
app = create_app(json.loads(sys.argv[1]))
app.get("/_gc")(lambda: {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())})
serve(app, "127.0.0.1", int(sys.argv[2]), workers=2, threads=2)
"""


def test_the_web_workers_never_walk_the_app_in_a_garbage_collection(tmp_path, database_url) -> None:
    """The app's own objects are frozen before the workers fork: a full collection (which
    stops every request thread) walks only what requests made since, not the 200,000
    objects of the app, which took 100 to 500 ms each time under load."""
    port = _free_port()
    config = {
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
    }
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SERVE_FROZEN, json.dumps(config), str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/_gc")
                seen = json.loads(connection.getresponse().read())
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        assert seen["frozen"] > 100_000, seen  # the app, out of every collection
        assert seen["tracked"] < seen["frozen"] / 4, seen  # what a full collection walks
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, (tmp_path / "server.log").read_text()
        log.close()
