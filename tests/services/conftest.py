"""Fixtures of the service tests that need more than a database."""

from __future__ import annotations

import os

import pytest
from portal_testing import IN_CI

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")


@pytest.fixture
def redis_url() -> str:
    """Redis for real Celery workers: skipped without PORTAL_TEST_REDIS_URL, failed in CI."""
    if not REDIS_URL:
        if IN_CI:
            pytest.fail(
                "CI=true but PORTAL_TEST_REDIS_URL is not set: the job tests must run on Redis"
            )
        pytest.skip(
            "set PORTAL_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run jobs on a real Celery worker"
        )
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {exc}")
    # One Redis database per xdist worker: two real workers on one queue take each other's
    # jobs (a worker attached to another test's database finds nothing, and the job is gone).
    base, _, number = REDIS_URL.rpartition("/")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    if number.isdigit():
        return f"{base}/{(int(number) - index) % 16}"
    return REDIS_URL
