"""A bare WSGI tus endpoint over storage.resumable, so that a real tus client can drive it.

It stands in for the portal's /api/v1/uploads/ routes (which add authentication
and turn the finished blob into a document): HTTP in, one library call, HTTP out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from storage import (
    ChecksumMismatch,
    InvalidUploadRequest,
    OffsetMismatch,
    ResumableUploads,
    StorageFull,
    StoredBlob,
    UnsupportedChecksum,
    UploadBusy,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
    UploadTooLarge,
)
from storage.resumable import (
    CHECKSUM_ALGORITHMS,
    TUS_EXTENSIONS,
    TUS_VERSION,
    format_expires,
    parse_checksum,
    parse_metadata,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

STATUS = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    400: "400 Bad Request",
    404: "404 Not Found",
    409: "409 Conflict",
    410: "410 Gone",
    412: "412 Precondition Failed",
    413: "413 Request Entity Too Large",
    415: "415 Unsupported Media Type",
    423: "423 Locked",
    460: "460 Checksum Mismatch",
    507: "507 Insufficient Storage",
}

ERRORS: list[tuple[type[Exception], int]] = [
    (UploadNotFound, 404),
    (UploadExpired, 410),
    (OffsetMismatch, 409),
    (UploadIncomplete, 409),
    (ChecksumMismatch, 460),
    (UnsupportedChecksum, 400),
    (InvalidUploadRequest, 400),
    (UploadTooLarge, 413),
    (UploadBusy, 423),
    (StorageFull, 507),
]


class BodyStream:
    """The request body, cut at Content-Length (wsgi.input may not end on its own)."""

    def __init__(self, raw: Any, length: int) -> None:
        self.raw = raw
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.raw.read(size)
        if not data:
            raise ConnectionResetError("the client went away")
        self.remaining -= len(data)
        return bytes(data)


class TusApp:
    """tus 1.0 (core, creation, termination, checksum, expiration) in front of the library."""

    def __init__(self, uploads: ResumableUploads, max_size: int) -> None:
        self.uploads = uploads
        self.max_size = max_size
        self.finished: dict[str, StoredBlob] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = [("Tus-Resumable", TUS_VERSION), ("Cache-Control", "no-store")]
        try:
            status = self.handle(environ, headers)
        except tuple(error for error, _ in ERRORS) as exc:
            status = next(code for error, code in ERRORS if isinstance(exc, error))
            if isinstance(exc, OffsetMismatch):
                headers.append(("Upload-Offset", str(exc.expected)))
        except ValueError:
            status = 400
        start_response(STATUS[status], [*headers, ("Content-Length", "0")])
        return [b""]

    def handle(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> int:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        header = lambda name: environ.get("HTTP_" + name.upper().replace("-", "_"))  # noqa: E731
        if method == "OPTIONS":
            headers += [
                ("Tus-Version", TUS_VERSION),
                ("Tus-Extension", ",".join(TUS_EXTENSIONS)),
                ("Tus-Checksum-Algorithm", ",".join(CHECKSUM_ALGORITHMS)),
                ("Tus-Max-Size", str(self.max_size)),
            ]
            return 204
        if header("Tus-Resumable") != TUS_VERSION:
            headers.append(("Tus-Version", TUS_VERSION))
            return 412
        if path == "/files/" and method == "POST":
            length = header("Upload-Length")
            if length is None and header("Upload-Defer-Length") != "1":
                return 400
            info = self.uploads.create(
                None if length is None else int(length),
                parse_metadata(header("Upload-Metadata")),
                max_size=self.max_size,
            )
            headers += [
                ("Location", f"/files/{info.id}"),
                ("Upload-Expires", format_expires(info.expires_at)),
            ]
            return 201
        upload_id = path.removeprefix("/files/")
        if method == "HEAD":
            info = self.uploads.info(upload_id)
            headers.append(("Upload-Offset", str(info.offset)))
            if info.length is None:
                headers.append(("Upload-Defer-Length", "1"))
            else:
                headers.append(("Upload-Length", str(info.length)))
            headers.append(("Upload-Expires", format_expires(info.expires_at)))
            return 200
        if method == "PATCH":
            if environ.get("CONTENT_TYPE") != "application/offset+octet-stream":
                return 415
            length = header("Upload-Length")
            info = self.uploads.append(
                upload_id,
                int(header("Upload-Offset") or "-1"),
                BodyStream(environ["wsgi.input"], int(environ.get("CONTENT_LENGTH") or 0)),
                checksum=parse_checksum(header("Upload-Checksum")),
                length=None if length is None else int(length),
            )
            if info.complete:
                # The portal turns this blob into a document or version here.
                self.finished[upload_id] = self.uploads.finish(upload_id)
            headers += [
                ("Upload-Offset", str(info.offset)),
                ("Upload-Expires", format_expires(info.expires_at)),
            ]
            return 204
        if method == "DELETE":
            self.uploads.terminate(upload_id)
            return 204
        return 404


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class TusServer:
    """TusApp served on 127.0.0.1 from a thread; can be stopped and started again (a restart)."""

    def __init__(self, app: TusApp, port: int = 0) -> None:
        self.app = app
        self._server: WSGIServer = make_server("127.0.0.1", port, app, handler_class=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/files/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
