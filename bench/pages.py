"""Pages under concurrent load, against a bare Flask route served the same way in the same run.

    .venv/bin/python bench/pages.py [--duration 20] [--connections 8] [--database-url URL]

Fills a temporary portal (SQLite under a temporary data directory by default; with
``--database-url`` a PostgreSQL database, which it empties first) with 200 clients, their
people and spaces, 20,000 documents with their versions and search-index rows, open document
requests and notifications, one space holding 2,000 of those documents. Then it serves
  - the portal, on gunicorn exactly as ``portal run`` serves it (``app.server.serve``), and
  - a bare Flask app with one route returning a short page, on gunicorn the same way,
each in its own process, and loads them with ``wrk`` (Debian package) on loopback: the bare
route, then, as a logged-in client person, their dashboard, the 2,000-document space and the
search page with a query. It prints p50/p95/p99, requests/s, errors, each page's p95 as a
ratio of the bare route's p95, and the portal process's peak RSS.
Targets: each page's p95 <= 3x the bare route and under 150 ms; no errors (exit status 1).

The pages are loaded as the portal serves them: nothing changes in the database during the
load, so after the first request each page comes from the page cache (``app/page_cache.py``).
A second round (marked ``*``; ``--kept-only`` skips it) serves them with the cache off
(``PORTAL_PAGE_CACHE_SECONDS=0``), rendered on every request, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = 200
DOCUMENTS = 20_000
BIG_SPACE_DOCUMENTS = 2_000
SPACES_PER_CLIENT = 2
PASSWORD = "bench password 2026"
CLIENT_EMAIL = "cliente0@bench.example"
QUERY = "factura"

TITLES = [
    "Factura",
    "Nómina",
    "Contrato de arrendamiento",
    "Plano de planta",
    "Modelo 303",
    "Escritura",
    "Cuentas anuales",
    "Acta de la junta",
    "Certificado de retenciones",
    "Memoria de calidades",
]
WORDS = (
    "importe total base imponible iva factura cliente proveedor fecha vencimiento iban "
    "domiciliación nómina salario bruto retención irpf cotización contrato arrendador "
    "arrendatario renta fianza plano planta alzado sección cota escala revisión obra"
).split()
STATES = ["received", "read", "checked", "validated", "validated", "changes_requested"]

# wrk script: count answers other than 200 (a 302 to the login page would look like success
# to wrk) and print the latency percentiles as one JSON line.
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "not_ok": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, bad,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------- filling


def fill(env: dict[str, str]) -> dict[str, str]:
    """Create the schema and the data; return the ids the load needs."""
    os.environ.update(env)
    from sqlalchemy import create_engine, insert, text

    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.models import (
        Client,
        Document,
        DocumentRequest,
        DocumentVersion,
        Folder,
        Notification,
        RequestItem,
        SearchEntry,
        Space,
        SpaceMember,
        User,
    )
    from app.models.base import new_id
    from app.services import accounts

    url = env["PORTAL_DATABASE_URL"]
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app()
    upgrade_database(app)
    app.extensions["portal_job_runner"] = lambda name, *args: None  # no jobs in the benchmark
    rng = random.Random(8)
    now = datetime.now(UTC)
    sqlite = url.startswith("sqlite")
    with app.app_context():
        staff = accounts.create_user(
            None, email="staff@bench.example", name="Gestora", role="staff", password=PASSWORD
        )
        db.session.commit()
        staff_id = staff.id
        client_ids = [new_id() for _ in range(CLIENTS)]
        db.session.execute(
            insert(Client),
            [
                {"id": cid, "name": f"Cliente {n:03d} S.L.", "kind": "company", "created_at": now}
                for n, cid in enumerate(client_ids)
            ],
        )
        db.session.commit()
        person = accounts.create_user(
            None,
            email=CLIENT_EMAIL,
            name="Cliente Cero",
            role="client",
            client_id=client_ids[0],
            password=PASSWORD,
        )
        db.session.commit()
        people = [person.id]
        password_hash = person.password_hash
        rows = []
        for n, cid in enumerate(client_ids[1:], start=1):
            people.append(new_id())
            rows.append(
                {
                    "id": people[-1],
                    "email": f"cliente{n}@bench.example",
                    "name": f"Cliente {n}",
                    "role": "client",
                    "client_id": cid,
                    "password_hash": password_hash,
                    "locale": "es",
                    "notify_email": "daily",
                    "active": True,
                    "recovery_codes": [],
                    "created_at": now,
                }
            )
        db.session.execute(insert(User), rows)

        spaces: list[tuple[str, str]] = []  # (space id, client id)
        for cid in client_ids:
            spaces.extend((new_id(), cid) for _ in range(SPACES_PER_CLIENT))
        big_space = spaces[0][0]
        db.session.execute(
            insert(Space),
            [
                {
                    "id": sid,
                    "client_id": cid,
                    "name": "Ejercicio 2025" if i % 2 == 0 else "Documentación general",
                    "kind": "fiscal_year" if i % 2 == 0 else "general",
                    "review_sla": {},
                    "label_scheme": "default",
                    "created_at": now,
                }
                for i, (sid, cid) in enumerate(spaces)
            ],
        )
        person_of = dict(zip(client_ids, people, strict=True))
        members = []
        for sid, cid in spaces:
            members.append(
                {
                    "id": new_id(),
                    "space_id": sid,
                    "user_id": staff_id,
                    "permission": "manage",
                    "created_at": now,
                }
            )
            members.append(
                {
                    "id": new_id(),
                    "space_id": sid,
                    "user_id": person_of[cid],
                    "permission": "contribute",
                    "created_at": now,
                }
            )
        db.session.execute(insert(SpaceMember), members)
        folders = [new_id() for _ in range(5)]
        db.session.execute(
            insert(Folder),
            [
                {"id": fid, "space_id": big_space, "name": name, "created_at": now}
                for fid, name in zip(
                    folders,
                    ["Facturas", "Nóminas", "Bancos", "Impuestos", "Contratos"],
                    strict=True,
                )
            ],
        )

        others = [s for s in spaces if s[0] != big_space]
        documents, versions, entries, fts = [], [], [], []
        for n in range(DOCUMENTS):
            if n < BIG_SPACE_DOCUMENTS:
                sid, cid, folder = big_space, client_ids[0], folders[n % 5]
            else:
                (sid, cid), folder = others[n % len(others)], None
            doc_id = new_id()
            title = f"{TITLES[n % len(TITLES)]} {n:05d}"
            created = now - timedelta(days=rng.uniform(0, 365))
            count = 2 if rng.random() < 0.25 else 1
            client_side = rng.random() < 0.5
            uploader = person_of[cid] if client_side else staff_id
            documents.append(
                {
                    "id": doc_id,
                    "space_id": sid,
                    "folder_id": folder,
                    "title": title,
                    "category": None,
                    "visibility": "internal"
                    if (sid != big_space and rng.random() < 0.1)
                    else "shared",
                    "current_version_number": count,
                    "created_by_id": uploader,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            last_version = ""
            for number in range(1, count + 1):
                last_version = new_id()
                at = created + timedelta(days=number - 1)
                versions.append(
                    {
                        "id": last_version,
                        "document_id": doc_id,
                        "number": number,
                        "blob_key": f"sha256/{rng.getrandbits(256):064x}",
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "size": rng.randint(20_000, 3_000_000),
                        "filename": f"{title.lower().replace(' ', '-')}.pdf",
                        "content_type": "application/pdf",
                        "uploaded_by_id": uploader,
                        "note": None,
                        "source": "upload",
                        "review_state": "changes_requested"
                        if number < count
                        else rng.choice(STATES),
                        "review_state_at": at,
                        "created_at": at,
                    }
                )
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 160)))
            entries.append(
                {
                    "document_id": doc_id,
                    "version_id": last_version,
                    "title": title,
                    "body": body,
                    "updated_at": created,
                }
            )
            fts.append({"id": doc_id, "title": title, "body": body, "space": sid})
        for start in range(0, len(documents), 5000):
            db.session.execute(insert(Document), documents[start : start + 5000])
        for start in range(0, len(versions), 5000):
            db.session.execute(insert(DocumentVersion), versions[start : start + 5000])
        for start in range(0, len(entries), 5000):
            db.session.execute(insert(SearchEntry), entries[start : start + 5000])
        if sqlite:
            db.session.execute(
                text(
                    "INSERT INTO search_entry_fts (document_id, title, body, space_id, audience) "
                    "VALUES (:id, :title, :body, :space, (SELECT CASE WHEN visibility = 'shared' "
                    "THEN 'client' ELSE 'staff' END FROM document WHERE id = :id))"
                ),
                fts,
            )

        requests, items = [], []
        for sid, _client in spaces[::SPACES_PER_CLIENT]:
            request_id = new_id()
            requests.append(
                {
                    "id": request_id,
                    "space_id": sid,
                    "title": "Documentación renta 2025",
                    "due_date": date.today() + timedelta(days=rng.randint(-5, 30)),
                    "reminders": {},
                    "owner_id": staff_id,
                    "created_at": now,
                    "successor_created": False,
                }
            )
            for position, item in enumerate(
                ["DNI", "Nóminas", "Certificado bancario", "Recibos IBI"]
            ):
                items.append(
                    {
                        "id": new_id(),
                        "request_id": request_id,
                        "position": position,
                        "title": item,
                        "required": True,
                        "status": "pending" if position % 2 else "accepted",
                        "updated_at": now,
                    }
                )
        db.session.execute(insert(DocumentRequest), requests)
        db.session.execute(insert(RequestItem), items)

        notes = []
        for user_id in people[:20] + [staff_id]:
            for k in range(60):
                notes.append(
                    {
                        "id": new_id(),
                        "user_id": user_id,
                        "kind": "version_uploaded",
                        "payload": {"title": f"Documento {k}"},
                        "created_at": now - timedelta(hours=k),
                        "read_at": None if k < 12 else now,
                    }
                )
        db.session.execute(insert(Notification), notes)
        db.session.commit()
        # planner statistics, as a production database has them (autovacuum, or ANALYZE)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return {"space": big_space}


# ---------------------------------------------------------------------------------- serving


def serve_portal(port: int, workers: int) -> None:
    from app.cli import _app
    from app.server import serve

    serve(_app(), "127.0.0.1", port, workers=workers)


def serve_bare(port: int, workers: int) -> None:
    from flask import Flask

    from app.server import serve

    bare = Flask("bare")

    @bare.get("/")
    def index() -> str:
        return "<!doctype html><title>bare</title><p>Hola</p>"

    serve(bare, "127.0.0.1", port, workers=workers)


def start(kind: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - this very script, as the server
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--port",
            str(port),
            "--web-workers",
            str(workers),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, base
        except OSError as exc:
            if process.poll() is not None:
                log = process.stderr.read().decode()[-2000:] if process.stderr else ""
                raise SystemExit(f"{kind} server died: {log}") from exc
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{kind} server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peak_rss_mib(pid: int) -> float:
    """The largest VmHWM of the server process and its children (gunicorn's workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    peaks = [
        int(line.split()[1]) / 1024
        for process in pids
        for line in Path(f"/proc/{process}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    ]
    return max(peaks, default=float("nan"))


def worker_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of each of the server's worker processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            found[int(child)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def worker_split(before: dict[int, float], after: dict[int, float]) -> str:
    """Each worker's share of the CPU the server spent between two readings, largest first.

    wrk's connections are kept alive and the kernel hands each to one worker (SO_REUSEPORT
    hashes the connection): 8 connections can land 4 and 4, or 6 and 2, and the busier worker
    then answers its share more slowly, which moves the p95 from one run to the next.
    """
    spent = [after[p] - before.get(p, 0.0) for p in after]
    total = sum(spent) or 1.0
    return "/".join(f"{100 * s / total:.0f}" for s in sorted(spent, reverse=True))


def login(base: str) -> str:
    """Log the client person in through the login form; return the Cookie header value."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": CLIENT_EMAIL, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(f"login failed: {answer.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def check(url: str, cookie: str, expect: str) -> int:
    """The page answers 200 with what a person would see; returns its size in bytes."""
    import requests

    answer = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=60)
    if answer.status_code != 200 or expect not in answer.text:
        raise SystemExit(f"{url}: {answer.status_code}, {expect!r} not in the page")
    return len(answer.content)


def load(url: str, cookie: str | None, args: argparse.Namespace, script: Path) -> dict:
    command = [
        "wrk",
        f"--threads={args.wrk_threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=10s",
        f"--script={script}",
        url,
    ]
    if cookie:
        command[1:1] = ["--header", f"Cookie: {cookie}"]
    if args.warmup:
        warm = [*command]
        warm[warm.index(f"--duration={args.duration}s")] = f"--duration={args.warmup}s"
        subprocess.run(warm, check=True, capture_output=True)  # noqa: S603
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    return json.loads(line[4:])


def load_pages(  # noqa: PLR0913 - the run's parts
    env: dict[str, str],
    ids: dict[str, str],
    args: argparse.Namespace,
    script: Path,
    results: list[tuple[str, dict, int]],
    mark: str,
) -> float:
    """Serve the portal with ``env`` and load its three pages; returns its peak RSS in MiB."""
    portal, base = start("portal", env, args.web_workers)
    try:
        cookie = login(base)
        pages = [
            (f"client dashboard{mark}", f"{base}/", "Sus espacios"),
            (
                f"space, {BIG_SPACE_DOCUMENTS:,} documents{mark}",
                f"{base}/spaces/{ids['space']}",
                "Documentos",
            ),
            (f"search '{QUERY}'{mark}", f"{base}/search?q={QUERY}", "search-results"),
        ]
        sizes = {name: check(url, cookie, expect) for name, url, expect in pages}
        for name, url, _expect in pages:
            results.append((name, load(url, cookie, args, script), sizes[name]))
        check(pages[0][1], cookie, pages[0][2])  # still logged in after the load
        return peak_rss_mib(portal.pid)
    finally:
        stop(portal)


# ---------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (emptied first)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per page")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--web-workers",
        type=int,
        default=1,
        help="gunicorn worker processes for both servers (portal run: 1; compose: 2)",
    )
    parser.add_argument(
        "--kept-only",
        action="store_true",
        help="skip the second round, with pages rendered on every request (page cache off)",
    )
    parser.add_argument("--serve", choices=["portal", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "portal":
        serve_portal(args.port, args.web_workers)
        return 0
    if args.serve == "bare":
        serve_bare(args.port, args.web_workers)
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make system-packages)")

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        data = Path(tmp)
        env = {
            "PORTAL_DATA_DIR": str(data),
            "PORTAL_DATABASE_URL": args.database_url or f"sqlite:///{data / 'portal.sqlite'}",
            "PORTAL_STORAGE_URL": f"file://{data / 'blobs'}",
            "PORTAL_SECRET_KEY": "bench-pages",
            "PORTAL_BASE_URL": "http://127.0.0.1",
        }
        started = time.perf_counter()
        ids = fill(env)
        database = "PostgreSQL" if env["PORTAL_DATABASE_URL"].startswith("postgresql") else "SQLite"
        print(
            f"filled in {time.perf_counter() - started:.0f} s ({database}): {CLIENTS} clients, "
            f"{DOCUMENTS:,} documents, a space with {BIG_SPACE_DOCUMENTS:,}"
        )
        script = data / "report.lua"
        script.write_text(WRK_SCRIPT)
        bare, bare_base = start("bare", env, args.web_workers)
        results: list[tuple[str, dict, int]] = []
        try:
            results.append(("bare Flask route", load(f"{bare_base}/", None, args, script), 0))
            # as served (unchanged pages kept as rendered), then rendered on every request
            rss = load_pages(env, ids, args, script, results, "")
            if not args.kept_only:
                load_pages(
                    {**env, "PORTAL_PAGE_CACHE_SECONDS": "0"}, ids, args, script, results, " *"
                )
        finally:
            stop(bare)

    floor = results[0][1]["p95"]
    print(
        f"wrk: {args.connections} connections, {args.wrk_threads} threads, {args.duration} s "
        f"per page after {args.warmup} s warm-up; gunicorn, {args.web_workers} worker(s) x 8 threads"
    )
    header = (
        f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7} "
        f"{'p95/bare':>9} {'KB':>6}  target"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name, figures, size in results:
        errors = figures["not_ok"] + figures["socket_errors"]
        if figures["requests"] == 0:
            errors = max(errors, 1)  # nothing answered within the run
        failed |= errors > 0
        ratio = figures["p95"] / floor if floor else float("inf")
        target = ""
        if name.endswith(" *"):
            target = "(page cache off)"
        elif name != "bare Flask route":
            met = ratio <= 3 and figures["p95"] < 150 and errors == 0
            target = "met" if met else "not met"
        print(
            f"{name:<26} {figures['p50']:8.1f} {figures['p95']:8.1f} {figures['p99']:8.1f} "
            f"{figures['requests'] / figures['seconds']:8.0f} {errors:7d} {ratio:8.1f}x "
            f"{size / 1024:6.0f}  {target}"
        )
    print(f"portal process peak RSS (pages as served): {rss:.0f} MiB")
    if not args.kept_only:
        print("* rendered on every request: PORTAL_PAGE_CACHE_SECONDS=0, for comparison")
    if failed:
        print("errors during the load", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
