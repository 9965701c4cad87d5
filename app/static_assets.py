"""Static files: versioned URLs, long caching, compressed answers, so pages load fast.

``url_for('static', filename=...)`` gets ``?v=<content hash>``. A request carrying the
file's current hash may be kept for a year (``immutable``): a new release changes the
hash, hence the URL. Any other request (an old hash, or a relative import from a
script) must revalidate, and gets a 304 while its ETag still matches.

Text assets are sent compressed: brotli or gzip files made at build time by
``portal compress-assets`` (``make assets``; the Docker image) under
``app/static/.compressed``, named by content hash so that a stale one is never
served; without them, gzip made on first request and kept in memory.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import mimetypes
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, request, send_file
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

COMPRESSED_DIR = ".compressed"
COMPRESSIBLE_SUFFIXES = {".css", ".js", ".mjs", ".svg", ".json", ".txt", ".map", ".html"}
MIN_COMPRESS_SIZE = 512
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: Encodings offered, best first, with the suffix of their precompressed files.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))

_lock = threading.Lock()
_versions: dict[str, tuple[int, int, str]] = {}
_gzipped: dict[tuple[str, str], bytes] = {}


def asset_version(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256 (cached until the file changes)."""
    stat = path.stat()
    key = str(path)
    cached = _versions.get(key)
    if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    with _lock:
        _versions[key] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def compressible(path: Path) -> bool:
    return path.suffix.lower() in COMPRESSIBLE_SUFFIXES


def compressed_path(static: Path, relative: str, version: str, suffix: str) -> Path:
    return static / COMPRESSED_DIR / f"{relative}.{version}{suffix}"


def compress_assets(static: Path) -> list[Path]:
    """Write brotli (when the library is there) and gzip files of every text asset."""
    try:
        import brotli
    except ImportError:  # brotli is optional: gzip alone still serves everything compressed
        brotli = None
    written: list[Path] = []
    for path in sorted(static.rglob("*")):
        relative = path.relative_to(static).as_posix()
        if relative.startswith(COMPRESSED_DIR) or not path.is_file() or not compressible(path):
            continue
        data = path.read_bytes()
        if len(data) < MIN_COMPRESS_SIZE:
            continue
        version = asset_version(path)
        makers = [(".gz", lambda raw: gzip.compress(raw, compresslevel=9, mtime=0))]
        if brotli is not None:
            makers.append((".br", lambda raw: brotli.compress(raw, quality=11)))
        for suffix, make in makers:
            target = compressed_path(static, relative, version, suffix)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            hashed = "[0-9a-f]" * 12
            for stale in target.parent.glob(f"{glob.escape(path.name)}.{hashed}{suffix}"):
                stale.unlink()  # variants of earlier contents of this file
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(make(data))
            os.replace(partial, target)
            written.append(target)
    return written


def _accepted(encoding: str) -> bool:
    return request.accept_encodings[encoding] > 0


def _gzip_in_memory(path: Path, version: str) -> bytes:
    key = (str(path), version)
    body = _gzipped.get(key)
    if body is None:
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        with _lock:
            _gzipped[key] = body
    return body


def serve_static(filename: str) -> Response:
    """The static view: versioned caching, ETag/304, precompressed variants."""
    from flask import current_app

    static = Path(current_app.static_folder or "")
    if filename.startswith(COMPRESSED_DIR):
        abort(404)
    joined = safe_join(str(static), filename)
    if joined is None or not os.path.isfile(joined):
        abort(404)
    path = Path(joined)
    version = asset_version(path)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".mjs":
        mimetype = "text/javascript"
    source: Path | io.BytesIO = path
    encoding = None
    if compressible(path) and path.stat().st_size >= MIN_COMPRESS_SIZE:
        relative = path.relative_to(static).as_posix()
        for name, suffix in ENCODINGS:
            variant = compressed_path(static, relative, version, suffix)
            if _accepted(name) and variant.is_file():
                source, encoding = variant, name
                break
        else:
            if _accepted("gzip"):
                source, encoding = io.BytesIO(_gzip_in_memory(path, version)), "gzip"
    response = send_file(
        source,
        mimetype=mimetype,
        conditional=True,
        etag=f"{version}-{encoding or 'identity'}",
        last_modified=path.stat().st_mtime,
    )
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if compressible(path):
        response.vary.add("Accept-Encoding")
    fresh = request.args.get("v") == version
    response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
    return response


def init_static(app: Flask) -> None:
    """Version the static URLs and serve them with caching and compression."""
    static = Path(app.static_folder or "")

    # Each page links half a dozen assets: their versions are looked at on disk at most
    # once a second per file (two stat calls each time), not on every link.
    recent: dict[str, tuple[float, str | None]] = {}

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        filename = values["filename"]
        now = time.monotonic()
        known = recent.get(filename)
        if known is None or now - known[0] > 1.0:
            joined = safe_join(str(Path(app.static_folder or static)), filename)
            version = asset_version(Path(joined)) if joined and os.path.isfile(joined) else None
            known = recent[filename] = (now, version)
        if known[1] is not None:
            values["v"] = known[1]

    app.view_functions["static"] = serve_static
