"""HTTP details shared by the web UI and the API: file downloads with Range and ETag."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import quote

from flask import Response, redirect, request
from werkzeug.wsgi import wrap_file

from app.services.documents import Download

# Block size in which the server reads a file response (wsgi.file_wrapper): on a cold
# 4 GB blob, 4 MiB reads sent one by one kept up with the disk where 1 MiB reads ran at
# 0.6-0.7 of its speed.
FILE_BLOCK = 4 * 1024 * 1024


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact name as RFC 5987 ``filename*``."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_body(download: Download) -> Iterable[bytes]:
    """The bytes of a download as the WSGI server sends them fastest.

    A blob with a local file goes out through ``wsgi.file_wrapper`` (gunicorn sends it
    with sendfile(2); a server without it reads FILE_BLOCK blocks, each sent as read);
    other blobs stream in chunks. Either way only the requested span is read.
    """
    handle = download.open_file()
    if handle is None:
        return download.chunks()
    return wrap_file(request.environ, handle, FILE_BLOCK)  # type: ignore[no-any-return]


def send_version(
    size: int,
    sha256: str,
    open_download: Callable[[int, int | None], Download],
    filename: str,
    content_type: str,
    *,
    allow_redirect: bool = False,
) -> Response:
    """Answer 200, 206, 304 or 416 for a version's bytes; the access check happens in open_download.

    With `allow_redirect`, a store that has direct URLs (MinIO) gets a 303 to a
    short-lived presigned URL instead; the client sends its Range there.
    """
    etag = sha256
    if request.if_none_match and etag in request.if_none_match:
        response = Response(status=304)
        response.set_etag(etag)
        return response
    start, length, status = 0, size, 200
    ranges = request.range
    if ranges is not None and (request.if_range.etag in (None, etag) if request.if_range else True):
        if len(ranges.ranges) == 1 and ranges.units == "bytes":
            bounds = ranges.range_for_length(size)
            if bounds is None:
                response = Response(status=416)
                response.headers["Content-Range"] = f"bytes */{size}"
                return response
            start, stop = bounds
            length, status = stop - start, 206
    download = open_download(start, length)
    if allow_redirect:
        direct = download.presigned_url()
        if direct is not None:
            moved = redirect(direct, code=303)
            moved.headers["Cache-Control"] = "private, no-store"
            return moved
    response = Response(
        download_body(download), status=status, mimetype=content_type, direct_passthrough=True
    )
    response.headers["Content-Length"] = str(length)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.set_etag(etag)
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    return response
