"""The served OpenAPI description matches the routes and docs/api.md."""

from __future__ import annotations

import re

API_MD_PATHS = [
    ("post", "/auth/token"),
    ("delete", "/auth/token"),
    ("get", "/me"),
    ("post", "/me/mfa/totp"),
    ("post", "/me/mfa/totp/confirm"),
    ("post", "/clients"),
    ("get", "/clients"),
    ("post", "/users"),
    ("post", "/clients/{id}/spaces"),
    ("get", "/clients/{id}/spaces"),
    ("post", "/spaces/{id}/members"),
    ("post", "/spaces/{id}/documents"),
    ("get", "/spaces/{id}/documents"),
    ("get", "/documents/{id}"),
    ("post", "/documents/{id}/versions"),
    ("get", "/documents/{id}/versions"),
    ("get", "/documents/{id}/versions/{n}/content"),
    ("post", "/documents/{id}/versions/{n}/restore"),
    ("get", "/audit"),
    ("get", "/audit/verify"),
    ("post", "/documents/{id}/signature-requests"),
    ("get", "/signature-requests/{id}"),
    ("post", "/signature-requests/{id}/sign"),
    ("post", "/signature-requests/{id}/decline"),
    ("get", "/signature-requests/{id}/evidence"),
    ("post", "/validate"),
    ("get", "/documents/{id}/versions/{n}/validation"),
    ("get", "/jobs/{id}"),
]


def _normalise(rule: str) -> str:
    rule = re.sub(r"<int:number>", "{n}", rule)
    return re.sub(r"<[^>]+>", "{id}", rule)


def test_spec_and_routes_agree(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((method.lower(), _normalise(rule.rule)))
    assert documented == served


def test_every_api_md_path_is_documented_and_served(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for method, path in API_MD_PATHS:
        assert method in spec["paths"].get("/api/v1" + path, {}), f"{method.upper()} {path} missing"


def test_the_document_is_valid_openapi(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert any(status < "300" for status in answers), f"{method} {path}: no success"
            assert answers["404"]["content"]["application/problem+json"]["schema"] == problem
