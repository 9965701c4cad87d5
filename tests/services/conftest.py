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
    return REDIS_URL
