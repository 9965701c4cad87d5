"""Every list of the API pages with an opaque cursor (docs/api.md, "Conventions").

A walk with ``limit=1`` gives the same items as one page of 500, in the same order, and
``next`` is null only at the end; documents uploaded between two pages make no item of
the list come twice or go missing; a cursor altered, made up or taken from another list,
and a limit outside 1..500, are 422 problems, never a 500.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from portal_testing import api_token, pdf_bytes

from app.api.openapi import ROUTES, _is_page

API = "/api/v1"
#: The word the walk of /search looks for (seeded in documents of both clients and the firm).
SEARCHED = "Quintanilla"


@contextmanager
def _no_jobs(app: Any) -> Iterator[None]:
    """Uploads made by the test itself queue no OCR or previews (the lists are the subject)."""
    runner = app.extensions.get("portal_job_runner")
    app.extensions["portal_job_runner"] = lambda name, *args: None
    try:
        yield
    finally:
        app.extensions["portal_job_runner"] = runner


def _upload(user: Any, space_id: str, title: str) -> Any:
    from app.services import documents

    return documents.upload_document(
        user, space_id, io.BytesIO(title.encode()), filename=f"{title}.txt", title=title
    )


def walk(client: Any, url: str, headers: dict[str, str], limit: int = 1) -> list[dict[str, Any]]:
    """Every item of a list, page by page; each page holds at most ``limit`` items."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(500):
        sep = "&" if "?" in url else "?"
        page_url = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(page_url, headers=headers)
        assert response.status_code == 200, (page_url, response.get_json())
        page = response.get_json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items
        assert page["items"], f"{url}: an empty page that is not the last"
    raise AssertionError(f"{url}: no end after 500 pages")


