"""Upload benchmark, library level: floors of the disk and of SHA-256, then the stores.

Run standalone: ``.venv/bin/python bench/upload.py [--sizes 1G,4G] [--dir PATH]``.

Floors (same disk as the blobs): raw write (dd-style, 8 MiB blocks, fsync),
raw SHA-256 of in-memory data, raw read with the page cache dropped. Then, for
each size, each in a fresh process so that its peak RSS is its own:

- FilesystemStore.put, and the tus path (create, 8 MiB appends, finish), as a
  ratio of min(raw write, raw SHA-256);
- FilesystemStore.open_range (cold cache) as a ratio of raw read, and the cost
  of the sha256 re-read a `finish` does when no running hash is at hand;
- on a nanio server on the same disk: a bare ``minio`` ``put_object``, then
  MinioStore.put and the MinIO tus path as ratios of it, and downloads.

Data is generated on the fly (a random 8 MiB block with a counter stamped in
each block), never held whole.

Through the running portal (``--what portal``; the default runs both): the web
app under gunicorn as ``portal run`` serves it, in its own process on a filesystem
store, a tus upload in 64 MiB PATCHes as a ratio of min(raw write, raw SHA-256),
the download (cold cache) as a ratio of raw read, and the web process's peak RSS
(VmHWM, the largest of gunicorn's arbiter and worker) during the
transfers per size (its RSS after start-up, and the peak of start-up plus the API
login, whose argon2id hash takes 64 MiB for a moment, are printed beside it);
then the same portal on nanio against a bare ``minio`` put_object of the same size
(``--what portal-minio`` runs only that comparison).
The portal rows run ``--repeat`` rounds, each measuring the write floor right before its own
upload, and the read floor on the uploaded blob itself, raw, twice, as is the download, in
the order download, raw, raw, download (raw, download, download, raw every other round), so
that each goes first as often as the other; medians are reported: the VM host's cache makes
raw writes and first reads swing (a read right after another of the same blob runs faster
even with the guest's page cache dropped), and floors and transfers must meet the same
state of it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import FilesystemStore, build_resumable  # noqa: E402
from storage.minio_store import MinioStore  # noqa: E402

MIB = 1024 * 1024
BLOCK = 8 * MIB
UNITS = {"K": 1024, "M": MIB, "G": 1024 * MIB}
ACCESS_KEY = "bench"
SECRET_KEY = "bench-secret-key"


class Generated(io.RawIOBase):
    """`size` bytes of a random block with a per-block counter; nothing held but the block."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.size = size
        self.block = random.Random(seed).randbytes(BLOCK)
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        remaining = self.size - self.position
        if size < 0 or size > remaining:
            size = remaining
        pieces = []
        while size > 0:
            number, within = divmod(self.position, BLOCK)
            take = min(size, BLOCK - within)
            piece = self.block[within : within + take]
            if within < 8:
                stamp = number.to_bytes(8, "big")[within:]
                piece = stamp[:take] + piece[len(stamp[:take]) :]
            pieces.append(piece)
            self.position += take
            size -= take
        return b"".join(pieces)

    def chunks(self, size: int) -> Iterator[bytes]:
        """The data in pieces of `size` bytes."""
        while piece := self.read(size):
            yield piece


def parse_size(text: str) -> int:
    """'512M', '1G', '4G' (binary units) in bytes."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def human(size: int) -> str:
    for unit, factor in (("G", 1024 * MIB), ("M", MIB), ("K", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def drop_cache(path: Path) -> None:
    """Evict a file from the page cache so the next read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def peak_rss_mib() -> float:
    """This process's peak resident set size (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- floors


def raw_write(directory: Path, size: int) -> float:
    """dd-style: 8 MiB blocks from memory into a file, fsync; seconds."""
    path = directory / "raw-write.bin"
    source = Generated(size)
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for block in source.chunks(BLOCK):
            os.write(fd, block)
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - started


def raw_read(directory: Path) -> float:
    """Read back the raw-write file from the disk (page cache dropped); seconds."""
    path = directory / "raw-write.bin"
    drop_cache(path)
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while handle.read(BLOCK):
            pass
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


def raw_read_file(path: Path) -> float:
    """Read a file from the disk (page cache dropped by the caller) in 8 MiB blocks; seconds."""
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while handle.read(BLOCK):
            pass
    return time.perf_counter() - started


def raw_sha256(size: int) -> float:
    """SHA-256 of `size` bytes already in memory; seconds."""
    block = random.Random(1).randbytes(BLOCK)
    digest = hashlib.sha256()
    started = time.perf_counter()
    for _ in range(size // BLOCK):
        digest.update(block)
    digest.update(block[: size % BLOCK])
    return time.perf_counter() - started


# ---------------------------------------------------------------- measured in child processes


@dataclass(frozen=True)
class Figure:
    """One measurement: seconds taken and the measuring process's peak RSS."""

    seconds: float
    rss_mib: float
    base_rss_mib: float
    extra: dict[str, float]


