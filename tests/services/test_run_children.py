"""`portal run` starts its worker, beat and mail receiver again when one of them stops."""

from __future__ import annotations

import sys
import time

from app.cli import Children

#: a child that counts its starts in a file and exits at once for the first two
FLAKY = """
import sys, time
from pathlib import Path
starts = Path(sys.argv[1])
starts.write_text(starts.read_text() + "x" if starts.exists() else "x")
if len(starts.read_text()) < 3:
    sys.exit(3)
time.sleep(60)
"""


def _wait_for(condition, seconds: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_child_that_stops_is_started_again_and_stopped_with_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(Children, "RESTART_BACKOFF", 0.2)
    starts = tmp_path / "starts"
    children = Children({"flaky": [sys.executable, "-c", FLAKY, str(starts)]}, check_every=0.05)
    try:
        assert _wait_for(lambda: starts.exists() and starts.read_text() == "xxx")
        running = children.processes[0]
        time.sleep(0.5)
        assert running.poll() is None  # the third start stays up: no more restarts
        assert starts.read_text() == "xxx"
    finally:
        children.stop()
    assert running.poll() is not None
    time.sleep(0.3)
    assert starts.read_text() == "xxx"  # nothing started after stop()


def test_a_child_that_keeps_failing_at_once_waits_between_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(Children, "RESTART_BACKOFF", 1.0)
    starts = tmp_path / "starts"
    children = Children({"flaky": [sys.executable, "-c", FLAKY, str(starts)]}, check_every=0.05)
    try:
        assert _wait_for(lambda: starts.exists())
        time.sleep(0.6)
        assert starts.read_text() == "x"  # not started again within the back-off
        assert _wait_for(lambda: starts.read_text() == "xx", seconds=5)
    finally:
        children.stop()


def test_nothing_is_started_again_once_the_server_is_stopping(tmp_path, monkeypatch):
    # Ctrl+C in the terminal ends the children too; the server says it is stopping
    monkeypatch.setattr(Children, "RESTART_BACKOFF", 0.1)
    monkeypatch.setattr(Children, "GRACE", 2.0)  # room for a loaded machine
    starts = tmp_path / "starts"
    quits = "import sys; from pathlib import Path; Path(sys.argv[1]).write_text('x')"
    children = Children({"quits": [sys.executable, "-c", quits, str(starts)]}, check_every=0.05)
    try:
        assert _wait_for(lambda: children.processes[0].poll() is not None)
        children.stopping_soon()
        starts.unlink()
        time.sleep(1.0)
        assert not starts.exists()  # not started again
    finally:
        children.stop()
