"""The database stamp (app/services/freshness.py), on SQLite and, in the PostgreSQL pass, there."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def _commit_elsewhere(url: str, world_title: str, document_id: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE document SET title = :t WHERE id = :i"),
            {"t": world_title, "i": document_id},
        )
    engine.dispose()


def _holds_across_a_read() -> str:
    """A stamp that stayed the same across a read of this process's own.

    On PostgreSQL the stamp is the server's snapshot, which the other test worker's commits
    move too: a few tries find a quiet moment (on SQLite the first one does).
    """
    from app.extensions import db
    from app.services.freshness import data_stamp

    for _attempt in range(20):
        before = data_stamp()
        assert before is not None
        db.session.execute(text("SELECT count(*) FROM document")).scalar_one()
        db.session.rollback()
        if data_stamp() == before:
            return before
    raise AssertionError("the stamp moved on every read")


def test_the_stamp_holds_while_nothing_commits_and_moves_on_a_commit(app, world, database_url):
    from app.extensions import db
    from app.services.freshness import data_stamp

    first = _holds_across_a_read()

    _commit_elsewhere(database_url, "Contrato revisado", world.shared.id)
    second = data_stamp()
    assert second not in (None, first)

    world.shared.title = "Contrato final"  # this very process's session, through the pool
    db.session.commit()
    assert data_stamp() not in (None, first, second)


def test_a_lost_watcher_connection_gives_no_stamp_once_then_reconnects(app, world, database_url):
    """The database restarted or the connection was cut: nothing is kept rather than a guess."""
    from app.extensions import db
    from app.services import freshness

    assert freshness.data_stamp() is not None
    watcher = freshness._watchers[db.engine.url.render_as_string(hide_password=False)]
    if db.engine.url.get_backend_name() == "postgresql":
        pid = watcher.connection.info.backend_pid
        db.session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        db.session.commit()
    else:
        watcher.connection.close()
    assert freshness.data_stamp() is None
    assert _holds_across_a_read()  # a new watcher, working again
