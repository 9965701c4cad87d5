"""Resumable uploads with the tus 1.0 protocol (core, creation, termination, checksum, expiration).

HTTP in, one service call, HTTP out. Errors are problem+json with the tus status
codes (404, 409, 410, 412, 413, 415, 423, 460, 507) and every answer carries
``Tus-Resumable``. The bearer token authenticates, or the browser session with
the CSRF token in an ``X-CSRFToken`` header (the web UI's Uppy uploader).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any, BinaryIO, cast

from flask import Response, request
from werkzeug.exceptions import ClientDisconnected

from app.api import SESSION_ENDPOINTS, api_bp, caller, problem
from app.services import uploads
from app.services.errors import DomainError
from app.services.uploads import UploadRefused, UploadStatus
from app.unit_of_work import keep_on_error
from storage import (
    ChecksumMismatch,
    InvalidUploadRequest,
    OffsetMismatch,
    StorageError,
    StorageFull,
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

DOCUMENT_HEADER = "Portal-Document-Id"
VERSION_HEADER = "Portal-Version"

# (error, status, title) for the storage library's failures, most specific first.
_STORAGE_ERRORS: list[tuple[type[Exception], int, str]] = [
    (UploadNotFound, 404, "Not found"),
    (UploadExpired, 410, "Upload expired"),
    (OffsetMismatch, 409, "Offset mismatch"),
    (UploadIncomplete, 409, "Upload incomplete"),
    (ChecksumMismatch, 460, "Checksum mismatch"),
    (UnsupportedChecksum, 400, "Unsupported checksum algorithm"),
    (InvalidUploadRequest, 400, "Invalid upload request"),
    (UploadTooLarge, 413, "File too large"),
    (UploadBusy, 423, "Upload busy"),
    (StorageFull, 507, "Storage full"),
]
_DETAILS = {
    410: "La subida caducó antes de terminar. Empiece de nuevo.",
    409: "La subida está en otra posición; pregunte por ella (HEAD) y siga desde allí.",
    460: "Los datos recibidos no coinciden con su suma de control; se han descartado.",
    413: "El archivo supera el tamaño declarado o el máximo permitido.",
    423: "Otra petición está enviando datos a esta subida; vuelva a intentarlo.",
    507: "No queda espacio en el almacenamiento. No se ha guardado nada.",
}


def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def _empty(status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]
    response.headers.update(headers or {})
    return _tus_headers(response)


def _storage_problem(exc: StorageError) -> Response:
    for error, status, title in _STORAGE_ERRORS:
        if isinstance(exc, error):
            detail = "Not found" if status == 404 else _DETAILS.get(status, title)
            response = problem(status, title, detail)
            if isinstance(exc, OffsetMismatch):
                response.headers["Upload-Offset"] = str(exc.expected)
            return response
    # The store could not be reached: worth retrying later (tus clients retry 5xx).
    response = problem(
        503,
        "Storage unavailable",
        "El almacenamiento no responde ahora mismo. La subida puede continuar más tarde.",
    )
    response.headers["Retry-After"] = "5"
    return response


def tus_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Translate service and storage failures into tus answers, with Tus-Resumable on all."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            response = view(*args, **kwargs)
        except UploadRefused as refused:
            keep_on_error()  # the refused upload's row is gone for good
            response = problem(refused.status, refused.title, refused.detail, **refused.extra)
        except DomainError as error:
            extra = dict(error.extra)
            if hasattr(error, "errors"):
                extra["errors"] = error.errors
            response = problem(error.status, error.title, error.detail, **extra)
        except StorageError as exc:
            response = _storage_problem(exc)
        except ClientDisconnected:
            response = problem(400, "Client disconnected", "The request body was cut short.")
        return _tus_headers(response)

    return wrapper


def _require_tus_version() -> Response | None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return _empty(412, {"Tus-Version": TUS_VERSION})
    return None


def _integer_header(name: str) -> int | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidUploadRequest(f"{name} must be a non-negative integer")
    return int(value)


def _progress_headers(status: UploadStatus) -> dict[str, str]:
    headers = {"Upload-Offset": str(status.offset)}
    if status.length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(status.length)
    if status.expires_at is not None and not status.complete:
        headers["Upload-Expires"] = format_expires(status.expires_at)
    if status.document_id is not None:
        headers[DOCUMENT_HEADER] = status.document_id
        headers[VERSION_HEADER] = str(status.version)
    return headers


class _RequestBody(io.RawIOBase):
    """The request body read straight from the server's input, up to Content-Length.

    werkzeug's ``request.stream`` copies every piece twice more on its way (into a
    bytearray, then into bytes); a PATCH is read a MiB at a time, gigabytes long. A
    body that ends early or fails is ClientDisconnected, as werkzeug has it.
    """

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self._stream = stream
        self._remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        if wanted == 0:
            return b""
        try:
            data = self._stream.read(wanted)
        except (OSError, ValueError) as exc:
            raise ClientDisconnected() from exc
        if not data:
            raise ClientDisconnected()
        self._remaining -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _request_body() -> BinaryIO:
    """The PATCH body: the server's input bounded by Content-Length, else werkzeug's stream."""
    length = request.content_length
    limit = request.max_content_length
    if length is None or (limit is not None and length > limit):
        # A chunked body (no length), or a 413 for one over the limit, as werkzeug does them.
        return request.stream
    return cast(BinaryIO, _RequestBody(request.environ["wsgi.input"], length))


@api_bp.route("/uploads/", methods=["POST", "OPTIONS"])
@tus_view
def create_upload() -> Response:
    """tus creation (POST) and discovery (OPTIONS)."""
    if request.method == "OPTIONS":
        return _empty(
            204,
            {
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": ",".join(TUS_EXTENSIONS),
                "Tus-Max-Size": str(uploads.max_size()),
                "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
            },
        )
    refused = _require_tus_version()
    if refused is not None:
        return refused
    length = _integer_header("Upload-Length")
    if length is None and request.headers.get("Upload-Defer-Length") != "1":
        raise InvalidUploadRequest("Upload-Length or Upload-Defer-Length: 1 is required")
    metadata = parse_metadata(request.headers.get("Upload-Metadata"))
    status = uploads.start_upload(caller(), length=length, metadata=metadata)
    headers = _progress_headers(status)
    headers["Location"] = f"{api_bp.url_prefix}/uploads/{status.id}"
    return _empty(201, headers)


@api_bp.route("/uploads/<upload_id>", methods=["HEAD"])
@tus_view
def upload_offset(upload_id: str) -> Response:
    """tus HEAD: where the caller's upload stands (and its document once complete)."""
    refused = _require_tus_version()
    if refused is not None:
        return refused
    status = uploads.upload_status(caller(), upload_id)
    return _empty(200, _progress_headers(status))


