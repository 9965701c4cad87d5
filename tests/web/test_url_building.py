"""The tests' URL rule (portal_testing.BuildersOnceRule) builds and matches as werkzeug's own."""

from __future__ import annotations

from typing import Any

from flask import Flask
from portal_testing import BuildersOnceRule, make_app
from werkzeug.routing import Rule


def _sample(converter: Any) -> Any:
    """A value each kind of path variable takes."""
    if hasattr(converter, "items"):  # any(a, b)
        return sorted(converter.items)[0]
    if "Number" in type(converter).__name__:
        return 12
    if type(converter).__name__ == "PathConverter":
        return "a/b c.pdf"
    return "x y"


def _urls(app: Flask) -> dict[str, str]:
    built = {}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        values: dict[str, Any] = {
            name: _sample(converter) for name, converter in rule._converters.items()
        }
        values["extra"] = "ñ&1"  # an unknown argument goes to the query string
        built[f"{rule.endpoint} {rule.rule}"] = adapter.build(
            rule.endpoint, values, method=sorted(rule.methods or {"GET"})[0]
        )
    return built


def _matched(app: Flask, urls: dict[str, str]) -> dict[str, Any]:
    """What each URL (path and query) is routed to: the endpoint and its values."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, Any] = {}
    for name, url in urls.items():
        path = url.partition("?")[0]
        endpoint = name.partition(" ")[0]
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        try:
            found[name] = adapter.match(path, method=sorted(rule.methods or {"GET"})[0])
        except Exception as exc:  # noqa: BLE001 - a redirect or 405 is an answer too
            found[name] = type(exc).__name__
    return found


def _shapes(app: Flask) -> dict[str, Any]:
    """Each rule's parsed parts, trace and converters (kind, own map)."""
    return {
        f"{rule.endpoint} {rule.rule}": (
            rule._parts,
            rule._trace,
            sorted(rule.arguments),
            {k: (type(c), c.regex, c.map is app.url_map) for k, c in rule._converters.items()},
        )
        for rule in app.url_map.iter_rules()
    }


def test_every_route_builds_the_same_url_with_the_tests_rule(tmp_path, database_url) -> None:
    assert Flask.url_rule_class is BuildersOnceRule
    cached = make_app(tmp_path, database_url)
    again = make_app(tmp_path, database_url)  # its builders come from the first app's rules
    Flask.url_rule_class = Rule
    try:
        plain = make_app(tmp_path, database_url)
    finally:
        Flask.url_rule_class = BuildersOnceRule
    assert all(type(rule) is Rule for rule in plain.url_map.iter_rules())
    expected = _urls(plain)
    assert len(expected) > 150
    assert _urls(cached) == expected
    assert _urls(again) == expected
    assert any("?extra=%C3%B1%261" in url for url in expected.values())
    routed = _matched(plain, expected)
    assert sum(isinstance(found, tuple) for found in routed.values()) > 150
    assert _matched(cached, expected) == routed
    assert _matched(again, expected) == routed
    assert _shapes(again) == _shapes(cached) == _shapes(plain)
