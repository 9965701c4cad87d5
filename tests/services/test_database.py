"""Which database the suite runs on, and the migrations that build it."""

from __future__ import annotations

import os

import pytest
from portal_testing import BACKEND, IN_CI, PG_URL


def test_postgresql_is_configured_when_ci_requires_it():
    if not PG_URL:
        if IN_CI:
            pytest.fail(
                "CI=true but PORTAL_TEST_DATABASE_URL is not set: the database tests must run on PostgreSQL"
            )
        pytest.skip(
            "set PORTAL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_test"
        )
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_migrations_match_the_models(app):
    """Alembic's autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.extensions import db
    from app.models.ocr import include_in_autogenerate

    options = {"include_name": include_in_autogenerate}  # the dialect's own search index
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), db.metadata)
    assert diff == []


def test_suite_backend_is_the_one_requested(app):
    from app.extensions import db

    expected = "postgresql" if BACKEND == "postgres" else "sqlite"
    assert db.engine.dialect.name == expected
    assert os.environ.get("PORTAL_TEST_BACKEND", "sqlite") in {"sqlite", "postgres"}
