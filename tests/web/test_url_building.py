"""The tests' URL rule (portal_testing.BuildersOnceRule) builds what werkzeug's own builds."""

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
