"""Access to the running application's configuration, blob store, uploads and job queue.

Services use these instead of reaching into Flask themselves, and never import
``app.tasks``: jobs are enqueued by name, after the commit.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from typing import Any

from flask import current_app
from sqlalchemy import event

from app.extensions import db
from storage import BlobStore, ResumableUploads, build_resumable

log = logging.getLogger(__name__)
_request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
_build_lock = threading.Lock()


def setting(name: str) -> Any:
    return current_app.config[name]


def store() -> BlobStore:
    return current_app.extensions["portal_store"]  # type: ignore[no-any-return]


def resumable() -> ResumableUploads:
    """The process's resumable uploads, next to its blob store (built once: it keeps hashes)."""
    extensions = current_app.extensions
    uploads = extensions.get("portal_uploads")
    if uploads is None:
        with _build_lock:
            uploads = extensions.get("portal_uploads")
            if uploads is None:
                uploads = build_resumable(store())
                extensions["portal_uploads"] = uploads
    return uploads  # type: ignore[no-any-return]


def set_request_ip(ip: str | None) -> None:
    _request_ip.set(ip)


def request_ip() -> str | None:
    return _request_ip.get()


def enqueue_after_commit(task_name: str, *args: Any) -> None:
    """Send a Celery task by name once the current transaction commits."""
    session = db.session()
    pending: list[tuple[str, tuple[Any, ...]]] = session.info.setdefault("portal_jobs", [])
    if (task_name, args) not in pending:
        pending.append((task_name, args))


#: A new version's text and renditions, queued by one commit, travel as one job.
_OCR_TASK = "portal.ocr_version"
_PREVIEW_TASK = "portal.render_preview"
_VERSION_TASK = "portal.process_version"


def _one_job_per_version(
    jobs: list[tuple[str, tuple[Any, ...]]],
) -> list[tuple[str, tuple[Any, ...]]]:
    """``jobs`` with each version's OCR job and its renditions' jobs made one
    ``portal.process_version`` (in the OCR job's place); the rest as they were."""
    variants: dict[Any, list[Any]] = {}
    for name, args in jobs:
        if name == _PREVIEW_TASK and len(args) == 2:
            variants.setdefault(args[0], []).append(args[1])
    read = {args[0] for name, args in jobs if name == _OCR_TASK and len(args) == 1}
    both = read & set(variants)
    if not both:
        return jobs
    merged: list[tuple[str, tuple[Any, ...]]] = []
    for name, args in jobs:
        if name == _OCR_TASK and args[0] in both:
            merged.append((_VERSION_TASK, (args[0], variants[args[0]])))
        elif not (name == _PREVIEW_TASK and args[0] in both):
            merged.append((name, args))
    return merged


def _flush_jobs(session: Any) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy calls after_commit for a SAVEPOINT released too (begin_nested): the
        # outer transaction is not committed yet, and a worker would not find the rows its
        # job is about (every upload's OCR job was lost that way on a real broker).
        return
    jobs = session.info.pop("portal_jobs", [])
    if not jobs:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = app.extensions.get("portal_job_runner")
    if runner is None:  # (the tests' runners see every job by its own name)
        jobs = _one_job_per_version(jobs)
    for name, args in jobs:
        if runner is not None:
            runner(name, *args)
            continue
        try:
            # ignore_result: no one waits on a job's result here, and asking for it made each
            # send subscribe to the result store, which a Redis restart broke for good
            # ("Retry limit exceeded ... The Celery application must be restarted").
            app.extensions["celery"].send_task(name, args=list(args), ignore_result=True)
        except Exception:  # noqa: BLE001 - the broker is down (a Redis restart)
            # What the job was for is committed already: the answer must not turn into an
            # error. Every job is sent again by its sweeper (stalled OCR, a preview opened
            # again, the alert and mail beats), and is idempotent when it arrives twice.
            log.exception("job %s%r not sent: the broker did not take it", name, args)


def _drop_jobs(session: Any) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT rolled back: the jobs queued before it still stand
    session.info.pop("portal_jobs", None)


def install_session_hooks() -> None:
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _flush_jobs):
        event.listen(Session, "after_commit", _flush_jobs)
        event.listen(Session, "after_rollback", _drop_jobs)
