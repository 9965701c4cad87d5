"""The HTTP server of the web app: gunicorn with threaded workers, started from Python.

``portal run`` (app.cli) and the container's ``web`` service (``python -m app.server``)
both serve through :func:`serve`. Gunicorn sends ``wsgi.file_wrapper`` responses with
sendfile(2) from the blob's exact span (storage.filesystem.FileSpan: from its start, for
the response's Content-Length), reads request bodies from the socket as the app reads them (a tus
PATCH streams into the store; nothing is spooled to a temporary file) and sets no
limit on a body's size: the app's MAX_UPLOAD_SIZE and quotas decide.
"""

from __future__ import annotations

import gc
import ipaddress
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from app.httputil import FILE_BLOCK

# Forwarding headers a client could forge: kept only from a configured proxy (as
# waitress's clear_untrusted_proxy_headers did). The app trusts none by default.
FORWARDED_PREFIXES = ("HTTP_X_FORWARDED_", "HTTP_FORWARDED")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A client silent this long in the middle of a request (a stalled upload body, a
# download nobody reads) loses the connection and frees its thread, as waitress's
# channel_timeout did; an interrupted tus upload then resumes from its offset.
IDLE_SECONDS = 120


def proxy_networks(trusted_proxies: str) -> list[Network]:
    """Parse a comma-separated list of proxy addresses or networks ('' = none)."""
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in trusted_proxies.split(",")
        if item.strip()
    ]


def drop_untrusted_forwarded_headers(
    wsgi_app: Callable[..., Iterable[bytes]], networks: list[Network]
) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware: X-Forwarded-* and Forwarded only from a trusted proxy, which names the peer.

    From anyone else the headers are removed. From a trusted proxy, ``REMOTE_ADDR`` becomes the
    address the proxy saw (the rightmost untrusted entry of X-Forwarded-For).
    """

    def trusted(peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in networks)

    def client_address(forwarded_for: str) -> str | None:
        # The proxy appends the address it saw: read from the right, past our own proxies.
        for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
            if not hop:
                continue
            if not trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return None  # a forged or garbled entry: keep the proxy's address
        return None

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not trusted(environ.get("REMOTE_ADDR")):
            for key in [k for k in environ if k.startswith(FORWARDED_PREFIXES)]:
                del environ[key]
        else:
            # Behind the proxy every request comes from the proxy: the login throttle, the
            # rate limits and the audit trail must see the person's address instead.
            client = client_address(environ.get("HTTP_X_FORWARDED_FOR", ""))
            if client is not None:
                environ["portal.proxy_addr"] = environ["REMOTE_ADDR"]
                environ["REMOTE_ADDR"] = client
        return wsgi_app(environ, start_response)

    return middleware


def _limit_idle_time(_worker: Any, req: Any) -> None:
    """gunicorn pre_request hook: every later read or send on the socket times out.

    gthread reads bodies and sends responses on a blocking socket with no timeout;
    socket.sendfile honours the timeout per wait too.
    """
    sock = getattr(req.unreader, "sock", None)
    if sock is not None:
        sock.settimeout(IDLE_SECONDS)


def _dispose_engines(app: Flask, close: bool) -> None:
    """Forget pooled database connections (a forked worker must open its own)."""
    from app.extensions import db

    if "sqlalchemy" not in app.extensions:  # a bare app (bench/pages.py)
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=close)


class _Arbiter(Arbiter):  # type: ignore[misc]
    """Gunicorn's arbiter, telling the caller first when it is asked to stop."""

    def __init__(self, app: PortalServer) -> None:
        self.on_stop = app.on_stop
        super().__init__(app)

    def handle_int(self) -> None:
        self.on_stop()
        super().handle_int()

    def handle_term(self) -> None:
        self.on_stop()
        super().handle_term()

    def handle_quit(self) -> None:
        self.on_stop()
        super().handle_quit()


class PortalServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving an app object built by the caller, configured in code.

    ``on_stop`` is called as soon as the server is asked to stop (Ctrl+C, SIGTERM), before it
    waits for its workers: ``portal run`` stops restarting its worker, beat and mail receiver
    then, since the terminal's Ctrl+C ends them too.
    """

    def __init__(
        self, app: Flask, options: dict[str, Any], on_stop: Callable[[], None] = lambda: None
    ) -> None:
        self.application = app
        self.options = options
        self.on_stop = on_stop
        super().__init__()

    def run(self) -> None:
        try:
            _Arbiter(self).run()
        except RuntimeError as exc:  # as gunicorn's own run(): a bad setting, said plainly
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return drop_untrusted_forwarded_headers(
            self.application, proxy_networks(self.options["forwarded_allow_ips"])
        )


def server_options(
    host: str, port: int, workers: int = 1, threads: int = 8, trusted_proxies: str = ""
) -> dict[str, Any]:
    """Gunicorn settings for the portal (see the module docstring)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    proxies = ",".join(str(network) for network in proxy_networks(trusted_proxies))
    return {
        "bind": [bind],
        "worker_class": "gthread",
        "workers": workers,
        "threads": threads,
        # No "sendfile" key: gunicorn sends file responses with sendfile(2) only while the
        # setting is unset (any value, True included, turns it off; see its --no-sendfile).
        # The worker's heartbeat to the arbiter: gthread's main loop beats at least once a
        # second while request threads run, so a multi-GB upload or download taking many
        # minutes is not cut by it. A worker stuck that long is restarted.
        "timeout": 120,
        # On SIGTERM, requests in flight get this long; an interrupted tus upload resumes.
        "graceful_timeout": 10,
        "keepalive": 5,
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads
        # new connections across them. On one shared socket, the worker that wakes first
        # took most keep-alive connections and served them alone while the other idled
        # (bench/pages.py: the space page at 36 req/s and a p95 of 348 ms with two
        # workers, 78 req/s and 179 ms with this).
        "reuse_port": True,
        # Request line and header sizes (no limit exists on bodies): the largest
        # request line gunicorn allows, and room for a tus Upload-Metadata header.
        "limit_request_line": 8190,
        "limit_request_field_size": 16384,
        # Scheme and SCRIPT_NAME headers only from these proxies; '' trusts none.
        "forwarded_allow_ips": proxies,
        # No runtime control socket: several portals (tests, benchmarks) share one home.
        "control_socket_disable": True,
        "proc_name": "portal",
        "pre_request": _limit_idle_time,
    }