def _child(queue: Any, name: str, args: dict[str, Any]) -> None:
    logging.getLogger("storage.minio_store").setLevel(logging.ERROR)
    if "cold_file" in args:
        drop_cache(Path(args["cold_file"]))
    base = peak_rss_mib()
    extra: dict[str, float] = {}
    started = time.perf_counter()
    MEASURES[name](args, extra)
    elapsed = time.perf_counter() - started
    queue.put(Figure(elapsed, peak_rss_mib(), base, extra))


REPEAT = 3


def run_child(name: str, *, rounds: int | None = None, **args: Any) -> Figure:
    """Run one measurement in fresh processes, `rounds` (default REPEAT) times; the median
    time, the top RSS."""
    context = multiprocessing.get_context("spawn")
    figures: list[Figure] = []
    for _ in range(REPEAT if rounds is None else rounds):
        os.sync()
        queue = context.Queue()
        process = context.Process(target=_child, args=(queue, name, args))
        process.start()
        figures.append(queue.get())
        process.join()
    figures.sort(key=lambda figure: figure.seconds)
    middle = figures[len(figures) // 2]
    return Figure(
        seconds=middle.seconds,
        rss_mib=max(figure.rss_mib for figure in figures),
        base_rss_mib=middle.base_rss_mib,
        extra=middle.extra,
    )


def median_seconds(measure: Callable[[], float]) -> float:
    """The median of REPEAT runs of a floor measurement."""
    times = []
    for _ in range(REPEAT):
        os.sync()
        times.append(measure())
    return sorted(times)[len(times) // 2]


def _minio_store(args: dict[str, Any]) -> MinioStore:
    return MinioStore.from_url(
        f"minio://{ACCESS_KEY}:{SECRET_KEY}@{args['endpoint']}/{args['bucket']}"
    )


def measure_fs_put(args: dict[str, Any], extra: dict[str, float]) -> None:
    store = FilesystemStore(args["root"])
    blob = store.put(Generated(args["size"]))
    Path(args["key_file"]).write_text(blob.key)


def measure_fs_resumable(args: dict[str, Any], extra: dict[str, float]) -> None:
    uploads = build_resumable(FilesystemStore(args["root"]))
    _tus_upload(uploads, args["size"], args["chunk"], extra)


def measure_fs_download(args: dict[str, Any], extra: dict[str, float]) -> None:
    store = FilesystemStore(args["root"])
    for _ in store.open_range(args["key"]):
        pass


def measure_fs_rehash(args: dict[str, Any], extra: dict[str, float]) -> None:
    FilesystemStore(args["root"]).hash_blob(args["key"])


def measure_bare_minio(args: dict[str, Any], extra: dict[str, float]) -> None:
    client = _minio_store(args).objects.client
    client.put_object(args["bucket"], "bare/object", Generated(args["size"]), length=args["size"])


def measure_minio_put(args: dict[str, Any], extra: dict[str, float]) -> None:
    blob = _minio_store(args).put(Generated(args["size"]))
    Path(args["key_file"]).write_text(blob.key)


def measure_minio_resumable(args: dict[str, Any], extra: dict[str, float]) -> None:
    _tus_upload(build_resumable(_minio_store(args)), args["size"], args["chunk"], extra)


def measure_bare_minio_download(args: dict[str, Any], extra: dict[str, float]) -> None:
    response = _minio_store(args).objects.client.get_object(args["bucket"], "bare/object")
    for _ in response.stream(BLOCK):
        pass
    response.close()
    response.release_conn()


def measure_minio_download(args: dict[str, Any], extra: dict[str, float]) -> None:
    for _ in _minio_store(args).open_range(args["key"]):
        pass


def measure_minio_rehash(args: dict[str, Any], extra: dict[str, float]) -> None:
    _minio_store(args).hash_blob(args["key"])


def _tus_upload(uploads: Any, size: int, chunk_size: int, extra: dict[str, float]) -> None:
    """What the tus routes do: create, PATCHes (sha1 checksum on each chunk), finish.

    `chunk_size` 0 sends the whole file in one PATCH without a checksum, as Uppy
    does by default. Only the library calls are timed (``server_seconds``): the
    client's own work (making the data, its sha1) is not the server's.
    """
    server = 0.0
    started = time.perf_counter()
    info = uploads.create(size, {"filename": "bench.bin"})
    source = Generated(size)
    if chunk_size == 0:
        uploads.append(info.id, 0, source)
    server += time.perf_counter() - started
    offset = 0
    for chunk in source.chunks(chunk_size or BLOCK):
        checksum = ("sha1", hashlib.sha1(chunk).digest())
        body = io.BytesIO(chunk)
        started = time.perf_counter()
        offset = uploads.append(info.id, offset, body, checksum=checksum).offset
        server += time.perf_counter() - started
    started = time.perf_counter()
    uploads.finish(info.id)
    extra["finish_seconds"] = time.perf_counter() - started
    extra["server_seconds"] = server + extra["finish_seconds"]


MEASURES: dict[str, Callable[[dict[str, Any], dict[str, float]], None]] = {
    "fs_put": measure_fs_put,
    "fs_resumable": measure_fs_resumable,
    "fs_download": measure_fs_download,
    "fs_rehash": measure_fs_rehash,
    "bare_minio": measure_bare_minio,
    "minio_put": measure_minio_put,
    "minio_resumable": measure_minio_resumable,
    "bare_minio_download": measure_bare_minio_download,
    "minio_download": measure_minio_download,
    "minio_rehash": measure_minio_rehash,
}


# ---------------------------------------------------------------- nanio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nanio_server(data_dir: Path) -> Iterator[str]:
    """A nanio S3 server on 127.0.0.1 for the duration of the block; yields host:port."""
    port = _free_port()
    env = dict(os.environ, NANIO_ACCESS_KEY=ACCESS_KEY, NANIO_SECRET_KEY=SECRET_KEY)
    command = [sys.executable, "-m", "nanio", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--data-dir", str(data_dir), "--no-access-log"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nanio did not start") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


# ---------------------------------------------------------------- the run


def throughput(size: int, seconds: float) -> float:
    """MB/s (10^6 bytes, as dd prints)."""
    return size / seconds / 1e6


def bench_size(directory: Path, size: int, endpoint: str | None) -> dict[str, Any]:
    """Every measurement for one size."""
    results: dict[str, Any] = {"size": size}
    write_s = median_seconds(lambda: raw_write(directory, size))
    read_s = median_seconds(lambda: (raw_write(directory, size), raw_read(directory))[1])
    sha_s = median_seconds(lambda: raw_sha256(size))
    floor = min(throughput(size, write_s), throughput(size, sha_s))
    results["floor"] = {
        "raw_write_mb_s": throughput(size, write_s),
        "raw_sha256_mb_s": throughput(size, sha_s),
        "raw_read_mb_s": throughput(size, read_s),
        "upload_floor_mb_s": floor,
    }

    root = directory / "blobs"
    key_file = directory / "key.txt"
    rows: list[dict[str, Any]] = []

    def row(label: str, figure: Figure, reference: float | None, against: str) -> None:
        speed = throughput(size, figure.extra.get("server_seconds", figure.seconds))
        rows.append(
            {
                "what": label,
                "mb_s": speed,
                "ratio": speed / reference if reference else None,
                "against": against,
                "peak_rss_mib": figure.rss_mib,
                "base_rss_mib": figure.base_rss_mib,
                **figure.extra,
            }
        )

    put = run_child("fs_put", root=str(root), size=size, key_file=str(key_file))
    row("FilesystemStore.put", put, floor, "min(raw write, raw sha256)")
    key = key_file.read_text()
    tus = run_child("fs_resumable", root=str(root), size=size, chunk=BLOCK)
    row("filesystem tus, 8 MiB PATCHes", tus, floor, "min(raw write, raw sha256)")
    tus = run_child("fs_resumable", root=str(root), size=size, chunk=0)
    row("filesystem tus, one PATCH", tus, floor, "min(raw write, raw sha256)")
    blob_file = str(root.joinpath(*key.split("/")))
    download = run_child("fs_download", root=str(root), key=key, cold_file=blob_file)
    row("FilesystemStore.open_range (cold)", download, throughput(size, read_s), "raw read")
    rehash = run_child("fs_rehash", root=str(root), key=key, cold_file=blob_file)
    row("sha256 re-read at finish (cold)", rehash, floor, "min(raw write, raw sha256)")
    rehash = run_child("fs_rehash", root=str(root), key=key)
    row("sha256 re-read at finish (warm)", rehash, throughput(size, sha_s), "raw sha256")
    shutil.rmtree(root)

    if endpoint is not None:
        bucket = f"bench-{os.getpid()}-{size}"
        common = {"endpoint": endpoint, "bucket": bucket, "size": size}
        store = MinioStore.from_url(f"minio://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}")
        store.ensure_bucket()
        bare = run_child("bare_minio", **common)
        bare_speed = throughput(size, bare.seconds)
        row("bare minio put_object", bare, None, "")
        store_put = run_child("minio_put", key_file=str(key_file), **common)
        key = key_file.read_text()
        row("MinioStore.put", store_put, bare_speed, "bare put_object")
        minio_tus = run_child("minio_resumable", chunk=BLOCK, **common)
        row("MinIO tus, 8 MiB PATCHes", minio_tus, bare_speed, "bare put_object")
        minio_tus = run_child("minio_resumable", chunk=0, **common)
        row("MinIO tus, one PATCH", minio_tus, bare_speed, "bare put_object")
        bare_get = run_child("bare_minio_download", **common)
        row("bare minio get_object", bare_get, None, "")
        store_get = run_child("minio_download", key=key, **common)
        row("MinioStore.open_range", store_get, throughput(size, bare_get.seconds), "bare get")
        minio_rehash = run_child("minio_rehash", key=key, **common)
        row("sha256 re-read at finish (MinIO)", minio_rehash, throughput(size, sha_s), "sha256")
        store.objects.remove_prefix("")
    results["rows"] = rows
    return results


# ---------------------------------------------------------------- through the running portal

PORTAL_PASSWORD = "bench password long enough"
PDF_HEAD = b"%PDF-1.7\n"  # the portal accepts files by their content: this one is a "PDF"


class GeneratedPdf(Generated):
    """Generated data that starts like a PDF."""

    def read(self, size: int = -1) -> bytes:
        start = self.position
        data = super().read(size)
        if start < len(PDF_HEAD):
            head = PDF_HEAD[start : start + len(data)]
            data = head + data[len(head) :]
        return data


def _portal_app(data_dir: str, port: int, storage_url: str) -> Any:
    from app import create_app

    return create_app(
        {
            "DATA_DIR": data_dir,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir}/portal.sqlite",
            "STORAGE_URL": storage_url,
            "SECRET_KEY": "bench",
            "MAX_UPLOAD_SIZE": 64 * 1024**3,
            "RATELIMIT_ENABLED": False,
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
    )


def setup_portal(data_dir: str, port: int, storage_url: str) -> None:
    """Child process, as `portal init` and an admin would: schema, a user, a client, a space."""
    from app.cli import upgrade_database
    from app.extensions import db
    from app.services import accounts, clients

    app = _portal_app(data_dir, port, storage_url)
    upgrade_database(app)
    app.extensions["portal_job_runner"] = lambda name, *args: None
    with app.app_context():
        admin = accounts.create_user(
            None, email="bench@example.com", name="Bench", role="admin", password=PORTAL_PASSWORD
        )
        firm = clients.create_client(admin, name="Bench S.L.")
        space = clients.create_space(admin, firm.id, name="Vídeos", kind="project")
        db.session.commit()
        setup = {"email": admin.email, "space_id": space.id}
    Path(data_dir, "bench-setup.json").write_text(json.dumps(setup))


def serve_portal(data_dir: str, port: int, storage_url: str) -> None:
    """Child process: the portal's web app on gunicorn as `portal run` serves it (no Celery here).

    The set-up runs in a process of its own first, as `portal init` does, so that
    the web process holds only what serving needs.
    """
    logging.getLogger("storage.minio_store").setLevel(logging.ERROR)
    command = [sys.executable, __file__, "--setup-portal", data_dir, str(port), storage_url]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)  # noqa: S603
    from app.server import serve

    app = _portal_app(data_dir, port, storage_url)
    app.extensions["portal_job_runner"] = lambda name, *args: None  # jobs are the worker's
    serve(app, "127.0.0.1", port)


@contextmanager
def portal_server(data_dir: Path, storage_url: str) -> Iterator[dict[str, Any]]:
    """The portal in its own process on 127.0.0.1; yields its URL, pid, token and space."""
    import http.client

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    command = [sys.executable, __file__, "--serve-portal", str(data_dir), str(port), storage_url]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    setup_file = data_dir / "bench-setup.json"
    try:
        deadline = time.monotonic() + 120
        while True:
            if setup_file.exists():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start")
            time.sleep(0.1)
        setup = json.loads(setup_file.read_text())
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        body = json.dumps({"email": setup["email"], "password": PORTAL_PASSWORD})
        connection.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
        token = json.loads(connection.getresponse().read())["token"]
        connection.close()
        yield {"port": port, "pid": process.pid, "token": token, "space_id": setup["space_id"]}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def web_processes(pid: int) -> list[int]:
    """The web server's processes: gunicorn's arbiter (`pid`) and its workers, which serve."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    return pids


def peak_rss_of(pid: int, field: str = "VmHWM") -> float:
    """Largest peak resident set size (VmHWM; VmRSS for the current one) among the web
    server's processes (web_processes), MiB: the worker's, which holds the requests."""
    values = []
    for process in web_processes(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                values.append(int(line.split()[1]) / 1024)
    if not values:
        raise RuntimeError(f"no {field}")
    return max(values)


def reset_peak_rss(pid: int) -> None:
    """Start a new peak (VmHWM) from each web process's current RSS (Linux clear_refs)."""
    for process in web_processes(pid):
        Path(f"/proc/{process}/clear_refs").write_text("5")


def tus_through_portal(portal: dict[str, Any], size: int, chunk: int) -> tuple[float, str]:
    """Upload `size` bytes with tus PATCHes of `chunk` bytes; seconds and the document id."""
    import base64
    import http.client

    auth = {"Authorization": f"Bearer {portal['token']}", "Tus-Resumable": "1.0.0"}
    connection = http.client.HTTPConnection("127.0.0.1", portal["port"], timeout=600)
    metadata = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"space_id": portal["space_id"], "filename": f"bench-{human(size)}.pdf"}.items()
    )
    source = GeneratedPdf(size)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/uploads/",
        None,
        {**auth, "Upload-Length": str(size), "Upload-Metadata": metadata},
    )
    response = connection.getresponse()
    response.read()
    location = response.headers["Location"]
    offset, document_id = 0, ""
    while offset < size:
        length = min(chunk, size - offset)
        connection.putrequest("PATCH", location)
        for name, value in {
            **auth,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        sent = 0
        while sent < length:
            piece = source.read(min(MIB, length - sent))
            connection.send(piece)
            sent += len(piece)
        response = connection.getresponse()
        response.read()
        if response.status != 204:
            raise RuntimeError(f"PATCH answered {response.status}")
        offset = int(response.headers["Upload-Offset"])
        document_id = response.headers.get("Portal-Document-Id", "")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, document_id


def download_through_portal(portal: dict[str, Any], document_id: str) -> float:
    """GET the version's content (following a presigned redirect); seconds."""
    import http.client
    from urllib.parse import urlsplit

    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", portal["port"], timeout=600)
    connection.request(
        "GET",
        f"/api/v1/documents/{document_id}/versions/1/content",
        headers={"Authorization": f"Bearer {portal['token']}"},
    )
    response = connection.getresponse()
    if response.status == 303:
        response.read()
        target = urlsplit(response.headers["Location"])
        connection.close()
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
        connection.request("GET", f"{target.path}?{target.query}")
        response = connection.getresponse()
    # Into one reused buffer, as a browser's network stack does: allocating a new 8 MiB
    # bytes object per read made this client, not the portal, the slow end.
    buffer = memoryview(bytearray(BLOCK))
    while response.readinto(buffer):
        pass
    connection.close()
    return time.perf_counter() - started


def newest_blob(root: Path) -> Path:
    """The blob file written last under a filesystem store (working folders aside)."""
    files = [
        p
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).parts[0].startswith(".")
    ]
    return max(files, key=lambda p: p.stat().st_mtime)


