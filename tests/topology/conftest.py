"""The topology is started once per test session (about 20 s) and shared by its tests."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from topology import Topology, TopologyUnavailable, portal_app  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def topology() -> Iterator[Topology]:
    root = Path(tempfile.mkdtemp(prefix="portal-topology-"))
    try:
        started = Topology(root).start()
    except TopologyUnavailable as missing:
        shutil.rmtree(root, ignore_errors=True)
        if IN_CI:
            pytest.fail(f"the production topology cannot start here: {missing}")
        pytest.skip(f"the production topology cannot start here: {missing}")
    try:
        yield started
    finally:
        started.stop()
        if not os.environ.get("PORTAL_TOPOLOGY_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def portal(topology: Topology) -> Any:
    """The portal's app in the test process, on the topology's database and store."""
    return portal_app(topology)


@pytest.fixture(scope="session")
def people(topology: Topology, portal: Any) -> dict[str, Any]:
    from seed import seed

    return seed(portal, topology.root / "people.json")
