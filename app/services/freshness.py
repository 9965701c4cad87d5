"""A stamp of what the database holds: it changes whenever any transaction commits a change.

Whoever keeps something derived from the database (the rendered pages of ``app/page_cache.py``)
reads the stamp *before* reading the data and keeps the stamp with what it derived: if the
stamp is still the same later, nothing committed since could have changed it. Read in that
order, a commit landing in between leaves newer data under the older stamp, never the reverse.

- SQLite: ``PRAGMA data_version`` on a connection of this process's own that never writes. It
  changes when any other connection (of this process or any other: web workers, the Celery
  worker, the command line) commits to the database file.
- PostgreSQL: the current snapshot (``pg_current_snapshot()``): its text changes when any
  transaction that wrote is given an id or ends, which is what decides what a query can see.
- Anything else (an in-memory SQLite database): no stamp, so nothing is kept.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from itertools import count

from sqlalchemy import text

from app.extensions import db

__all__ = ["data_stamp"]


@dataclass
class _Watcher:
    """A SQLite connection of one process that never writes: asked only for the data version."""

    connection: sqlite3.Connection
    pid: int
    serial: int
    lock: threading.Lock = field(default_factory=threading.Lock)


_watchers: dict[str, _Watcher] = {}
_watchers_lock = threading.Lock()
_serials = count(1)
_MAX_WATCHERS = 4


def _sqlite_path(database: str | None) -> str | None:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return os.path.abspath(database)


def _watcher(path: str) -> _Watcher:
    watcher = _watchers.get(path)
    if watcher is not None and watcher.pid == os.getpid():
        return watcher
    with _watchers_lock:
        watcher = _watchers.get(path)
        if watcher is None or watcher.pid != os.getpid():  # new, or inherited across a fork
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            watcher = _Watcher(connection, os.getpid(), next(_serials))
            _watchers.pop(path, None)
            _watchers[path] = watcher
            while len(_watchers) > _MAX_WATCHERS:  # one database in the portal; more in tests
                _close(_watchers.pop(next(iter(_watchers))))
    return watcher


def _close(watcher: _Watcher) -> None:
    if watcher.pid != os.getpid():
        return  # the parent's connection: closing it here could disturb the parent
    with watcher.lock:
        watcher.connection.close()


def data_stamp() -> str | None:
    """The database's stamp now, or None when there is none to be had (keep nothing then)."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_path(url.database)
        if path is None or not os.path.exists(path):
            return None
        watcher = _watcher(path)
        try:
            with watcher.lock:
                (version,) = watcher.connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:  # closed as one watcher too many meanwhile, or unreadable
            return None
        # data_version only compares within one connection: the watcher's serial says which
        return f"sqlite:{watcher.pid}:{watcher.serial}:{version}"
    if backend == "postgresql":
        snapshot = db.session.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
        return f"pg:{snapshot}"
    return None
