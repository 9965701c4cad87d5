"""Busy pages kept as rendered while nothing they show has changed.

A client opening the dashboard again, or going back to a space of 2,000 documents, gets the page
rendered for them moments ago when the database has not changed since (see
``app/services/freshness.py``) and it is less than ``PAGE_CACHE_SECONDS`` old (30 s: what depends
on the clock alone, "vence hoy", is never staler than that). Any commit anywhere (an upload, a
review, a revoked right, a notification) changes the stamp, so the next view renders afresh.

Each rendering is kept for one login session (which also fixes the person, their rights at that
moment and the form tokens in the page), one address with its query and one language, in the
memory of the web worker, at most ``PAGE_CACHE_BYTES`` per worker, least recently used first
out. Nothing is kept or served while the session holds a message to show once (a flash), nor
for an answer other than 200. ``PAGE_CACHE_SECONDS = 0`` turns it off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

from app.services.freshness import data_stamp

__all__ = ["PageCache", "cached_page", "init_page_cache"]

# Set again on every answer, by the session and the after-request hooks.
_NOT_KEPT = {"set-cookie", "vary", "content-length"}


@dataclass(frozen=True)
class _Page:
    stamp: str
    kept_at: float
    status: int
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
            if page.stamp != stamp or time.monotonic() - page.kept_at > self.seconds:
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
        app.extensions["portal_page_cache"] = PageCache(
            seconds, int(app.config.get("PAGE_CACHE_BYTES", 32 * 1024 * 1024))
        )


def _key() -> tuple[str, ...] | None:
    sid = getattr(current_user, "session_token", None)
    if not sid:
        return None
    return (
        request.endpoint or "",
        request.full_path,
        sid,
        str(session.get("csrf_token", "")),
        str(get_locale()),
    )


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page from the cache while the database has not changed (GET only)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache: PageCache | None = current_app.extensions.get("portal_page_cache")
        if (
            cache is None
            or request.method != "GET"
            or not current_user.is_authenticated
            or session.get("_flashes")
        ):
            return view(*args, **kwargs)
        key = _key()
        stamp = data_stamp() if key is not None else None  # before the view reads anything
        if key is None or stamp is None:
            return view(*args, **kwargs)
        page = cache.get(key, stamp)
        if page is not None:
            return Response(page.body, status=page.status, headers=list(page.headers))
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed and _key() == key:
            headers = tuple(
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in _NOT_KEPT
            )
            cache.put(key, _Page(stamp, time.monotonic(), 200, headers, response.get_data()))
        return response

    return wrapper
