"""Benchmark the production topology under 200 users, with two web processes and with one.

Runs standalone: ``.venv/bin/python bench/topology.py [--users 200] [--seconds 60]``.

For each of two web processes and one (``tests/topology/topology.py`` starts PostgreSQL,
Redis, nanio, nginx, the web processes, two workers and beat on loopback, as
docker-compose.yml describes them):

1. The mixed load of ``tests/topology/locustfile.py`` (clients on their agenda and spaces,
   uploading 1 KB to ``--max-upload`` by multipart and tus, commenting, completing request
   items, downloading; staff reviewing and requesting): requests per second, p50/p95/p99 per
   kind of request, answers by status, the page-cache hit ratio under that mix of reads and
   writes (``X-Page-Cache``), and the peak RSS of each process.
2. The read paths at capacity: ``wrk`` (8 connections, no think time) on the client's home
   page and on ``GET /api/v1/me/agenda`` through nginx, requests per second, to show the
   scale-out ratio of two web processes over one.

Targets: two web processes ≥ 1.7× one on the read paths; p95 of the pages under 150 ms at
200 users; no 5xx. Exits 1 on a miss. Beside the scale-out it prints what this machine gives
two processes at all (two processes of plain Python arithmetic at once over one, measured in
the same run): no web tier can scale past it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "topology")]

from checks import ledger  # noqa: E402
from seed import seed  # noqa: E402
from topology import Topology, portal_app, run_locust  # noqa: E402

SCALE_TARGET = 1.7
PAGE_P95_TARGET_MS = 150.0
WRK_SCRIPT = r"""
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "p95": %f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(95) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def _arithmetic(rounds: int) -> float:
    started = time.perf_counter()
    total = 0
    for number in range(rounds):
        total += number * number
    return time.perf_counter() - started


def machine_scaling(rounds: int = 6_000_000) -> float:
    """Two processes of plain arithmetic at once, as work per second over one process."""
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_arithmetic, [1000, 1000]))  # both processes started
        one = min(pool.submit(_arithmetic, rounds).result() for _ in range(2))
        started = time.perf_counter()
        list(pool.map(_arithmetic, [rounds, rounds]))
        two = time.perf_counter() - started
    return 2 * one / two


