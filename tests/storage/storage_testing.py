"""Helpers for the store tests: generated data streams and S3 servers run as subprocesses."""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import urllib3
from minio import Minio

from storage import BlobStore, ResumableUploads

MIB = 1024 * 1024
_BLOCK = MIB
_SHIFTS = 4093


class GeneratedStream(io.RawIOBase):
    """`size` deterministic pseudo-random bytes made on the fly (seekable, never held whole)."""

    def __init__(self, size: int, seed: int = 1) -> None:
        self.size = size
        self._base = random.Random(seed).randbytes(_BLOCK + _SHIFTS)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        remaining = self.size - self._pos
        if size is None or size < 0 or size > remaining:
            size = max(0, remaining)
        pieces = []
        while size > 0:
            block, within = divmod(self._pos, _BLOCK)
            shift = (block * 7919) % _SHIFTS
            take = min(size, _BLOCK - within)
            pieces.append(self._base[shift + within : shift + within + take])
            self._pos += take
            size -= take
        return b"".join(pieces)


def generated_sha256(size: int, seed: int = 1) -> str:
    """The sha256 of GeneratedStream(size, seed), computed streaming."""
    digest = hashlib.sha256()
    stream = GeneratedStream(size, seed)
    while chunk := stream.read(8 * MIB):
        digest.update(chunk)
    return digest.hexdigest()


def generated_bytes(size: int, seed: int = 1) -> bytes:
    """GeneratedStream(size, seed) as bytes (small sizes only)."""
    return GeneratedStream(size, seed).read()


class ChunkedReader(io.RawIOBase):
    """Hands out a byte string in small reads, like a request body arriving over the network."""

    def __init__(self, data: bytes, read_size: int = 64 * 1024) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._read_size = read_size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = len(self._data)
        size = min(size, self._read_size)
        chunk = bytes(self._data[self._pos : self._pos + size])
        self._pos += len(chunk)
        return chunk


class FailingReader(io.RawIOBase):
    """A stream that yields `data` and then raises, like a dropped client connection."""

    def __init__(self, data: bytes, exc: BaseException | None = None) -> None:
        self._inner = ChunkedReader(data)
        self._exc = exc or ConnectionResetError("client went away")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._inner.read(size)
        if not chunk:
            raise self._exc
        return chunk


MakeStore = Callable[[], BlobStore]
MakeUploads = Callable[[], ResumableUploads]
TTL = timedelta(hours=24)


class Clock:
    """A settable clock for expiry tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def bucket_name() -> str:
    """A fresh bucket name, so each test sees only its own objects."""
    return f"t-{uuid.uuid4().hex[:20]}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until something listens on 127.0.0.1:`port`, failing if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@dataclass
class S3Server:
    """A real S3 server (moto or nanio) run by the tests on 127.0.0.1."""

    kind: str
    data_dir: Path
    access_key: str
    secret_key: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "moto":
            return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        return [
            sys.executable,
            "-m",
            "nanio",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            NANIO_ACCESS_KEY=self.access_key,
            NANIO_SECRET_KEY=self.secret_key,
            # moto accepts any credentials; keep it from reading real ones.
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            MOTO_ALLOW_NONEXISTENT_REGION="true",
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        """Stop the server cleanly."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def client(self, *, retries: int | None = None) -> Minio:
        """A minio client for this server; `retries` limits urllib3's retrying."""
        http_client = None
        if retries is not None:
            http_client = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=5, read=30),
                retries=urllib3.Retry(total=retries, backoff_factor=0.05),
            )
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
            http_client=http_client,
        )

    def url(self, bucket: str) -> str:
        return f"minio://{self.access_key}:{self.secret_key}@{self.endpoint}/{bucket}"
