"""The migration history is one line, and the schema it builds is the models' schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from portal_testing import IN_CI, PG_URL, _pg_url_for_worker
from sqlalchemy import create_engine, text

from app import ROOT

# The heads every portal had before the branches were merged: `portal init` upgraded
# to all of them at once ("heads").
BRANCH_HEADS = (
    "0002",
    "0003",
    "0004",
    "0005",
    "0006e_ocr_heartbeat",
    "0006f_document_count_index",
    "0009_search_audience",
)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "app" / "migrations"))
    config.attributes["connection_url"] = url
    return config


def single_head() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, (
        f"the migrations have {len(heads)} heads {sorted(heads)}: put the new migration on "
        "the existing head (its down_revision), so that `alembic upgrade head` has one target"
    )
    return heads[0]


def differences_from_models(url: str) -> list[object]:
    """What Alembic's autogenerate would add to make this database match the models."""
    import app.models  # noqa: F401 - registers every table
    from app.extensions import db
    from app.models.ocr import include_in_autogenerate

    # The full-text search objects (SQLite FTS5 tables, the PostgreSQL tsvector column
    # and its index) are made by hand per dialect and are not in the models on purpose.
    options = {"include_name": include_in_autogenerate, "compare_type": True}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts=options), db.metadata)
    finally:
        engine.dispose()


def versions_in(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with no tables yet: a new SQLite file, or an emptied PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.sqlite'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but PORTAL_TEST_DATABASE_URL is not set")
        pytest.skip("set PORTAL_TEST_DATABASE_URL to check the migrations on PostgreSQL")
    url = _pg_url_for_worker(PG_URL, "migrations")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def test_the_migrations_have_a_single_head():
    """`alembic upgrade head` has one target: a branch left unmerged fails here first."""
    single_head()


def test_upgrade_head_builds_the_schema_of_the_models(empty_database):
    """A new database migrated to head has every table, column, index and key of the models."""
    command.upgrade(alembic_config(empty_database), "head")
    assert versions_in(empty_database) == [single_head()]
    assert differences_from_models(empty_database) == []


def test_a_portal_migrated_to_every_branch_upgrades_to_the_one_head(empty_database):
    """A portal set up before the merge (all seven branch heads applied) upgrades in place."""
    from app import create_app
    from app.cli import upgrade_database

    config = alembic_config(empty_database)
    for head in BRANCH_HEADS:
        command.upgrade(config, head)
    assert versions_in(empty_database) == sorted(BRANCH_HEADS)
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO client (id, name, kind, created_at) "
                "VALUES ('c1', 'Asesoría Norte', 'company', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()

    # What `portal init` runs on every start.
    upgrade_database(
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": empty_database,
                "DATA_DIR": "/nonexistent-unused",
                "SECRET_KEY": "x",
            }
        )
    )

    assert versions_in(empty_database) == [single_head()]
    assert differences_from_models(empty_database) == []
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.scalars(text("SELECT name FROM client")).all() == ["Asesoría Norte"]
    engine.dispose()
