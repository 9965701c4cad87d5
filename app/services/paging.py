"""Lists one page at a time: keyset paging with an opaque, signed cursor (docs/api.md).

A list is ordered by a few keys ending in a unique one (usually the id). A page is the
first ``limit`` rows after the last row of the previous page, found with a ``WHERE`` on
those keys rather than an ``OFFSET``: rows inserted between two pages neither repeat nor
push an unseen row out of reach. The cursor carries that last row's key values, signed
with the application's secret and bound to the list it came from, so that a cursor
edited by hand, cut short or taken from another list is refused with 422 rather than
read. Signing guards the position, not access: every page is still the caller's own
query, with its access rules, so no cursor can show what the caller may not see.

Services take a ``PageArgs`` (``None``: the whole list, for pages of the web that show
everything) and answer a ``Page``, a list with the ``next`` cursor beside it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import QueryableAttribute

from app.extensions import db
from app.services.errors import ValidationFailed
from app.services.runtime import setting

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: Longer than any cursor this module makes (a few keys of at most a few hundred characters).
_MAX_CURSOR = 2048
_LIMIT = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class PageArgs:
    """Which page: after ``cursor`` (None: from the start), at most ``limit`` items."""

    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Key:
    """One sort key of a list: an expression, its direction, and whether it may be NULL.

    NULLs sort last in either direction, on SQLite and PostgreSQL alike.
    """

    expr: ColumnElement[Any] | QueryableAttribute[Any]
    desc: bool = False
    nullable: bool = False


class Page(list[T]):
    """The items of one page, and the cursor of the next (None at the end)."""

    def __init__(self, items: Iterable[T] = (), next_cursor: str | None = None) -> None:
        super().__init__(items)
        self.next = next_cursor


def page_args(query: Mapping[str, Any]) -> PageArgs:
    """``cursor`` and ``limit`` from a request's query arguments; a bad limit is 422."""
    raw_limit = query.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit not in (None, ""):
        text = str(raw_limit).strip()
        if not _LIMIT.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
            raise ValidationFailed(
                {"limit": _("El límite debe ser un número entero de 1 a %(n)s.", n=MAX_LIMIT)}
            )
        limit = int(text)
    cursor = query.get("cursor")
    return PageArgs(cursor=str(cursor) if cursor else None, limit=limit)


def cursor_page(
    query: Mapping[str, Any], *, limit: int = DEFAULT_LIMIT, name: str = "cursor"
) -> PageArgs:
    """A web list's page: the cursor of its "more" link (argument ``name``), a fixed size."""
    return PageArgs(cursor=query.get(name) or None, limit=limit)


# ---------------------------------------------------------------- the cursor


def bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        {"cursor": _("Ese cursor no es válido: pida la lista de nuevo desde el principio.")}
    )


def _mac(scope: str, payload: str) -> str:
    key = str(setting("SECRET_KEY")).encode()
    digest = hmac.new(key, f"page:{scope}:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"t"}:
            return datetime.fromisoformat(value["t"])
        if set(value) == {"d"}:
            return date.fromisoformat(value["d"])
        raise ValueError("unknown value")
    return value


def encode_cursor(scope: str, values: Sequence[Any]) -> str:
    """The cursor of the position ``values`` in the list ``scope``."""
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":"), ensure_ascii=False)
    payload = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(scope, payload)}"


def decode_cursor(scope: str, cursor: str, size: int | None) -> list[Any]:
    """The key values a cursor of ``scope`` carries; anything else is 422."""
    if not isinstance(cursor, str) or len(cursor) > _MAX_CURSOR:
        raise bad_cursor()
    payload, _dot, mac = cursor.partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(scope, payload).encode()):
        raise bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        values = [_typed(v) for v in json.loads(raw)]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError):
        raise bad_cursor() from None
    if size is not None and len(values) != size:
        raise bad_cursor()
    return values


# ---------------------------------------------------------------- pages of a query


def _after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that come after the position ``values`` in the order of ``keys``."""
    terms: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        if key.nullable and value is None:
            # NULLs come last: only rows with NULL here too, and later by the next keys.
            equal.append(key.expr.is_(None))
            continue
        later = key.expr < value if key.desc else key.expr > value
        if key.nullable:
            later = or_(later, key.expr.is_(None))
        terms.append(and_(*equal, later))
        equal.append(key.expr == value)
    return or_(*terms)


def _order(keys: Sequence[Key]) -> list[ColumnElement[Any]]:
    order: list[ColumnElement[Any]] = []
    for key in keys:
        if key.nullable:
            order.append(key.expr.is_(None).asc())
        order.append(key.expr.desc() if key.desc else key.expr.asc())
    return order


def keyset(
    query: Select[Any], keys: Sequence[Key], page: PageArgs | None, *, scope: str
) -> Page[Any]:
    """One page of ``query`` (its entities) in the order of ``keys``, the last one unique.

    ``scope`` names the list (and what it is of, e.g. the space) so that a cursor of one
    list is refused by another. ``page`` None: every row, in that order.
    """
    ordered = query.order_by(None).order_by(*_order(keys))
    if page is None:
        return Page(db.session.execute(ordered).scalars())
    if page.cursor is not None:
        ordered = ordered.where(_after(keys, decode_cursor(scope, page.cursor, len(keys))))
    width = len(keys)
    rows = db.session.execute(
        ordered.add_columns(*(key.expr for key in keys)).limit(page.limit + 1)
    ).all()
    if len(rows) <= page.limit:
        return Page(row[0] for row in rows)
    rows = rows[: page.limit]
    return Page((row[0] for row in rows), encode_cursor(scope, list(rows[-1][-width:])))


def page_list(
    items: Iterable[T], key: Callable[[T], tuple[Any, ...]], page: PageArgs | None, *, scope: str
) -> Page[T]:
    """One page of a list made in Python, ordered by ``key`` (unique, never None inside)."""
    ordered = sorted(items, key=key)
    if page is None:
        return Page(ordered)
    if page.cursor is not None:
        position = tuple(decode_cursor(scope, page.cursor, None))
        try:
            ordered = [item for item in ordered if key(item) > position]
        except TypeError:
            raise bad_cursor() from None
    if len(ordered) <= page.limit:
        return Page(ordered)
    shown = ordered[: page.limit]
    return Page(shown, encode_cursor(scope, key(shown[-1])))
