"""Busy pages kept as rendered while nothing they show has changed.

A client opening the dashboard again, or going back to a space of 2,000 documents, gets the page
rendered for them moments ago when the database has not changed since (see
``app/services/freshness.py``) and it is less than ``PAGE_CACHE_SECONDS`` old (30 s: what depends
on the clock alone, "vence hoy", is never staler than that). Any commit anywhere (an upload, a
review, a revoked right, a signed-out session, a notification) changes the stamp, so the next
view renders afresh.

Each rendering is kept for one login session (which fixes the person and the form tokens in the
page), one address with its query, in the memory of the web worker, at most ``PAGE_CACHE_BYTES``
per worker, least recently used first out. Nothing is kept or served while the session holds a
message to show once (a flash), nor for an answer other than 200, nor past the session's end.
``PAGE_CACHE_SECONDS = 0`` turns it off.

A kept page is looked up before anything else of the request reads the database, the login
session's row included: with the database in the very state it was in when the page was
rendered for that session, loading the session again would find what it found then (valid,
the same person with the same rights and language), so the lookup needs only the signed cookie.
For the same reason the stamp is read first, then the session and the page's data.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_login import current_user

from app.services.freshness import data_stamp

__all__ = ["PageCache", "cached_page", "init_page_cache"]

# Set again on every answer, by the session and the after-request hooks.
_NOT_KEPT = {"set-cookie", "vary", "content-length", "x-page-cache"}
# Says whether an answer came from the cache (hit) or was rendered and kept (miss): the
# hit ratio under a real load is read from it (bench/topology.py).
HIT_HEADER = "X-Page-Cache"
_MARK = "portal_page_cache"


@dataclass(frozen=True)
class _Page:
    stamp: str
    kept_at: float  # time.monotonic()
    until: float  # time.time() of the login session's end
    headers: tuple[tuple[str, str], ...]
    body: bytes


class PageCache:
    """Rendered pages by key, each with the database stamp it was rendered under."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[str, ...], _Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], stamp: str) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if (
                page.stamp != stamp
                or time.monotonic() - page.kept_at > self.seconds
                or time.time() >= page.until
            ):
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, ...], page: _Page) -> None:
        if len(page.body) > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple[str, ...]) -> None:
        self._bytes -= len(self._pages.pop(key).body)

    def __len__(self) -> int:
        return len(self._pages)


def init_page_cache(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS", 0) or 0)
    if seconds > 0:
        app.extensions[_MARK] = PageCache(
            seconds, int(app.config.get("PAGE_CACHE_BYTES", 32 * 1024 * 1024))
        )
        # First of all hooks: before those that load the person, and before the rate limiter,
        # which limits none of these pages (only sign-in and the like), and costs as much
        # as the lookup itself.
        app.before_request_funcs.setdefault(None, []).insert(0, serve_kept_page)


def _key() -> tuple[str, ...] | None:
    """The login session (its signed cookie), the address and the session's form token."""
    sid = session.get("_user_id")
    if not sid or session.get("_flashes"):
        return None
    return (request.endpoint or "", request.full_path, str(sid), str(session.get("csrf_token")))


def serve_kept_page() -> Response | None:
    """Before-request hook: the kept page when there is one still true, else on to the view."""
    cache: PageCache | None = current_app.extensions.get(_MARK)
    if cache is None or request.method != "GET":
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, _MARK, False):
        return None
    key = _key()
    stamp = data_stamp() if key is not None else None  # before the request reads anything
    if key is None or stamp is None:
        return None
    page = cache.get(key, stamp)
    if page is None:
        g.portal_page_key = (key, stamp)  # for cached_page to keep what the view renders
        return None
    return Response(page.body, status=200, headers=[*page.headers, (HIT_HEADER, "hit")])


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET view whose page may be kept; keeps what it renders (see serve_kept_page)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        pending = g.pop("portal_page_key", None)
        response = make_response(view(*args, **kwargs))
        cache: PageCache | None = current_app.extensions.get(_MARK)
        if pending is None or cache is None:
            return response
        key, stamp = pending
        ends = getattr(current_user, "session_expires_at", None)
        if (
            response.status_code == 200
            and not response.is_streamed
            and ends is not None
            and getattr(current_user, "session_token", None) == key[2]
            and _key() == key  # the view changed neither the session's token nor its messages
        ):
            headers = [
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in _NOT_KEPT
            ]
            headers.append(("Cache-Control", "private, no-store"))
            body = response.get_data()
            cache.put(key, _Page(stamp, time.monotonic(), ends.timestamp(), tuple(headers), body))
            response.headers[HIT_HEADER] = "miss"
        return response

    setattr(wrapper, _MARK, True)
    return wrapper
