"""Two web processes behind nginx, two workers and beat, under 200 users: nothing lost."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from checks import check_audit, check_everything_kept, ledger, server_errors
from seed import PASSWORD
from topology import Topology, run_locust

pytestmark = [pytest.mark.topology, pytest.mark.xdist_group("topology")]

#: seconds of load; CI shortens the run, never skips it
LOAD_SECONDS = int(os.environ.get("PORTAL_TOPOLOGY_SECONDS", "25"))


def _login(base: str, email: str, address: str) -> requests.Session:
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = address
    page = browser.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token
    answer = browser.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code in (302, 303), answer.status_code
    return browser


def test_a_session_made_on_one_web_process_is_valid_on_the_other(
    topology: Topology, people: dict[str, Any]
):
    person = people["clients"][0]
    browser = _login(topology.web_url(0), person["email"], "10.88.0.1")
    home = browser.get(f"{topology.web_url(1)}/", allow_redirects=False, timeout=30)
    assert home.status_code == 200
    assert "Cliente 0" in home.text

    made = requests.post(
        f"{topology.web_url(1)}/api/v1/auth/token",
        json={"email": person["email"], "password": PASSWORD},
        headers={"X-Forwarded-For": "10.88.0.2"},
        timeout=30,
    )
    assert made.status_code == 200
    me = requests.get(
        f"{topology.web_url(0)}/api/v1/me",
        headers={"Authorization": f"Bearer {made.json()['token']}"},
        timeout=30,
    )
    assert me.status_code == 200 and me.json()["email"] == person["email"]

    # signing out on one process ends the session on both
    browser.post(
        f"{topology.web_url(0)}/logout",
        data={"csrf_token": _csrf(browser, topology.web_url(0))},
        timeout=30,
    )
    again = browser.get(f"{topology.web_url(1)}/", allow_redirects=False, timeout=30)
    assert again.status_code in (302, 303) and "/login" in again.headers["Location"]


def _csrf(browser: requests.Session, base: str) -> str:
    page = browser.get(f"{base}/", timeout=30)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page.text
    )
    assert found, "no CSRF token on the home page"
    return found.group(1)


def _token_attempt(topology: Topology, index: int, email: str, password: str, ip: str) -> int:
    return requests.post(
        f"{topology.web_url(index % 2)}/api/v1/auth/token",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
        timeout=30,
    ).status_code


def test_the_login_throttle_counts_across_both_web_processes(
    topology: Topology, people: dict[str, Any]
):
    # five wrong passwords for one account, wherever they land, lock it: even the right one
    email = people["clients"][1]["email"]
    wrong = [_token_attempt(topology, n, email, "no-es-la-clave", f"10.88.2.{n}") for n in range(5)]
    assert wrong == [401] * 5
    assert _token_attempt(topology, 5, email, PASSWORD, "10.88.2.9") == 429

    # thirty attempts a minute from one address, whatever the e-mails, then refused
    answers = [
        _token_attempt(topology, n, f"nadie{n}@example.com", "no-es-la-clave", "10.88.1.1")
        for n in range(31)
    ]
    assert answers[:30] == [401] * 30
    assert answers[30] == 429


def test_two_hundred_users_and_nothing_acknowledged_is_lost(
    topology: Topology, portal: Any, people: dict[str, Any], tmp_path: Path
):
    record = tmp_path / "ledger.jsonl"
    finished = run_locust(
        topology,
        users=200,
        seconds=LOAD_SECONDS,
        max_upload=8 * 1024 * 1024,
        ledger=record,
        csv=tmp_path / "load",
    )
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    with (tmp_path / "load_stats.csv").open() as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows["Aggregated"]
    assert int(total["Request Count"]) > 200, total  # the load really ran
    entries = ledger(record)
    assert server_errors(entries) == [], topology.diagnostics()
    assert check_everything_kept(portal, entries) > 10
    check_audit(topology.url, people["admin"]["token"])
    for name in ("web0", "web1", "worker0", "worker1", "beat", "nginx"):
        assert topology.processes[name].alive(), topology.log(name)[-3000:]


def test_a_worker_that_exits_on_its_own_is_started_again(topology: Topology):
    """As compose's ``restart: unless-stopped`` does: a worker that exits by itself (Celery
    gives up when a broker reconnection fails) comes back, ready to take jobs again."""
    import signal
    import time

    worker = topology.processes["worker1"]
    assert worker.popen is not None
    before = worker.popen.pid
    readies = topology.log("worker1").count(" ready.")
    os.killpg(before, signal.SIGKILL)  # not through the test's own stop: an exit of its own
    deadline = time.monotonic() + 90
    while topology.log("worker1").count(" ready.") == readies:
        assert time.monotonic() < deadline, topology.log("worker1")[-2000:]
        time.sleep(0.5)
    assert worker.popen.pid != before and worker.alive()
    assert any(line.startswith("worker1 exited") for line in topology.restarts)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def test_background_jobs_yield_the_processor_to_the_web_processes(topology: Topology):
    """Workers (and the job processes they start) run niced, the web processes do not: an
    archive's OCR does not take the processors from people waiting on a page."""
    for name in ("worker0", "worker1"):
        worker = topology.processes[name].popen
        assert worker is not None
        pids = [worker.pid, *_descendants(worker.pid)]
        assert len(pids) >= 2, pids  # the worker and its pool of job processes
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pids} == {10}, name
    web = topology.processes["web0"].popen
    assert web is not None
    assert os.getpriority(os.PRIO_PROCESS, web.pid) == 0