SETTLE_SECONDS = 3


def settle() -> None:
    """Flush and pause before each timed transfer, floors and portal alike.

    Right after a GB is written, the VM host is still writing it out and a read then
    runs at a third of its speed; each measured read or write starts from the same calm.
    """
    os.sync()
    time.sleep(SETTLE_SECONDS)


def bench_portal(directory: Path, size: int, endpoint: str | None) -> dict[str, Any]:
    """Floors and tus transfers through the running portal, interleaved (filesystem, then MinIO).

    Each of REPEAT rounds measures the raw write, raw read and raw SHA-256 floors, then
    uploads and downloads through the portal, so that floors and transfers meet the same
    state of the disk and of the VM host's cache; medians are reported, and each ratio is
    the median transfer against the median floor.
    """
    writes: list[float] = []
    reads: list[float] = []
    shas: list[float] = []
    uploads: list[float] = []
    downloads: list[float] = []
    data_dir = (directory / f"portal-{human(size)}").resolve()
    with portal_server(data_dir, f"file://{data_dir / 'blobs'}") as portal:
        # Start-up and the API login peak on argon2id (64 MiB per hash, freed at once);
        # the transfers' own peak is measured from a fresh high-water mark.
        start_rss = peak_rss_of(portal["pid"], "VmRSS")
        login_peak = peak_rss_of(portal["pid"])
        reset_peak_rss(portal["pid"])
        for number in range(REPEAT):
            settle()
            writes.append(raw_write(directory, size))
            (directory / "raw-write.bin").unlink()
            shas.append(raw_sha256(size))
            settle()
            upload_s, document_id = tus_through_portal(portal, size, PORTAL_CHUNK)
            uploads.append(upload_s)
            # The read floor is the stored blob itself, read raw from the disk in the same
            # state as the download reads it: the first read after a GB was written runs
            # far slower on this VM than the next ones, and a read right after another runs
            # faster, so each round goes A-B-B-A and the two go first equally often.
            blob = newest_blob(data_dir / "blobs")

            def download(document_id: str = document_id) -> None:
                downloads.append(download_through_portal(portal, document_id))

            def read_raw(blob: Path = blob) -> None:
                reads.append(raw_read_file(blob))

            order = (download, read_raw) if number % 2 == 0 else (read_raw, download)
            for measure in (*order, *reversed(order)):
                drop_cache(blob)
                settle()
                measure()
        write_s, read_s, sha_s, upload_s, download_s = (
            statistics.median(values) for values in (writes, reads, shas, uploads, downloads)
        )
        floor = min(throughput(size, write_s), throughput(size, sha_s))
        result: dict[str, Any] = {
            "size": size,
            "rounds": REPEAT,
            "floor": {
                "raw_write_mb_s": throughput(size, write_s),
                "raw_sha256_mb_s": throughput(size, sha_s),
                "raw_read_mb_s": throughput(size, read_s),
                "upload_floor_mb_s": floor,
                "raw_write_range_mb_s": [
                    throughput(size, max(writes)),
                    throughput(size, min(writes)),
                ],
            },
        }
        result["portal"] = {
            "upload_mb_s": throughput(size, upload_s),
            "upload_ratio": throughput(size, upload_s) / floor,
            "upload_range_mb_s": [throughput(size, max(uploads)), throughput(size, min(uploads))],
            "download_mb_s": throughput(size, download_s),
            "download_ratio": throughput(size, download_s) / throughput(size, read_s),
            # Each in the order measured (two per round, see above).
            "download_each_mb_s": [throughput(size, s) for s in downloads],
            "raw_read_each_mb_s": [throughput(size, s) for s in reads],
            "web_rss_start_mib": start_rss,
            "web_peak_rss_mib": peak_rss_of(portal["pid"]),
            "web_login_peak_rss_mib": login_peak,
        }
    shutil.rmtree(data_dir)
    if endpoint is not None:
        result["portal_minio"] = bench_portal_minio(directory, size, endpoint)
    return result


