"""Schemathesis against /api/v1/openapi.json: no answer is a 5xx, every answer matches its schema.

Every operation of the published document gets a few generated requests (a fixed seed:
the same ones each run), as a client and as the firm's staff of the seeded world. Each
generated request goes once as generated (ids made up: the answers are mostly 404s and
422s, which must match their problem schema too) and once with the path's ids replaced
by real ones of the world, so that the successful answers are checked as well.
Destructive operations (DELETE) come last, and revoking the caller's own token last of all.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from portal_testing import api_token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.usefixtures("signing_ready")

#: Generated requests per operation and caller (each sent twice: made-up ids, real ids);
#: PORTAL_SCHEMATHESIS_EXAMPLES=40 looks further (about two minutes a caller).
EXAMPLES = int(os.environ.get("PORTAL_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance]


def _real_ids(world: Any) -> dict[str, str]:
    """The id a path segment names, by the segment before it."""
    return {
        "clients": world.firm_a.id,
        "spaces": world.space_a.id,
        "documents": world.shared.id,
        "comments": world.comment_shared.id,
        "transmittals": world.transmittal.id,
        "requests": world.request.id,
        "request-items": world.request.items[0].id,
    }


def _with_real_ids(case: Any, ids: dict[str, str]) -> bool:
    """Replace the generated path ids of ``case`` by the world's; False when none is known."""
    parts = case.operation.path.strip("/").split("/")
    changed = False
    for before, part in zip(parts, parts[1:], strict=False):
        name = part.strip("{}")
        if part.startswith("{") and name != "n" and before in ids:
            case.path_parameters[name] = ids[before]
            changed = True
        elif part == "{n}":
            case.path_parameters["n"] = 1
    return changed


def _order(operation: Any) -> tuple[int, str]:
    if operation.path.endswith("/auth/token") and operation.method == "delete":
        return (2, operation.path)
    return (1 if operation.method == "delete" else 0, operation.path + operation.method)


@pytest.mark.parametrize("role", ["client_a", "staff"])
def test_every_operation_answers_without_5xx_and_as_documented(app, web_app, client, world, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", web_app)
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    assert len(operations) > 50
    ids = _real_ids(world)
    user = getattr(world, role)
    auth = api_token(client, user)
    started = time.monotonic()
    failures: list[str] = []
    statuses: dict[int, int] = {}

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(GenerationMode.POSITIVE)
            | operation.as_strategy(GenerationMode.NEGATIVE)
        )
        def run(case: Any) -> None:
            nonlocal auth
            for real in (False, True):
                if real and not _with_real_ids(case, ids):
                    break
                headers = dict(auth)
                try:
                    response = case.call(headers=headers)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except Exception as exc:  # noqa: BLE001 - gathered, all reported at the end
                    failures.append(f"{case.method} {case.formatted_path}: {exc!r}"[:1500])
                if case.operation.path.endswith("/auth/token") and case.method != "GET":
                    auth = api_token(client, user)  # the token may have been revoked

        run()

    elapsed = time.monotonic() - started
    # Most made-up ids are 404s; the real ones must have reached answers that succeeded.
    assert statuses.get(200, 0) + statuses.get(201, 0) > 50, statuses
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:20])
    assert elapsed < 120, f"the run took {elapsed:.0f} s"


def test_what_schemathesis_found_is_422_not_500(client, world):
    """Fields of the wrong JSON type once reached code that expected text (a 500)."""
    staff = api_token(client, world.staff)
    document = f"/api/v1/documents/{world.shared.id}"
    sent = [
        (f"{document}/review", {"label": [["x"]]}, "label"),
        (f"{document}/review", {"action": "validate", "comment": {"a": 1}}, "comment"),
        (f"{document}/review", {"action": ["validate"]}, "action"),
        (f"/api/v1/spaces/{world.space_a.id}/transmittals", {"document_ids": 7}, "document_ids"),
        (
            f"/api/v1/spaces/{world.space_a.id}/transmittals",
            {"document_ids": [world.shared.id], "recipient_ids": [{"id": 1}]},
            "recipient_ids",
        ),
        (
            f"/api/v1/spaces/{world.space_a.id}/transmittals",
            {"document_ids": [world.shared.id], "recipient_ids": [], "message": 5},
            "message",
        ),
        (f"{document}/signature-requests", {"signers": [], "level": 3}, "level"),
        (f"{document}/signature-requests", {"signers": [], "message": [1]}, "message"),
    ]
    space = f"/api/v1/spaces/{world.space_a.id}"
    response = client.patch(space, json={"label_scheme": {"a": 1}}, headers=staff)
    assert response.status_code == 422 and "label_scheme" in response.get_json()["errors"]
    for url, body, field in sent:
        response = client.post(url, json=body, headers=staff)
        assert response.status_code == 422, (url, body, response.get_json())
        assert field in response.get_json()["errors"], (url, body, response.get_json())


def test_a_nul_character_in_an_id_or_a_filter_is_a_4xx_on_every_database(client, world):
    """PostgreSQL refuses NUL in text even to compare: 400 there, not found on SQLite."""
    staff = api_token(client, world.staff)
    space = f"/api/v1/spaces/{world.space_a.id}"
    answers = [
        client.post(
            f"{space}/members", json={"user_id": "a\x00b", "permission": "view"}, headers=staff
        ),
        client.post(
            f"{space}/transmittals",
            json={"document_ids": ["\x00"], "recipient_ids": [world.client_a.id]},
            headers=staff,
        ),
        client.get(f"{space}/documents?category=%00", headers=staff),
        client.get("/api/v1/documents/a%00b", headers=staff),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_json()
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/me", headers=staff).status_code == 200  # the session goes on