@api_bp.route("/uploads/<upload_id>", methods=["PATCH"])
@tus_view
def append_upload(upload_id: str) -> Response:
    """tus PATCH: bytes at Upload-Offset; the last ones make the document."""
    refused = _require_tus_version()
    if refused is not None:
        return refused
    if request.mimetype != "application/offset+octet-stream":
        return problem(
            415,
            "Unsupported Media Type",
            "PATCH needs Content-Type application/offset+octet-stream.",
        )
    offset = _integer_header("Upload-Offset")
    if offset is None:
        raise InvalidUploadRequest("Upload-Offset is required")
    status = uploads.append_chunk(
        caller(),
        upload_id,
        offset=offset,
        stream=_request_body(),
        checksum=parse_checksum(request.headers.get("Upload-Checksum")),
        length=_integer_header("Upload-Length"),
    )
    return _empty(204, _progress_headers(status))


@api_bp.route("/uploads/<upload_id>", methods=["DELETE"])
@tus_view
def terminate_upload(upload_id: str) -> Response:
    """tus termination: the bytes go (a finished upload's document stays)."""
    refused = _require_tus_version()
    if refused is not None:
        return refused
    uploads.cancel_upload(caller(), upload_id)
    return _empty(204)


SESSION_ENDPOINTS.update(
    {"api.create_upload", "api.upload_offset", "api.append_upload", "api.terminate_upload"}
)