def bench_portal_minio(directory: Path, size: int, endpoint: str) -> dict[str, Any]:
    """The portal on nanio against a bare ``minio`` put_object to the same server, in turns."""
    bucket = f"portal-{os.getpid()}-{human(size).lower()}"
    store = MinioStore.from_url(f"minio://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}")
    store.ensure_bucket()
    minio_dir = directory / f"portal-minio-{human(size)}"
    url = f"minio://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}"
    with portal_server(minio_dir, url) as portal:
        reset_peak_rss(portal["pid"])
        # The bare put_object and the portal's upload take turns, each round, at going
        # first, after the same flush and pause: nanio writes to the same disk, whose
        # speed on this VM drifts over minutes (bare put_object alone: 62-160 MB/s).
        bare_uploads: list[float] = []
        minio_uploads, minio_downloads = [], []

        def bare_put() -> None:
            figure = run_child("bare_minio", rounds=1, endpoint=endpoint, bucket=bucket, size=size)
            bare_uploads.append(figure.seconds)

        def portal_put() -> None:
            upload_s, document_id = tus_through_portal(portal, size, PORTAL_CHUNK)
            minio_uploads.append(upload_s)
            minio_downloads.append(download_through_portal(portal, document_id))

        for number in range(REPEAT):
            for measure in (bare_put, portal_put) if number % 2 == 0 else (portal_put, bare_put):
                settle()
                measure()
        bare_s = statistics.median(bare_uploads)
        upload_s = statistics.median(minio_uploads)
        download_s = statistics.median(minio_downloads)
        result = {
            "size": size,
            "rounds": REPEAT,
            "bare_put_object_mb_s": throughput(size, bare_s),
            "bare_put_object_range_mb_s": [
                throughput(size, max(bare_uploads)),
                throughput(size, min(bare_uploads)),
            ],
            "upload_mb_s": throughput(size, upload_s),
            "upload_range_mb_s": [
                throughput(size, max(minio_uploads)),
                throughput(size, min(minio_uploads)),
            ],
            "upload_ratio": throughput(size, upload_s) / throughput(size, bare_s),
            "download_mb_s": throughput(size, download_s),
            "web_peak_rss_mib": peak_rss_of(portal["pid"]),
        }
    store.objects.remove_prefix("")
    shutil.rmtree(minio_dir, ignore_errors=True)
    return result


