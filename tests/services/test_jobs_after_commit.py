"""Jobs queued by a request go out when its transaction commits, never before.

SQLAlchemy calls ``after_commit`` when a SAVEPOINT is released too: a job sent then reached a
worker before the rows it is about were committed (every upload's OCR job, on Redis).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.services.runtime import enqueue_after_commit


def _recording(app: Any) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    app.extensions["portal_job_runner"] = lambda name, *args: sent.append((name, *args))
    return sent


def test_a_released_savepoint_sends_nothing_the_commit_sends_everything(app):
    sent = _recording(app)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        enqueue_after_commit("portal.ocr_version", "v1")
        with db.session.begin_nested():
            enqueue_after_commit("portal.render_preview", "v1", "thumbnail")
        assert sent == []  # the version is not committed yet
        db.session.commit()
    assert sent == [("portal.ocr_version", "v1"), ("portal.render_preview", "v1", "thumbnail")]


def test_a_rolled_back_savepoint_keeps_the_jobs_queued_before_it(app):
    sent = _recording(app)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        enqueue_after_commit("portal.ocr_version", "v2")
        try:
            with db.session.begin_nested():
                raise ValueError("another request made the row first")
        except ValueError:
            pass
        db.session.commit()
    assert sent == [("portal.ocr_version", "v2")]


def test_a_rollback_drops_the_jobs(app):
    sent = _recording(app)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        enqueue_after_commit("portal.ocr_version", "v3")
        db.session.rollback()
        db.session.commit()
    assert sent == []
