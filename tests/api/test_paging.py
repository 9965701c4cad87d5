"""Every list of the API pages with an opaque cursor (docs/api.md, "Conventions").

A walk with ``limit=1`` gives the same items as one page of 500, in the same order, and
``next`` is null only at the end; documents uploaded between two pages make no item of
the list come twice or go missing; a cursor altered, made up or taken from another list,
and a limit outside 1..500, are 422 problems, never a 500.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from portal_testing import api_token

API = "/api/v1"


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
    versions = f"{API}/documents/{world.shared.id}/versions"
    for bad in (
        "garbage",
        "x" * 5000,
        f"{forged_payload}.{mac}",
        f"{payload}.{mac[:-2]}AA",
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