PORTAL_CHUNK = 64 * MIB


def print_portal_minio(minio: dict[str, Any]) -> None:
    low, high = minio["upload_range_mb_s"]
    bare_low, bare_high = minio["bare_put_object_range_mb_s"]
    print(
        f"MinIO (nanio), {human(minio['size'])}: portal tus {minio['upload_mb_s']:.0f} MB/s "
        f"({low:.0f}-{high:.0f}) vs bare put_object {minio['bare_put_object_mb_s']:.0f} MB/s "
        f"({bare_low:.0f}-{bare_high:.0f}): ratio {minio['upload_ratio']:.2f} "
        f"(target >= 0.8); download via presigned URL {minio['download_mb_s']:.0f} MB/s; "
        f"web peak RSS {minio['web_peak_rss_mib']:.0f} MiB"
    )


def print_portal(results: list[dict[str, Any]]) -> None:
    for result in results:
        if "portal" not in result:
            print_portal_minio(result)
            continue
        floor, portal = result["floor"], result["portal"]
        print(
            f"\n== through the portal (gunicorn, tus PATCHes of {human(PORTAL_CHUNK)}), "
            f"{human(result['size'])}, median of {result['rounds']} interleaved rounds =="
        )
        low, high = floor["raw_write_range_mb_s"]
        print(
            f"floor: raw write {floor['raw_write_mb_s']:.0f} MB/s ({low:.0f}-{high:.0f}), "
            f"raw sha256 {floor['raw_sha256_mb_s']:.0f} MB/s, "
            f"raw read {floor['raw_read_mb_s']:.0f} MB/s"
        )
        low, high = portal["upload_range_mb_s"]
        print(
            f"upload   {portal['upload_mb_s']:6.0f} MB/s ({low:.0f}-{high:.0f})  ratio "
            f"{portal['upload_ratio']:.2f} of min(raw write, raw sha256)  (target >= 0.5)"
        )
        print(
            f"download {portal['download_mb_s']:6.0f} MB/s  ratio {portal['download_ratio']:.2f} "
            "of raw read (cold)  (target >= 0.7)"
        )
        print(
            "  each, in order (MB/s): downloads "
            + ", ".join(f"{figure:.0f}" for figure in portal["download_each_mb_s"])
            + "; raw reads "
            + ", ".join(f"{figure:.0f}" for figure in portal["raw_read_each_mb_s"])
        )
        print(
            f"web process RSS after start-up {portal['web_rss_start_mib']:.0f} MiB; "
            f"peak during upload and download {portal['web_peak_rss_mib']:.0f} MiB (target < 150); "
            f"peak of start-up and login (argon2id) {portal['web_login_peak_rss_mib']:.0f} MiB"
        )
        if "portal_minio" in result:
            print_portal_minio(result["portal_minio"])
    peaks = [r["portal"]["web_peak_rss_mib"] for r in results if "portal" in r]
    if len(peaks) >= 2:
        spread = max(peaks) / min(peaks) - 1
        print(
            f"\nweb peak RSS across sizes: {', '.join(f'{p:.0f}' for p in peaks)} MiB, "
            f"spread {spread:.0%} (target within 20 %)"
        )


