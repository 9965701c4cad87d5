"""Benchmark campaigns: a renta campaign for 500 of 2,000 clients, its board and the agenda.

    .venv/bin/python bench/campaigns.py [--database-url URL] [--duration 10] [--connections 8]

Fills a temporary portal (SQLite under a temporary data directory by default; with
``--database-url`` a PostgreSQL database, which it empties first) with 2,000 clients (each
with a tax id and one client person), three sets of 500 of them tagged "renta0" to "renta2".
Then:

1. Creates a campaign for each set of 500 with the "renta" template (POST-equivalent
   ``campaigns.create_campaign``) and runs its job in this process exactly as the
   ``portal.run_campaign`` task does (each client's space, members and request, a batch of
   100 clients per commit), timing the whole; the median of the three. Target: under 10 s.
2. Bulk-inserts the very rows the campaign made (every table, the same number of rows and
   the same values under new ids) with SQLAlchemy Core in one transaction, the floor any
   implementation pays for writing them (after each campaign; the median of the three).
   Target: the campaign <= 5x that floor.
3. Samples the process's resident memory after each batch of the job (100 clients): flat
   means it does not grow with the number of clients.
4. Serves the portal on gunicorn as ``portal run`` does (``bench/pages.py``'s server), with
   the page cache off (every request rendered), and loads with ``wrk`` (8 connections): the
   campaign's board (500 rows) as staff, the staff agenda (home page) and a campaign
   client's agenda (home page). Target: p95 under 100 ms each, no errors. Beside each, its p95
   as a ratio of a bare Flask route's, served and loaded the same way in the same run (the
   floor: what this machine gives any page under that load).

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import pages as page_bench  # noqa: E402 - bench/pages.py: its gunicorn server and wrk load

CLIENTS = 2_000
CAMPAIGN = 500
ROUNDS = 3  # campaigns on three sets of 500 clients (and three floors): medians printed
PASSWORD = "bench password 2026"
STAFF_EMAIL = "gestora@bench.example"
CLIENT_EMAIL = "cliente0@bench.example"
CREATE_TARGET_SECONDS = 10.0
RATIO_TARGET = 5.0
P95_TARGET_MS = 100.0
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
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


def fill(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """2,000 clients with a tax id and a person each; three sets of 500 tagged. Returns ids."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Client, ClientTag, User
    from app.models.base import new_id
    from app.services import accounts
    from app.services.settings import update_setting

    now = datetime.now(UTC)
    with app.app_context():
        admin = accounts.create_user(
            None, email="socia@bench.example", name="Socia", role="admin", password=PASSWORD
        )
        update_setting(admin, "require_mfa_for_staff", False)  # the load logs in by the form
        staff = accounts.create_user(
            None, email=STAFF_EMAIL, name="Gestora", role="staff", password=PASSWORD
        )
        db.session.commit()
        client_ids = [new_id() for _ in range(CLIENTS)]
        db.session.execute(
            insert(Client),
            [
                {
                    "id": cid,
                    "name": f"Cliente {n:04d}",
                    "kind": "person",
                    "tax_id": f"{10_000_000 + n:08d}{DNI_LETTERS[(10_000_000 + n) % 23]}",
                    "created_at": now,
                }
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
        db.session.execute(
            insert(User),
            [
                {
                    "id": new_id(),
                    "email": f"cliente{n}@bench.example",
                    "name": f"Persona {n}",
                    "role": "client",
                    "client_id": cid,
                    "password_hash": person.password_hash,
                    "locale": "es",
                    "notify_email": "daily",
                    "active": True,
                    "recovery_codes": [],
                    "created_at": now,
                }
                for n, cid in enumerate(client_ids[1:], start=1)
            ],
        )
        db.session.execute(
            insert(ClientTag),
            [
                {"id": new_id(), "client_id": cid, "tag": f"renta{n // CAMPAIGN}"}
                for n, cid in enumerate(client_ids[: CAMPAIGN * ROUNDS])
            ],
        )
        db.session.commit()
        return {"staff": staff.id}


def _snapshot(conn) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.extensions import db

    return {
        table.name: set(conn.execute(select(table.c.id)).scalars())
        for table in db.metadata.sorted_tables
        if "id" in table.c
    }


def run_campaign(
    app, staff_id: str, tag: str
) -> tuple[str, float, list[float], dict[str, set[str]]]:  # type: ignore[no-untyped-def]
    """Create the campaign and run its job; (id, seconds, RSS samples, ids made per table)."""
    from app.extensions import db
    from app.models import User
    from app.services import campaigns

    with app.app_context():
        before = _snapshot(db.session.connection())
        db.session.commit()
        staff = db.session.get(User, staff_id)
        samples = [rss_mib()]
        started = time.perf_counter()
        campaign = campaigns.create_campaign(
            staff,
            name="Renta 2026",
            kind="request",
            template="renta",
            due_date=date.today() + timedelta(days=45),
            client_filter={"tag": tag},
            space_kind="fiscal_year",
            space_name="Renta {year}",
            today=date.today(),
        )
        db.session.commit()
        campaign_id = campaign.id
        # what the portal.run_campaign task does, with a memory sample after each batch
        campaigns.start(campaign_id)
        db.session.commit()
        for batch in campaigns.batches(campaigns.pending_rows(campaign_id)):
            campaigns.run_batch(batch, today=date.today())
            db.session.commit()
            samples.append(rss_mib())
        campaigns.finish(campaign_id)
        db.session.commit()
        seconds = time.perf_counter() - started
        after = _snapshot(db.session.connection())
        db.session.commit()
        made = {name: after[name] - before.get(name, set()) for name in after}
        return campaign_id, seconds, samples, {k: v for k, v in made.items() if v}


def bulk_floor(app, made: dict[str, set[str]]) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Insert copies of the campaign's rows (new ids, same values) with Core; (seconds, rows)."""
    from sqlalchemy import String, delete, func, insert, select

    from app.extensions import db
    from app.models.base import new_id

    with app.app_context():
        conn = db.session.connection()
        tables = [t for t in db.metadata.sorted_tables if t.name in made]
        rows: dict[str, list[dict]] = {}
        for table in tables:
            ids = list(made[table.name])
            found = []
            for start in range(0, len(ids), 500):
                found += [
                    dict(r._mapping)
                    for r in conn.execute(
                        select(table).where(table.c.id.in_(ids[start : start + 500]))
                    )
                ]
            rows[table.name] = found
        renamed = {old: new_id() for ids in made.values() for old in ids}
        offsets = {}
        for table in tables:
            for column in table.c:
                if column.unique and column.name != "id" and not isinstance(column.type, String):
                    offsets[(table.name, column.name)] = (
                        conn.execute(select(func.max(column))).scalar() or 0
                    )
        db.session.commit()
        copies: dict[str, list[dict]] = {}
        for table in tables:
            unique_text = {
                c.name
                for c in table.c
                if c.unique and c.name != "id" and isinstance(c.type, String)
            }
            copies[table.name] = [
                {
                    key: (
                        renamed.get(value, value)
                        if isinstance(value, str) and key not in unique_text
                        else f"{value}~"
                        if key in unique_text and value is not None
                        else value + offsets[(table.name, key)]
                        if (table.name, key) in offsets and value is not None
                        else value
                    )
                    for key, value in row.items()
                }
                for row in rows[table.name]
            ]
        count = sum(len(v) for v in copies.values())
        started = time.perf_counter()
        with db.engine.begin() as core:
            for table in tables:
                if copies[table.name]:
                    core.execute(insert(table), copies[table.name])
        seconds = time.perf_counter() - started
        # the copies go again, so that the pages measured below see one campaign's rows
        with db.engine.begin() as core:
            for table in reversed(tables):
                ids = [row["id"] for row in copies[table.name]]
                for start in range(0, len(ids), 500):
                    core.execute(delete(table).where(table.c.id.in_(ids[start : start + 500])))
        return seconds, count


def staff_login(base: str, email: str) -> str:
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(f"login of {email} failed: {answer.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def main() -> int:  # noqa: PLR0915 - one run, printed in order
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (emptied first)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make system-packages)")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as tmp:
        data = Path(tmp)
        url = args.database_url or f"sqlite:///{data / 'portal.sqlite'}"
        env = {
            "PORTAL_DATA_DIR": str(data),
            "PORTAL_DATABASE_URL": url,
            "PORTAL_STORAGE_URL": f"file://{data / 'blobs'}",
            "PORTAL_SECRET_KEY": "bench-campaigns",
            "PORTAL_BASE_URL": "http://127.0.0.1",
            "PORTAL_PAGE_CACHE_SECONDS": "0",
        }
        os.environ.update(env)
        if url.startswith("postgresql"):
            empty_postgres(url)
        from app import create_app
        from app.cli import upgrade_database

        app = create_app()
        upgrade_database(app)
        app.extensions["portal_job_runner"] = lambda name, *a: None  # the job runs below
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        ids = fill(app)
        print(
            f"{database}: {CLIENTS:,} clients, each with a person; "
            f"{ROUNDS} sets of {CAMPAIGN} tagged for {ROUNDS} campaigns"
        )

        runs = []
        for round_number in range(ROUNDS):
            made_run = run_campaign(app, ids["staff"], f"renta{round_number}")
            runs.append((made_run, bulk_floor(app, made_run[3])))
        campaign_id, _seconds, samples, made = runs[0][0]
        seconds = statistics.median(run[0][1] for run in runs)
        floor = statistics.median(run[1][0] for run in runs)
        rows = runs[0][1][1]
        ratio = seconds / floor
        print(
            "  each round, campaign / floor (s): "
            + ", ".join(f"{run[0][1]:.2f} / {run[1][0]:.2f}" for run in runs)
        )
        met = seconds < CREATE_TARGET_SECONDS and ratio <= RATIO_TARGET
        failed |= not met
        print(
            f"campaign for {CAMPAIGN} clients (create + job), median of {ROUNDS}: {seconds:.2f} s "
            f"(target < {CREATE_TARGET_SECONDS:.0f} s); the same {rows:,} rows in "
            f"{len(made)} tables bulk-inserted with Core: {floor:.2f} s; "
            f"ratio {ratio:.1f}x (target <= {RATIO_TARGET:.0f}x): {'met' if met else 'NOT met'}"
        )
        print("  rows made: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(made.items())))
        print(
            "  resident memory every 100 clients of the job (MiB): "
            + " ".join(f"{s:.0f}" for s in samples)
            + f" (growth over the job {samples[-1] - samples[1]:+.0f} MiB after the first 100)"
        )
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()

        script = data / "report.lua"
        script.write_text(page_bench.WRK_SCRIPT)
        # The floor: a bare Flask route on gunicorn the same way (bench/pages.py), loaded the
        # same way in this run, so the pages' figures read against what this machine gives.
        bare, bare_base = page_bench.start("bare", env, args.web_workers)
        try:
            floor = page_bench.load(f"{bare_base}/", None, args, script)
        finally:
            page_bench.stop(bare)
        portal, base = page_bench.start("portal", env, args.web_workers)
        results = []
        try:
            staff_cookie = staff_login(base, STAFF_EMAIL)
            client_cookie = staff_login(base, CLIENT_EMAIL)
            pages = [
                (
                    f"board, {CAMPAIGN} clients",
                    f"{base}/campaigns/{campaign_id}",
                    staff_cookie,
                    "campaign-board",
                ),
                ("staff agenda (home)", f"{base}/", staff_cookie, "Hola,"),
                ("client agenda (home)", f"{base}/", client_cookie, "agenda-item"),
            ]
            for name, page_url, cookie, expect in pages:
                size = page_bench.check(page_url, cookie, expect)
                before = page_bench.worker_cpu_seconds(portal.pid)
                figures = page_bench.load(page_url, cookie, args, script)
                figures["split"] = page_bench.worker_split(
                    before, page_bench.worker_cpu_seconds(portal.pid)
                )
                results.append((name, figures, size))
            rss = page_bench.peak_rss_mib(portal.pid)
        finally:
            page_bench.stop(portal)
    print(
        f"wrk: {args.connections} connections, {args.duration} s per page after "
        f"{args.warmup} s warm-up; gunicorn, {args.web_workers} worker(s) x 8 threads; "
        "page cache off (every request rendered)"
    )
    header = (
        f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>7} "
        f"{'KB':>5} {'p95/bare':>9} {'CPU %':>7}  target"
    )
    print(header)
    print("-" * len(header))
    for name, figures, size in [("bare Flask route (floor)", floor, 0), *results]:
        errors = figures["not_ok"] + figures["socket_errors"] + (figures["requests"] == 0)
        ratio = figures["p95"] / floor["p95"] if floor["p95"] else float("inf")
        verdict = ""
        if figures is not floor:
            met = figures["p95"] < P95_TARGET_MS and errors == 0
            failed |= not met
            verdict = f"{'met' if met else 'NOT met'} (p95 < {P95_TARGET_MS:.0f} ms)"
        print(
            f"{name:<24} {figures['p50']:8.1f} {figures['p95']:8.1f} {figures['p99']:8.1f} "
            f"{figures['requests'] / figures['seconds']:7.0f} {errors:7d} {size / 1024:5.0f} "
            f"{ratio:8.1f}x {figures.get('split', ''):>7}  {verdict}"
        )
    print(f"portal process peak RSS under load: {rss:.0f} MiB")
    if args.web_workers > 1:
        print(
            "CPU %: each web process's share of the CPU the page cost, busiest first "
            "(wrk's kept-alive connections are spread by the kernel, not by load)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
