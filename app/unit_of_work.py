"""One unit of work per request: what a request changed is committed once, at its end.

Views parse, check and call services; services only flush. Whether the changes stay is decided
by the answer, in one place (as Indico's request handler does):

- an answer below 400 commits;
- an error answer, or an exception, rolls back, unless the view called ``keep_on_error()``:
  some refusals must still be stored (a failed login's counters and audit event, a second
  factor's failed attempt counting against its code, a refused upload's row gone for good);
- a view that answers a refused call with a page or a redirect (a message next to the field,
  a flash) calls ``discard_changes()``: nothing of the request is stored, whatever its status
  (``errors_onto_form`` does it for the forms; ``keep_on_error()`` still wins);
- a commit that fails (a conflicting write, the database gone away) becomes an error answer
  (409, or 503 to try again), never a 2xx for something that did not stick;
- jobs and e-mails queued with ``enqueue_after_commit`` go out after that commit only
  (``app.services.runtime`` sends them from the session's after-commit hook), and are dropped
  with a rollback.

A request that changed nothing commits nothing: its transaction ends at teardown as before,
and the objects it loaded are not expired under a streamed answer still reading them. The rare
view that needs its changes stored before it goes on calls ``commit_now()`` and says why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from app.extensions import db
from app.services.errors import DomainError

__all__ = ["CommitFailed", "commit_now", "discard_changes", "init_unit_of_work", "keep_on_error"]

log = logging.getLogger(__name__)

_CHANGED = "portal_changed"  # session.info: something was written since the last commit
_KEEP = "portal_keep_on_error"  # g: the view wants its changes kept despite an error answer
_DISCARD = "portal_discard"  # g: a call was refused; its half-made changes must not be stored
_DATABASE_GONE = (OperationalError, InterfaceError, PendingRollbackError)
_READS = re.compile(r"\s*(SELECT|WITH)\b(?!.*\b(INSERT|UPDATE|DELETE)\b)", re.I | re.S)


class CommitFailed(DomainError):
    """The request's changes could not be stored; nothing of them was."""

    status = 409
    title = "Conflict"


class DatabaseUnavailable(CommitFailed):
    status = 503
    title = "Service unavailable"


def keep_on_error() -> None:
    """Keep this request's changes even though it answers with an error (below 500)."""
    g.setdefault(_KEEP, True)


def discard_changes() -> None:
    """Store nothing of this request although it answers 2xx/3xx: a service call was refused."""
    g.setdefault(_DISCARD, True)


def commit_now() -> None:
    """Commit the request's changes at once, for a view that must have them stored first."""
    session = db.session()
    if _has_changes(session):
        _commit(session)


def init_unit_of_work(app: Flask, error_response: Callable[[DomainError], Response]) -> None:
    """Commit or roll back at the end of each request; ``error_response`` words a failed commit."""
    if not event.contains(Session, "after_flush", _mark_flushed):
        event.listen(Session, "after_flush", _mark_flushed)
        event.listen(Session, "do_orm_execute", _mark_written)
        event.listen(Session, "after_commit", _mark_committed)

    def finish(response: Response) -> Response:
        session = _current_session()
        keep = bool(g.pop(_KEEP, False))
        discard = bool(g.pop(_DISCARD, False))
        if session is None:
            return response
        status = response.status_code
        if (status < 400 and not discard) or (keep and status < 500):
            if not _has_changes(session):
                return response
            try:
                _commit(session)
            except CommitFailed as failed:
                response.close()  # e.g. a download's open file: it will not be sent
                try:
                    replaced = error_response(failed)
                except Exception:  # noqa: BLE001 - e.g. the page's own queries fail as well
                    log.exception("could not render the answer to a failed commit")
                    replaced = Response(failed.detail, status=failed.status, mimetype="text/plain")
                if "Tus-Resumable" in response.headers:  # a tus client still reads its version
                    replaced.headers["Tus-Resumable"] = response.headers["Tus-Resumable"]
                return replaced
        elif session.in_transaction():
            _roll_back(session)
        return response

    def roll_back_unfinished(exc: BaseException | None) -> None:
        # An exception no handler answered (tests propagate them): after_request never ran.
        if exc is not None and _current_session() is not None:
            _roll_back(db.session())

    # Flask runs after-request hooks last registered first: registered after the security
    # headers' hook, this runs before it, so an answer replacing a failed commit gets them too.
    app.after_request(finish)
    app.teardown_request(roll_back_unfinished)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        _roll_back(session)
        log.warning("commit failed, nothing of the request was stored: %s", exc.orig)
        raise CommitFailed(
            gettext(
                "Otra persona ha cambiado lo mismo a la vez. No se ha guardado nada; "
                "vuelva a intentarlo."
            )
        ) from exc
    except _DATABASE_GONE as exc:
        # The database restarted under the request: the commit fails with the connection (as
        # an operational error, or psycopg's "the connection is lost" interface error).
        _roll_back(session)
        log.warning("commit failed, nothing of the request was stored: %s", exc)
        raise DatabaseUnavailable(
            gettext(
                "La base de datos no responde ahora mismo. No se ha guardado nada; "
                "vuelva a intentarlo en unos segundos."
            )
        ) from exc


def _roll_back(session: Session) -> None:
    """End the request's transaction; on a connection the database dropped, let the pool drop it."""
    try:
        session.rollback()
    except _DATABASE_GONE:
        session.invalidate()


def _current_session() -> Session | None:
    """The request's session if it made one (a kept page, a static file never do)."""
    registry = db.session.registry
    return registry() if registry.has() else None


def _has_changes(session: Session) -> bool:
    return bool(
        session.info.get(_CHANGED)
        or session.info.get("portal_jobs")
        or session.new
        or session.deleted
        or session.dirty
    )


def _mark_flushed(session: Session, _flush_context: Any) -> None:
    session.info[_CHANGED] = True


def _mark_written(state: Any) -> None:
    # Bulk UPDATE/DELETE and textual statements write without a flush (a textual query, such
    # as the full-text search's, only reads).
    if state.is_select:
        return
    statement = state.statement
    if isinstance(statement, TextClause) and _READS.match(statement.text):
        return
    state.session.info[_CHANGED] = True


def _mark_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: what the request changed is not committed yet
    session.info.pop(_CHANGED, None)