# Blocks from this size up get pages of their own, returned to the system when freed:
# above the 1 MiB reads of an upload and the blocks of a download (FILE_BLOCK), which
# glibc then reuses from its arenas, below the 8 MiB parts of a MinIO upload.
MMAP_THRESHOLD = FILE_BLOCK + 1024 * 1024


def tune_malloc(arenas: int = 2, mmap_threshold: int = MMAP_THRESHOLD) -> None:
    """Keep glibc malloc from holding on to the big buffers a large transfer passes through.

    At most `arenas` malloc arenas (as ``MALLOC_ARENA_MAX=2``): otherwise each request
    thread gets an arena of its own and keeps the multi-MiB buffers it freed. A fixed
    mmap threshold (as ``MALLOC_MMAP_THRESHOLD_``): by default glibc raises it to the
    size of each large block freed, after which MinIO parts came from the arenas and
    stayed there as the upload went on. No-op off glibc.
    """
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(-8, arenas)  # M_ARENA_MAX
        mallopt(-3, mmap_threshold)  # M_MMAP_THRESHOLD
        # What glibc's own adjustment would set beside it: free memory at the top of the
        # heap up to twice the threshold is kept, so a download's blocks reuse it instead
        # of faulting fresh pages in for every block.
        mallopt(-1, 2 * mmap_threshold)  # M_TRIM_THRESHOLD


def freeze_startup_objects() -> None:
    """Keep the app's own objects out of every later garbage collection.

    Building the app leaves some 200,000 objects (models, SQLAlchemy metadata, pyHanko,
    Babel's locale data) that live as long as the process. Each full collection walked them
    all: 100 to 500 ms in which no request thread runs, once every few hundred requests, which
    made the slowest twentieth of answers under load (the p95) several times slower than the
    rest. Frozen here in the arbiter, before it forks its workers, they are never walked again
    (a full collection then takes about a millisecond), and their memory pages stay shared
    with the workers instead of being copied when the collector would touch them.
    """
    gc.collect()
    gc.freeze()


def check_address_free(host: str, port: int) -> None:
    """Stop now, saying why, when another program already listens on host:port.

    With ``reuse_port`` each worker binds the address itself; a worker that cannot
    would be restarted again and again, and the server would hang instead of stopping.
    """
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            # As gunicorn does: a previous run's connections in TIME_WAIT do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def serve(
    app: Flask,
    host: str,
    port: int,
    *,
    workers: int = 1,
    threads: int = 8,
    trusted_proxies: str = "",
    on_stop: Callable[[], None] = lambda: None,
) -> None:
    """Serve `app` until SIGINT/SIGTERM (then a clean SystemExit); blocks the main thread.

    ``on_stop`` is called as soon as the server is asked to stop."""
    check_address_free(host, port)
    tune_malloc()
    _dispose_engines(app, close=True)  # the arbiter keeps no connection its workers inherit
    options = server_options(host, port, workers, threads, trusted_proxies)
    options["post_fork"] = lambda _server, _worker: _dispose_engines(app, close=False)
    server = PortalServer(app, options, on_stop)
    freeze_startup_objects()
    server.run()


def serving_options(command):  # type: ignore[no-untyped-def]
    """The web server's options, shared by ``portal run`` and ``python -m app.server``."""
    for option in reversed(
        (
            click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1)),
            click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1)),
            click.option(
                "--trusted-proxies",
                default="",
                help="Comma-separated addresses or networks of reverse proxies whose "
                "X-Forwarded-* headers are kept (none by default).",
            ),
        )
    ):
        command = option(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@serving_options
def main(host: str, port: int, workers: int, threads: int, trusted_proxies: str) -> None:
    """Serve the web app and API only (the container's `web` service; no worker or beat)."""
    from app import create_app

    serve(
        create_app(),
        host,
        port,
        workers=workers,
        threads=threads,
        trusted_proxies=trusted_proxies,
    )


if __name__ == "__main__":
    main()