def peak_rss_mib(topology: Topology) -> dict[str, float]:
    """Largest peak RSS (VmHWM) among each named process and its children."""
    groups: dict[int, str] = {
        p.popen.pid: name for name, p in topology.processes.items() if p.popen is not None
    }
    peaks: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            group = int(stat.rsplit(")", 1)[1].split()[2])
            status = (entry / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        name = groups.get(group)
        if name is None:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = max(peaks.get(name, 0.0), int(line.split()[1]) / 1024)
    return peaks


def wrk(url: str, header: str, seconds: int, script: Path) -> dict:
    output = subprocess.run(  # noqa: S603
        [
            "wrk",
            "--threads=2",
            "--connections=8",
            f"--duration={seconds}s",
            "--timeout=10s",
            "--header",
            header,
            f"--script={script}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    return json.loads(line[4:])


def run(web: int, args: argparse.Namespace, folder: Path) -> dict:
    topology = Topology(folder / f"web{web}", web_processes=web).start()
    try:
        people = seed(portal_app(topology), topology.root / "people.json")
        record = folder / f"ledger-{web}.jsonl"
        finished = run_locust(
            topology,
            users=args.users,
            seconds=args.seconds,
            max_upload=args.max_upload,
            ledger=record,
            csv=folder / f"load-{web}",
        )
        if "Traceback" in finished.stderr:
            raise SystemExit(finished.stderr[-3000:])
        with (folder / f"load-{web}_stats.csv").open() as handle:
            stats = {row["Name"]: row for row in csv.DictReader(handle)}
        with (folder / f"load-{web}_failures.csv").open() as handle:
            failures = list(csv.DictReader(handle))
        entries = ledger(record)
        cache = next((e for e in entries if e["kind"] == "page-cache"), {"hit": 0, "miss": 0})
        script = folder / "wrk.lua"
        script.write_text(WRK_SCRIPT)
        client = people["clients"][0]
        reads = {
            "page: home": wrk(
                f"{topology.url}/",
                f"Cookie: portal_session={client['cookie']}",
                args.wrk_seconds,
                script,
            ),
            "api: agenda": wrk(
                f"{topology.url}/api/v1/me/agenda",
                f"Authorization: Bearer {client['token']}",
                args.wrk_seconds,
                script,
            ),
        }
        return {
            "stats": stats,
            "failures": failures,
            "cache": cache,
            "reads": reads,
            "server_errors": [e for e in entries if e["kind"] == "5xx"],
            # locust warns when its own process ran out of CPU: its timings then include the
            # time its users waited for it, not only for the portal
            "generator_saturated": "CPU usage" in finished.stderr,
            "rss": peak_rss_mib(topology),
        }
    finally:
        topology.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--max-upload", type=int, default=200 * 1024 * 1024)
    parser.add_argument("--web", type=int, help=argparse.SUPPRESS)  # one round, in a child
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.web:
        # each round in a process of its own: the in-process app's Celery keeps the broker
        # of the first topology it met
        folder = Path(tempfile.mkdtemp(prefix="bench-topology-"))
        try:
            args.out.write_text(json.dumps(run(args.web, args, folder)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return 0
    failed = False
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-topology-results-") as tmp:
        for web in (2, 1):
            out = Path(tmp) / f"{web}.json"
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    __file__,
                    f"--web={web}",
                    f"--out={out}",
                    f"--users={args.users}",
                    f"--seconds={args.seconds}",
                    f"--wrk-seconds={args.wrk_seconds}",
                    f"--max-upload={args.max_upload}",
                ],
                check=True,
            )
            results[web] = json.loads(out.read_text())
    for web, result in results.items():
        total = result["stats"]["Aggregated"]
        print(f"\n== {web} web process(es), {args.users} users, {args.seconds} s ==")
        print(
            f"requests/s {float(total['Requests/s']):.1f}, requests {total['Request Count']}, "
            f"failures {total['Failure Count']}"
        )
        if result.get("generator_saturated"):
            print(
                "the load generator itself ran out of CPU at some point (locust's warning): "
                "the times below include its users' wait for it"
            )
        print(f"{'kind':34} {'count':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
        for name, row in sorted(result["stats"].items()):
            if name == "Aggregated":
                continue
            print(
                f"{name:34} {row['Request Count']:>7} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
            )
        print(
            "errors:",
            [(f["Name"], f["Error"][:80], f["Occurrences"]) for f in result["failures"]] or "none",
        )
        hits, misses = result["cache"]["hit"], result["cache"]["miss"]
        ratio = hits / (hits + misses) if hits + misses else 0.0
        print(f"page cache: {hits} hits, {misses} renders kept: hit ratio {ratio:.2f}")
        print("peak RSS (MiB):", {k: round(v) for k, v in sorted(result["rss"].items())})
        for name, figure in result["reads"].items():
            rate = figure["requests"] / figure["seconds"]
            print(f"read path at capacity, {name}: {rate:.0f} req/s, p95 {figure['p95']:.1f} ms")
        if result["server_errors"]:
            print("5xx answers:", len(result["server_errors"]))
            failed = True
        pages = [row for name, row in result["stats"].items() if name.startswith("page:")]
        worst = max((float(row["95%"]) for row in pages), default=0.0)
        print(f"p95 of the pages: {worst:.0f} ms (target under {PAGE_P95_TARGET_MS:.0f})")
        if web == 2 and worst >= PAGE_P95_TARGET_MS:
            failed = True
    print("\n== scale-out, two web processes over one, read paths at capacity ==")
    for name in results[2]["reads"]:
        two, one = (results[w]["reads"][name] for w in (2, 1))
        scale = (two["requests"] / two["seconds"]) / (one["requests"] / one["seconds"])
        print(f"{name}: {scale:.2f}x (target >= {SCALE_TARGET})")
        failed |= scale < SCALE_TARGET
    print(f"this machine, two processes of plain arithmetic over one: {machine_scaling():.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
