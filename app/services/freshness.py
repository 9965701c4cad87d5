"""A stamp of what the database holds: it changes whenever any transaction commits a change.

Whoever keeps something derived from the database (the rendered pages of ``app/page_cache.py``)
reads the stamp *before* reading the data and keeps the stamp with what it derived: if the
stamp is still the same later, nothing committed since could have changed it. Read in that
order, a commit landing in between leaves newer data under the older stamp, never the reverse.

The stamp is asked of a connection of the process's own, outside the pool and any transaction,
that never writes (one statement, one round trip; one connection per process):

- SQLite: ``PRAGMA data_version``. It changes when any other connection (of this process or any
  other: web workers, the Celery worker, the command line) commits to the database file.
- PostgreSQL: the current snapshot (``pg_current_snapshot()``): its text changes when any
  transaction that wrote is given an id or ends, which is what decides what a query can see.
  It is the whole server's: writers to other databases of the server change it too (the pages
  are then rendered again; nothing is ever served stale for it).
- Anything else (an in-memory SQLite database), or a watcher that cannot connect: no stamp, so
  nothing is kept.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from app.extensions import db

__all__ = ["data_stamp"]

_QUERIES = {
    "sqlite": "PRAGMA data_version",
    "postgresql": "SELECT pg_current_snapshot()::text",
}


@dataclass
class _Watcher:
    """A connection of one process that never writes, asked only for the stamp."""

    connection: Any  # a DB-API connection in autocommit mode
    query: str
    pid: int
    serial: int
    lock: threading.Lock = field(default_factory=threading.Lock)


_watchers: dict[str, _Watcher] = {}
_watchers_lock = threading.Lock()
_serials = count(1)
_MAX_WATCHERS = 4  # one database in the portal; more in the tests


def _sqlite_path(database: str | None) -> str | None:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return os.path.abspath(database)


def _connect(backend: str) -> Any:
    engine = db.engine
    if backend == "sqlite":
        path = _sqlite_path(engine.url.database)
        if path is None or not os.path.exists(path):
            return None
        return sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    connection = engine.dialect.connect(*args, **kwargs)
    connection.autocommit = True
    return connection


def _watcher(name: str, backend: str) -> _Watcher | None:
    watcher = _watchers.get(name)
    if watcher is not None and watcher.pid == os.getpid():
        return watcher
    with _watchers_lock:
        watcher = _watchers.get(name)
        if watcher is None or watcher.pid != os.getpid():  # new, or inherited across a fork
            connection = _connect(backend)
            if connection is None:
                return None
            watcher = _Watcher(connection, _QUERIES[backend], os.getpid(), next(_serials))
            _watchers.pop(name, None)
            _watchers[name] = watcher
            while len(_watchers) > _MAX_WATCHERS:
                _close(_watchers.pop(next(iter(_watchers))))
    return watcher


def _close(watcher: _Watcher) -> None:
    if watcher.pid != os.getpid():
        return  # the parent's connection: closing it here could disturb the parent
    with watcher.lock:
        try:
            watcher.connection.close()
        except Exception:  # noqa: BLE001, S110 - already broken; it is being dropped anyway
            pass


def data_stamp() -> str | None:
    """The database's stamp now, or None when there is none to be had (keep nothing then)."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend not in _QUERIES:
        return None
    name = url.render_as_string(hide_password=False)
    try:
        watcher = _watcher(name, backend)
        if watcher is None:
            return None
        with watcher.lock:
            cursor = watcher.connection.cursor()
            try:
                cursor.execute(watcher.query)
                (value,) = cursor.fetchone()
            finally:
                cursor.close()
    except Exception:  # noqa: BLE001 - the server went away, or the watcher was closed
        with _watchers_lock:
            dropped = _watchers.pop(name, None)
        if dropped is not None:
            _close(dropped)  # a new one connects next time
        return None
    # a stamp compares only with the same watcher's: its process and serial say which
    return f"{backend}:{watcher.pid}:{watcher.serial}:{value}"
