"""The production topology started for real on this machine, without Docker.

What docker-compose.yml runs, as processes on loopback with the same ``PORTAL_*`` settings:
a PostgreSQL cluster of its own (so that a test may restart it), a Redis of its own (broker,
results and the login throttle's counters), nanio standing in for MinIO, an SMTP sink standing
in for Mailpit, nginx in front of two web processes (``python -m app.server``, as the compose
``web`` service starts it), two Celery workers (``portal worker``) and beat (``portal beat``).

Used by ``tests/topology/`` and by ``bench/topology.py``. Every process logs into
``<root>/logs``; ``Topology.stop()`` ends them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY, SECRET_KEY = "portal", "portal-minio-secret"
BUCKET = "portal"


class TopologyUnavailable(RuntimeError):
    """A program the topology needs is missing from this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _postgres_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise TopologyUnavailable(f"{name} (PostgreSQL server binaries) is not installed")


def _program(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if not found:
        raise TopologyUnavailable(f"{name} is not installed (make test installs it as root)")
    return found


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    user: str | None = None
    #: started again when it exits on its own, as compose's ``restart: unless-stopped`` does
    supervised: bool = False
    #: a test stopped or killed it on purpose: not started again behind its back
    stopped: bool = False

    def start(self, wait: bool = True) -> None:
        self.stopped = False
        command = self.command
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own programs
            command,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        if wait and self.port:
            wait_for_port(self.port, self.popen)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, number: int) -> None:
        if self.alive():
            assert self.popen is not None
            try:
                os.killpg(self.popen.pid, number)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or the OOM killer would."""
        self.stopped = True
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(30)

    def stop(self, timeout: float = 20) -> None:
        self.stopped = True
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        assert self.popen is not None
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class TcpGate:
    """A TCP forwarder in this process that a test can open, close or make hang.

    Stands between the portal and its time-stamping authority (the portal's own, served at
    ``/pki/tsa`` through nginx, as an external TSA would be): ``refuse`` closes each new
    connection at once (unreachable), ``hang`` accepts and never answers (a TSA that stalls),
    ``pass`` forwards.
    """

    def __init__(self, port: int, target: int) -> None:
        self.port, self.target, self.mode = port, target, "pass"
        self._server = socket.create_server(("127.0.0.1", port))
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                peer, _ = self._server.accept()
            except OSError:
                return
            if self.mode == "refuse":
                peer.close()
            elif self.mode == "hang":
                self._held.append(peer)
            else:
                threading.Thread(target=self._forward, args=(peer,), daemon=True).start()

    def _forward(self, peer: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=30)
        except OSError:
            peer.close()
            return

        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, peer), daemon=True).start()
        pump(peer, upstream)

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode != "hang":
            for held in self._held:
                held.close()
            self._held.clear()

    def close(self) -> None:
        self._server.close()


@dataclass
class Topology:
    root: Path
    web_processes: int = 2
    workers: int = 2
    web_threads: int = 8
    visibility_timeout: int = 15
    processes: dict[str, Process] = field(default_factory=dict)
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    s3_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    proxy_port: int = field(default_factory=free_port)
    tsa_port: int = field(default_factory=free_port)
    tsa: TcpGate | None = None
    disk_size: str = "3g"
    disk_mounted: bool = False
    web_ports: list[int] = field(default_factory=list)
    #: the portal's processes that exited on their own and were started again
    restarts: list[str] = field(default_factory=list)
    _cleanup: list[Path] = field(default_factory=list)
    _watching: threading.Event = field(default_factory=threading.Event, repr=False)

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The portal as users reach it: through nginx."""
        return f"http://127.0.0.1:{self.proxy_port}"

    def web_url(self, index: int) -> str:
        """One web process directly, bypassing nginx."""
        return f"http://127.0.0.1:{self.web_ports[index]}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/portal"

    def redis_url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/{db}"

    @property
    def disk(self) -> Path:
        """Where the data directory and the S3 server's files live: a tmpfs of its own when this
        process may mount one (root), so that a test can fill it up."""
        return self.root / "disk"

    @property
    def data_dir(self) -> Path:
        return self.disk / "data"

    @property
    def env(self) -> dict[str, str]:
        """What docker-compose.yml passes to web, worker and beat, pointed at loopback."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PORTAL_", "PYTEST_", "COV_"))
        }
        env.update(
            PORTAL_DATA_DIR=str(self.data_dir),
            PORTAL_BASE_URL=self.url,
            PORTAL_DATABASE_URL=self.database_url,
            PORTAL_BROKER_URL=self.redis_url(0),
            PORTAL_RESULT_BACKEND=self.redis_url(1),
            PORTAL_RATELIMIT_STORAGE_URI=self.redis_url(2),
            PORTAL_STORAGE_URL=f"minio://{ACCESS_KEY}:{SECRET_KEY}@127.0.0.1:{self.s3_port}/{BUCKET}",
            PORTAL_STORAGE_PUBLIC_URL=f"http://127.0.0.1:{self.s3_port}",
            PORTAL_SMTP_HOST="127.0.0.1",
            PORTAL_SMTP_PORT=str(self.smtp_port),
            PORTAL_TRUSTED_PROXIES="127.0.0.1",
            PORTAL_BROKER_VISIBILITY_TIMEOUT=str(self.visibility_timeout),
            PORTAL_SECRET_KEY="topology-secret-key-shared-by-every-process",
            PORTAL_PKI_PASSPHRASE="topology-pki-passphrase",
            # an external TSA, as production has: the portal's own through a gate tests close
            PORTAL_TSA_URL=f"http://127.0.0.1:{self.tsa_port}/pki/tsa",
            PORTAL_SIGN_TSA_RETRY_SECONDS="2",
            MALLOC_ARENA_MAX="2",
            OMP_THREAD_LIMIT="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    # ------------------------------------------------------------------ start and stop

    def _add(self, name: str, command: list[str], port: int | None = None, **kw: Any) -> Process:
        process = Process(
            name, command, kw.pop("env", self.env), self.root / "logs" / f"{name}.log", port, **kw
        )
        self.processes[name] = process
        return process

    def start(self) -> Topology:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        self.disk.mkdir(parents=True, exist_ok=True)
        self.disk_mounted = (
            os.geteuid() == 0
            and subprocess.run(  # noqa: S603
                ["mount", "-t", "tmpfs", "-o", f"size={self.disk_size}", "tmpfs", str(self.disk)],
                capture_output=True,
            ).returncode
            == 0
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.tsa = TcpGate(self.tsa_port, self.proxy_port)
            self._start_postgres()
            self._start_redis()
            self._start_s3()
            self._add(
                "smtp",
                [
                    sys.executable,
                    "-m",
                    "aiosmtpd",
                    "-n",
                    "-c",
                    "aiosmtpd.handlers.Sink",
                    "-l",
                    f"127.0.0.1:{self.smtp_port}",
                ],
                self.smtp_port,
            ).start()
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "app.cli", "init"],
                env=self.env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            for index in range(self.web_processes):
                self.web_ports.append(free_port())
                self.start_web(index)
            for index in range(self.workers):
                self.start_worker(index)
            self._add("beat", [sys.executable, "-m", "app.cli", "beat"], supervised=True).start()
            self._start_nginx()
            threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postgres(self) -> None:
        initdb, postgres = _postgres_bin("initdb"), _postgres_bin("postgres")
        user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: its own user, its own folder
            user = "postgres"
            outer = Path(tempfile.mkdtemp(prefix="portal-topology-pg-"))
            outer.chmod(0o755)
            self._cleanup.append(outer)
            folder = outer / "pg"
            folder.mkdir()
            shutil.chown(folder, user)
        else:
            folder = self.root / "pg"
        command = [
            initdb,
            "-D",
            str(folder),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603
        self._add(
            "postgres",
            [
                postgres,
                "-D",
                str(folder),
                "-p",
                str(self.pg_port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
                "-c",
                f"unix_socket_directories={folder}",
            ],
            self.pg_port,
            user=user,
        ).start()
        self._wait_for_postgres()
        subprocess.run(  # noqa: S603
            [
                _postgres_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "portal",
            ],
            check=True,
            capture_output=True,
        )

    def _wait_for_postgres(self, timeout: float = 60) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(
                    f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres"
                ).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _start_redis(self) -> None:
        folder = self.root / "redis"
        folder.mkdir()
        # appendonly: queued jobs survive a restart, as a production Redis configured for a
        # broker keeps them
        self._add(
            "redis",
            [
                _program("redis-server"),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ],
            self.redis_port,
        ).start()

    def _start_s3(self) -> None:
        env = {**self.env, "NANIO_ACCESS_KEY": ACCESS_KEY, "NANIO_SECRET_KEY": SECRET_KEY}
        self._add(
            "s3",
            [
                sys.executable,
                "-m",
                "nanio",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.s3_port),
                "--data-dir",
                str(self.disk / "s3"),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            self.s3_port,
            env=env,
        ).start()

    def start_web(self, index: int) -> None:
        port = self.web_ports[index]
        self._add(
            f"web{index}",
            [
                sys.executable,
                "-m",
                "app.server",
                "--host=127.0.0.1",
                f"--port={port}",
                "--workers=1",
                f"--threads={self.web_threads}",
                "--trusted-proxies=127.0.0.1",
            ],
            port,
            supervised=True,
        ).start()

    def start_worker(self, index: int) -> None:
        self._add(
            f"worker{index}",
            [sys.executable, "-m", "app.cli", "worker", "--concurrency=2", f"--name=worker{index}"],
            supervised=True,
        ).start()

    def _supervise(self) -> None:
        """Start again a portal process that exited without a test stopping it, as compose's
        restart policy does in production; each restart is kept in ``restarts``."""
        while not self._watching.wait(1.0):
            for name, process in list(self.processes.items()):
                popen = process.popen
                if process.supervised and not process.stopped and popen is not None:
                    code = popen.poll()
                    # read again: a test may have stopped it since the first look
                    if code is not None and not process.stopped and not self._watching.is_set():
                        self.restarts.append(f"{name} exited with {code}")
                        process.start(wait=False)

    def _start_nginx(self) -> None:
        folder = self.root / "nginx"
        (folder / "logs").mkdir(parents=True)
        upstream = "\n".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in self.web_ports
        )
        (folder / "nginx.conf").write_text(
            textwrap.dedent("""\
            worker_processes 1;
            pid {folder}/nginx.pid;
            error_log {folder}/logs/error.log warn;
            events {{ worker_connections 2048; }}
            http {{
              access_log off;
              client_body_temp_path {folder}/body;
              proxy_temp_path {folder}/proxy;
              fastcgi_temp_path {folder}/fastcgi;
              uwsgi_temp_path {folder}/uwsgi;
              scgi_temp_path {folder}/scgi;
              # No kept-alive connections to the web processes: gunicorn closes an idle one
              # after 5 s, and nginx reusing it at that moment answers 502 to a POST it
              # may not send again (seen under load on a busy machine).
              upstream portal {{
            {upstream}
              }}
              server {{
                listen 127.0.0.1:{port};
                client_max_body_size 0;
                proxy_request_buffering off;
                proxy_buffering off;
                proxy_http_version 1.1;
                proxy_read_timeout 300s;
                proxy_next_upstream error timeout;
                location / {{
                  proxy_pass http://portal;
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Forwarded-For $remote_addr;
                  proxy_set_header X-Forwarded-Proto $scheme;
                }}
              }}
            }}
            """).format(folder=folder, upstream=upstream, port=self.proxy_port)
        )
        user = ["-g", "daemon off;"]
        self._add(
            "nginx",
            [_program("nginx"), "-p", str(folder), "-c", str(folder / "nginx.conf"), *user],
            self.proxy_port,
        ).start()

    def stop(self) -> None:
        self._watching.set()
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
        if self.tsa is not None:
            self.tsa.close()
        if getattr(self, "disk_mounted", False):
            subprocess.run(["umount", "-l", str(self.disk)], capture_output=True)  # noqa: S603
        for folder in self._cleanup:
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------ faults

    def restart(self, name: str, *, kill: bool = False, down_for: float = 0.0) -> None:
        process = self.processes[name]
        process.kill() if kill else process.stop()
        if down_for:
            time.sleep(down_for)
        process.start()
        if name == "postgres":
            self._wait_for_postgres()

    def log(self, name: str) -> str:
        return self.processes[name].log.read_text(errors="replace")

    def diagnostics(self) -> str:
        """What a failed check prints: nginx's errors and the web processes' last errors."""
        parts = []
        errors = self.root / "nginx" / "logs" / "error.log"
        if errors.exists():
            parts.append(
                "nginx: " + "\n".join(errors.read_text(errors="replace").splitlines()[-15:])
            )
        for name in ("web0", "web1"):
            if name in self.processes:
                parts.append(f"{name}: " + _errors_of(self.log(name)))
        if self.restarts:
            parts.append("restarted after exiting on their own: " + "; ".join(self.restarts))
        return "\n\n".join(parts)


def _errors_of(log: str) -> str:
    """A web process's errors with their tracebacks first, then its last warnings.

    An answer of 500 logs "ERROR in app" and a traceback; during a fault, hundreds of expected
    warnings (a 503 each) would otherwise push it out of what a failed check prints.
    """
    lines = log.splitlines()
    errors: list[str] = []
    shown = 0
    for at, line in enumerate(lines):
        if at >= shown and ("ERROR" in line or "Traceback" in line):
            errors.extend(lines[at : at + 40])
            shown = at + 40
    warnings = [
        line for line in lines if "WARNING" in line or "WORKER" in line or "Booting" in line
    ]
    return "\n".join(errors[-120:] + ["..."] + warnings[-5:])


def portal_app(topology: Topology) -> Any:
    """The portal's Flask app in this process, configured as the topology's processes are."""
    from app import create_app

    saved = dict(os.environ)
    try:
        for key in [key for key in os.environ if key.startswith("PORTAL_")]:
            del os.environ[key]
        os.environ.update({k: v for k, v in topology.env.items() if k.startswith("PORTAL_")})
        return create_app({"RATELIMIT_ENABLED": False})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def locust_command(
    topology: Topology, *, users: int, seconds: int, max_upload: int, ledger: Path, csv: Path
) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "TOPOLOGY_SEED": str(topology.root / "people.json"),
        "TOPOLOGY_LEDGER": str(ledger),
        "TOPOLOGY_MAX_UPLOAD": str(max_upload),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{seconds}s",
        "--host",
        topology.url,
        "--csv",
        str(csv),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "30",
    ]
    return command, env


def run_locust(
    topology: Topology, *, users: int, seconds: int, max_upload: int, ledger: Path, csv: Path
) -> subprocess.CompletedProcess[str]:
    command, env = locust_command(
        topology, users=users, seconds=seconds, max_upload=max_upload, ledger=ledger, csv=csv
    )
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 300)  # noqa: S603
