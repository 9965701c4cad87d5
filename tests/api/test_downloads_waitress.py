"""Downloads through waitress, the server `portal run` uses: the blob goes out from its file.

Filesystem blobs are handed to waitress as a ``wsgi.file_wrapper``; these tests
check what a client sees over real HTTP on one kept-alive connection: exact
bytes for the whole file and for every kind of range (a byte too many would
corrupt the next response on the connection), ETag and filename headers, and
no bytes at all for a blob found damaged.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
from urllib.parse import unquote, urlsplit

import pytest
from portal_testing import PASSWORD

SIZE = 5 * 1024 * 1024 + 12345  # several of waitress's send chunks and of our read blocks


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
