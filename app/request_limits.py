"""Limits on what a request may carry before any view reads it.

A JSON body is parsed by the standard library, which gives up with ``RecursionError`` on
deep nesting and accepts lone surrogates that no database can store; a path number is
turned into a Python int of any size, which the database driver cannot bind. Each of these
reached a view as a 500. Here they become ordinary bad requests (400), too-large bodies
(413) or unknown paths (404) before a view runs.

PostgreSQL cannot hold a NUL character in text, nor compare with one: an id, a filter or a
name sent with one (which SQLite would simply not find) is answered 400 wherever it meets
the database, rather than as a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

#: Deeper than any payload of the API (the deepest is a list of objects in an object).
MAX_JSON_DEPTH = 32
#: The largest number a path may name: PostgreSQL's and SQLite's 64-bit integers.
MAX_PATH_NUMBER = 2**63 - 1


class UnacceptableJSON(ValueError):
    """A JSON body that parses but cannot be taken (too deep, text that is not Unicode)."""


def check_json_value(value: Any) -> None:
    """Refuse nesting deeper than ``MAX_JSON_DEPTH`` and strings with lone surrogates.

    Walked without recursion, so that the check itself cannot overflow the stack.
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise UnacceptableJSON(f"The JSON body is nested more than {MAX_JSON_DEPTH} deep.")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnacceptableJSON("The JSON body holds text that is not valid Unicode.") from exc


class PortalJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies that would break a view further down."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise UnacceptableJSON("The JSON body is nested too deeply.") from exc
        check_json_value(value)
        return value


class PathNumberConverter(IntegerConverter):
    """``<int:...>`` that answers 404 for numbers no row can have, instead of overflowing."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_PATH_NUMBER)
        super().__init__(map, *args, **kwargs)


def init_request_limits(app: Flask) -> None:
    """Install the JSON provider, the path number converter and the JSON body cap.

    Must run before blueprints are registered: rules take their converters when added.
    """
    app.json_provider_class = PortalJSONProvider
    app.json = PortalJSONProvider(app)
    app.url_map.converters["int"] = PathNumberConverter
    limit = int(app.config.get("MAX_JSON_SIZE", 1024 * 1024))

    @app.errorhandler(DataError)
    def nul_in_text(error: DataError) -> Response:
        if "NUL" not in str(error.orig):
            raise error
        from app.extensions import db

        db.session.rollback()
        return app.handle_http_exception(  # type: ignore[return-value]
            BadRequest(
                "A text sent holds a NUL character, which the portal cannot store or look up."
            )
        )

    @app.before_request
    def cap_json_bodies() -> None:
        # Files go as multipart or through tus; a JSON body is a few fields, so a
        # larger one is refused (413) before it is read, not cut short later.
        if request.is_json:
            request.max_content_length = limit