def print_results(results: list[dict[str, Any]]) -> None:
    for result in results:
        floor = result["floor"]
        print(f"\n== {human(result['size'])} ==")
        print(
            f"floor: raw write {floor['raw_write_mb_s']:.0f} MB/s, "
            f"raw sha256 {floor['raw_sha256_mb_s']:.0f} MB/s, "
            f"raw read {floor['raw_read_mb_s']:.0f} MB/s"
        )
        print(f"{'':38} {'MB/s':>7} {'ratio':>6}  {'peak RSS':>9}  against")
        for row in result["rows"]:
            ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
            finish = f"  (finish {row['finish_seconds']:.2f} s)" if "finish_seconds" in row else ""
            print(
                f"{row['what']:38} {row['mb_s']:7.0f} {ratio:>6}  "
                f"{row['peak_rss_mib']:6.0f} MiB  {row['against']}{finish}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1G", help="comma-separated sizes (default 1G)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="scratch directory on the disk to measure (default: a temporary one under ./var)",
    )
    parser.add_argument("--no-minio", action="store_true", help="skip the nanio comparison")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--what",
        choices=("all", "library", "portal", "portal-minio"),
        default="all",
        help="the library-level figures, those through the running portal, or both; "
        "portal-minio: only the portal on nanio against a bare put_object",
    )
    parser.add_argument("--serve-portal", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--setup-portal", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup_portal:
        data_dir, port, storage_url = args.setup_portal
        setup_portal(data_dir, int(port), storage_url)
        return 0
    if args.serve_portal:
        data_dir, port, storage_url = args.serve_portal
        serve_portal(data_dir, int(port), storage_url)
        return 0
    sizes = [parse_size(text) for text in args.sizes.split(",") if text.strip()]
    global REPEAT
    REPEAT = max(1, args.repeat)
    logging.getLogger("storage.minio_store").setLevel(logging.ERROR)

    if args.dir is None:
        Path("var").mkdir(exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="bench-upload-", dir="var"))
    else:
        args.dir.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.dir))
    results: list[dict[str, Any]] = []
    portal_results: list[dict[str, Any]] = []

    def run(endpoint: str | None) -> None:
        for size in sizes:
            if args.what in ("all", "library"):
                results.append(bench_size(directory, size, endpoint))
            if args.what in ("all", "portal"):
                portal_results.append(bench_portal(directory, size, endpoint))
            if args.what == "portal-minio":
                if endpoint is None:
                    parser.error("--what portal-minio needs nanio (drop --no-minio)")
                portal_results.append(bench_portal_minio(directory, size, endpoint))

    try:
        if args.no_minio:
            run(None)
        else:
            with nanio_server(directory / "nanio") as endpoint:
                run(endpoint)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print_results(results)
    print_portal(portal_results)
    if args.json:
        args.json.write_text(json.dumps({"library": results, "portal": portal_results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