def test_documents_arriving_between_pages_neither_repeat_nor_hide_others(
    app, client, world, database_url
):
    from app.extensions import db

    with _no_jobs(app):
        for n in range(10):
            _upload(world.staff, world.space_a.id, f"Factura {n:02d}")
        db.session.commit()
    customer = api_token(client, world.client_a)
    url = f"{API}/spaces/{world.space_a.id}/documents"
    before = client.get(f"{url}?limit=500", headers=customer).get_json()
    assert before["next"] is None
    expected = [d["id"] for d in before["items"]]
    assert len(expected) == 12  # the ten, the world's contract and retenciones; not the memo

    seen: list[str] = []
    added: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url + query, headers=customer).get_json()
        seen += [d["id"] for d in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
        with _no_jobs(app):
            # One that sorts before everything seen, one right after the cursor, one last.
            for title in (f"A{pages} anticipo", f"Factura {pages * 3 - 1:02d}b", f"Zeta {pages}"):
                added.append(_upload(world.staff, world.space_a.id, title).id)
            db.session.commit()
    assert len(seen) == len(set(seen)), "an item came twice"
    assert [i for i in seen if i in expected] == expected, "an item went missing or moved"
    assert set(seen) - set(expected) <= set(added)
    assert pages > 12 // 3  # what arrived after the last of them came too


def test_a_page_of_the_default_size_and_the_limits(app, client, world):
    from app.extensions import db

    with _no_jobs(app):
        for n in range(55):
            _upload(world.staff, world.space_a.id, f"Doc {n:03d}")
        db.session.commit()
    staff = api_token(client, world.staff)
    url = f"{API}/spaces/{world.space_a.id}/documents"
    first = client.get(url, headers=staff).get_json()
    assert len(first["items"]) == 50 and first["next"]
    rest = client.get(f"{url}?cursor={first['next']}", headers=staff).get_json()
    # The 55, the world's contract, memo and retenciones.
    assert len(rest["items"]) == 58 - 50 and rest["next"] is None
    assert len(client.get(f"{url}?limit=500", headers=staff).get_json()["items"]) == 58
    for bad in ("0", "501", "-1", "abc", "1.5", "²", "9" * 40):
        response = client.get(f"{url}?limit={bad}", headers=staff)
        assert response.status_code == 422, bad
        assert response.mimetype == "application/problem+json"
        assert "limit" in response.get_json()["errors"]


def test_altered_made_up_or_borrowed_cursors_are_refused(client, world):
    staff = api_token(client, world.staff)
    documents = f"{API}/spaces/{world.space_a.id}/documents"
    cursor = client.get(f"{documents}?limit=1", headers=staff).get_json()["next"]
    assert cursor
    payload, _, mac = cursor.partition(".")
    forged_payload = base64.urlsafe_b64encode(b'["", ""]').decode().rstrip("=")
    # one character of the signature changed (not the last ones, whose spare bits may
    # decode to the same bytes: "…AB" and "…AA" can be one signature)
    altered_mac = mac[:5] + ("B" if mac[5] != "B" else "C") + mac[6:]
    versions = f"{API}/documents/{world.shared.id}/versions"
    for bad in (
        "garbage",
        "x" * 5000,
        f"{forged_payload}.{mac}",
        f"{payload}.{altered_mac}",
        payload,
        "%00",
        "%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        "%FF%FE",
        f"{cursor}%00",
    ):
        response = client.get(f"{documents}?cursor={bad}", headers=staff)
        assert response.status_code == 422, (bad, response.status_code)
        assert response.mimetype == "application/problem+json"
        assert "cursor" in response.get_json()["errors"]
    # A cursor of one list is no position in another (another space's, another kind).
    borrowed = client.get(versions, query_string={"cursor": cursor}, headers=staff)
    assert borrowed.status_code == 422
    spaces = client.get(f"{API}/clients/{world.firm_a.id}/spaces", headers=staff)
    assert spaces.status_code == 200


# ---------------------------------------------------------------- every list route


def _seed_lists(app: Any, world: Any) -> None:
    """At least two items in every list each caller of the walk reads."""
    from app.extensions import db
    from app.services import (
        alerts,
        clients,
        conversations,
        documents,
        incidents,
        onboarding,
        review,
        search,
    )
    from app.services import requests as request_service
    from app.services.signatures import requests as signature_requests

    with _no_jobs(app):
        clients.create_space(world.admin, world.firm_a.id, name="Otro espacio")
        extra = clients.list_spaces(world.admin, world.firm_a.id)[-1]
        clients.add_member(world.admin, extra.id, user_id=world.client_a.id, permission="view")
        clients.add_member(world.admin, extra.id, user_id=world.staff.id, permission="manage")
        documents.upload_version(
            world.staff, world.shared.id, io.BytesIO(pdf_bytes("v2")), filename="contrato.pdf"
        )
        review.add_comment(world.staff, world.shared.id, body="Segunda nota")
        request_service.create_request(
            world.staff,
            world.space_a.id,
            title="Sociedades 2025",
            due_date=datetime.now(UTC).date() + timedelta(days=10),
            items=[{"title": "Balance"}],
            today=datetime.now(UTC).date(),
        )
        for _ in range(2):  # one open at a time: each is cancelled
            asked = signature_requests.request_signatures(
                world.staff, world.shared.id, signer_ids=[world.client_a.id]
            )
            signature_requests.cancel_request(world.staff, asked.id)
        for subject in ("Primera duda", "Segunda duda"):
            conversations.create_thread(world.client_a, world.space_a.id, subject=subject, body="?")
        for title in ("No carga", "No firma"):
            incidents.create_incident(world.client_a, world.space_a.id, title=title, body="Error")
        for n in range(2):
            onboarding.start_onboarding(
                world.staff,
                email=f"alta{n}@example.com",
                name=f"Alta {n}",
                kind="person",
                services=["renta"],
            )
        # Found by their text (the index), and by a title that holds the word (no index match).
        for document in (world.shared, world.internal, world.other_doc):
            search.index_document(document, body=f"Expediente {SEARCHED} del cliente")
        _upload(world.staff, world.space_a.id, f"Notas {SEARCHED}ito")
        db.session.commit()
        alerts.sweep(datetime.now(UTC) + timedelta(days=60))
        db.session.commit()


#: How the walk reaches each list: the caller's role and the path's ids from the world.
LIST_ROUTES: dict[str, Callable[[Any], str]] = {
    "/clients": lambda w: "/clients",
    "/clients/{id}/spaces": lambda w: f"/clients/{w.firm_a.id}/spaces",
    "/spaces/{id}/documents": lambda w: f"/spaces/{w.space_a.id}/documents",
    "/documents/{id}/versions": lambda w: f"/documents/{w.shared.id}/versions",
    "/documents/{id}/comments": lambda w: f"/documents/{w.shared.id}/comments",
    "/alerts": lambda w: "/alerts",
    "/spaces/{id}/requests": lambda w: f"/spaces/{w.space_a.id}/requests",
    "/request-templates": lambda w: "/request-templates",
    "/documents/{id}/signature-requests": lambda w: f"/documents/{w.shared.id}/signature-requests",
    "/notifications": lambda w: "/notifications",
    "/audit": lambda w: "/audit",
    "/catalog": lambda w: "/catalog",
    "/onboardings": lambda w: "/onboardings",
    "/spaces/{id}/threads": lambda w: f"/spaces/{w.space_a.id}/threads",
    "/incidents": lambda w: "/incidents",
    "/me/agenda": lambda w: "/me/agenda",
    "/form-templates": lambda w: "/form-templates",
    "/search": lambda w: f"/search?q={SEARCHED}",
}
#: Lists only the firm reads (and the audit trail, only its admins).
STAFF_ONLY = {"/request-templates", "/onboardings", "/audit"}


def _list_paths() -> list[str]:
    return sorted(r.path for r in ROUTES if r.method == "get" and _is_page(r.answers.get("200")))


def test_every_list_route_is_walked_and_documents_cursor_and_limit(client):
    """A new list route must join LIST_ROUTES (and so the walk below) to pass."""
    assert _list_paths() == sorted(LIST_ROUTES), "a list route the paging walk does not know"
    spec = client.get(f"{API}/openapi.json").get_json()
    for path in _list_paths():
        params = {p["name"]: p for p in spec["paths"][API + path]["get"]["parameters"]}
        assert params["limit"]["schema"]["maximum"] == 500, path
        assert params["cursor"]["schema"]["type"] == "string", path


@pytest.mark.parametrize("role", ["client_a", "staff"])
def test_every_list_pages_to_the_same_items_as_one_big_page(app, client, world, role):
    _seed_lists(app, world)
    headers = api_token(client, getattr(world, role))
    admin = api_token(client, world.admin)
    short: list[str] = []
    seen: set[str] = set()
    for path, reach in sorted(LIST_ROUTES.items()):
        if role != "staff" and path in STAFF_ONLY:
            continue
        who = admin if path == "/audit" else headers
        url = API + reach(world)
        sep = "&" if "?" in url else "?"
        whole = client.get(f"{url}{sep}limit=500", headers=who)
        assert whole.status_code == 200, (url, whole.get_json())
        everything = whole.get_json()
        assert everything["next"] is None, url
        walked = walk(client, url, who)
        assert [i.get("id", i) for i in walked] == [i.get("id", i) for i in everything["items"]], (
            url
        )
        seen |= {i["id"] for i in walked if isinstance(i, dict) and "id" in i}
        seen |= {i["document_id"] for i in walked if isinstance(i, dict) and "document_id" in i}
        if len(everything["items"]) < 2 and not (role == "client_a" and path == "/clients"):
            short.append(path)  # (a client sees one client: its own)
    assert not short, f"lists with fewer than two items for {role}: the walk proves nothing"
    if role == "staff":  # a filtered list pages too (the campaigns' filter of clients)
        filtered = f"{API}/clients?kind=company"
        assert len(walk(client, filtered, headers)) == len(walk(client, filtered, headers, 500))
    if role == "client_a":  # nothing of the other client, nor the firm's internal memo
        hidden = {world.firm_b.id, world.space_b.id, world.other_doc.id, world.internal.id}
        assert not seen & hidden
