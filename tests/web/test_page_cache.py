"""Busy pages kept as rendered while nothing changed, never shown stale (app/page_cache.py).

Whatever a person or the firm changes (from this web worker, another one, the Celery worker or
the command line) shows on the very next view; only an unchanged page is served as kept.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time

import pytest
from portal_testing import CSRF_RE, counted_queries, web_login

from app.page_cache import PageCache, _Page

#: seconds a test views a page again until it is served as kept (see _served_as_kept)
TRY_FOR = 60


def _space(client, world) -> str:  # type: ignore[no-untyped-def]
    answer = client.get(f"/spaces/{world.space_a.id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _seen_twice(client, world) -> str:  # type: ignore[no-untyped-def]
    """The space page seen twice: with the cache on, the second view is served as kept (when
    nothing moved the stamp meanwhile: see _served_as_kept)."""
    _space(client, world)
    return _space(client, world)


# Every signed form token in a page: the forms' hidden fields (prefixed ones too, "up-csrf_token")
# and the uploader's data-csrf.
_TOKENS_RE = re.compile(r'(?:name="[\w-]*csrf_token"[^>]*value|data-csrf)="[^"]+"')


def _same_page(one: str, other: str) -> bool:
    """The same page, but for the time in its signed form tokens: on PostgreSQL another test
    worker's commit may have made the page render again (a second later) before it was kept."""
    return _TOKENS_RE.sub("csrf", one) == _TOKENS_RE.sub("csrf", other)


def _served_as_kept(client, world, web_app) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """The space page as served from the cache: the page and the statements it took.

    On PostgreSQL the stamp is the cluster's snapshot, which other databases' writers move too
    (the other test workers): a view may then render again, and the next one is kept. With
    many workers writing at once, a quiet moment between two views can take a while: the
    views go on for up to a minute, as fast as they can (a pause would only widen the window
    another worker's commit must miss).
    """
    deadline = time.monotonic() + TRY_FOR
    while True:
        with counted_queries(web_app) as queries:
            page = _space(client, world)
        # nothing read but the stamp (a query on PostgreSQL): the database is as it was when
        # the page was rendered for this very session, its row included
        if len(queries) <= 1:
            return page, queries
        if time.monotonic() > deadline:
            raise AssertionError(f"never served as kept; last time: {queries}")


def test_a_page_seen_again_is_not_rendered_again(client, world, web_app) -> None:
    web_login(client, world.client_a)
    first = _seen_twice(client, world)
    again, _queries = _served_as_kept(client, world, web_app)
    assert _same_page(again, first)
    assert "Contrato" in again


def test_an_answer_says_whether_it_came_from_the_cache(client, world, web_app) -> None:
    """X-Page-Cache: the hit ratio under a real load is read from it (bench/topology.py)."""
    web_login(client, world.client_a)
    seen = [client.get(f"/spaces/{world.space_a.id}").headers.get("X-Page-Cache")]
    deadline = time.monotonic() + TRY_FOR
    # on PostgreSQL other workers' commits may force a few renders (see _served_as_kept)
    while "hit" not in seen and time.monotonic() < deadline:
        seen.append(client.get(f"/spaces/{world.space_a.id}").headers.get("X-Page-Cache"))
    assert seen[0] == "miss"  # rendered, then kept
    assert "hit" in seen
    assert set(seen) == {"miss", "hit"}
    account = client.get("/account/")
    assert account.status_code == 200 and "X-Page-Cache" not in account.headers  # never kept


def test_a_login_carries_its_form_token_so_the_first_view_is_kept(client, world, web_app) -> None:
    """The first page after login need not rewrite the cookie, so the next view is kept even
    for a client that never stores a cookie again (a load tool, a script)."""
    web_login(client, world.client_a)
    with client.session_transaction() as session:
        assert session.get("csrf_token")
    first = client.get(f"/spaces/{world.space_a.id}")
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    again, _queries = _served_as_kept(client, world, web_app)
    assert _same_page(again, first.get_data(as_text=True))


def test_a_document_the_firm_adds_shows_on_the_next_view(client, world, web_app) -> None:
    from app.extensions import db
    from app.services import documents

    web_login(client, world.client_a)
    assert "Acta de la reunión" not in _seen_twice(client, world)
    documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(b"%PDF-1.4 acta"),
        filename="acta.pdf",
        title="Acta de la reunión",
    )
    db.session.commit()
    assert "Acta de la reunión" in _space(client, world)


def test_a_change_made_by_another_process_shows_on_the_next_view(
    client, world, web_app, database_url
) -> None:
    """The Celery worker, another web worker or the command line commit in other processes."""
    web_login(client, world.client_a)
    assert "Contrato firmado" not in _seen_twice(client, world)
    script = (
        "import sys\n"
        "from sqlalchemy import create_engine, text\n"
        "engine = create_engine(sys.argv[1])\n"
        "with engine.begin() as conn:\n"
        "    conn.execute(text('UPDATE document SET title = :t WHERE id = :i'),"
        " {'t': 'Contrato firmado', 'i': sys.argv[2]})\n"
    )
    subprocess.run([sys.executable, "-c", script, database_url, world.shared.id], check=True)
    assert "Contrato firmado" in _space(client, world)


def test_a_right_taken_away_takes_effect_on_the_next_view(client, world, web_app) -> None:
    from app.extensions import db
    from app.services import clients

    web_login(client, world.client_a)
    _seen_twice(client, world)
    clients.remove_member(world.admin, world.space_a.id, world.client_a.id)
    db.session.commit()
    assert client.get(f"/spaces/{world.space_a.id}").status_code in (403, 404)


def test_a_session_ended_elsewhere_gets_no_kept_page(client, world, web_app) -> None:
    """ "Sign out everywhere" (or an administrator blocking the person) ends this session too."""
    from app.extensions import db
    from app.services import accounts

    web_login(client, world.client_a)
    _served_as_kept(client, world, web_app)
    accounts.revoke_all_sessions(world.client_a)
    db.session.commit()
    answer = client.get(f"/spaces/{world.space_a.id}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_after_signing_out_the_page_is_not_served(client, world, web_app) -> None:
    web_login(client, world.client_a)
    page, _queries = _served_as_kept(client, world, web_app)
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    answer = client.get(f"/spaces/{world.space_a.id}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_message_waiting_to_be_shown_is_shown(client, world, web_app) -> None:
    web_login(client, world.client_a)
    _seen_twice(client, world)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Carpeta creada.")]
    assert "Carpeta creada." in _space(client, world)
    assert "Carpeta creada." not in _space(client, world)  # shown once, as always


def test_each_login_gets_its_own_page_and_its_forms_keep_working(world, web_app) -> None:
    phone, laptop = web_app.test_client(), web_app.test_client()
    web_login(phone, world.client_a)
    web_login(laptop, world.client_a)
    tokens = {}
    for name, browser in (("phone", phone), ("laptop", laptop)):
        page = _seen_twice(browser, world)
        tokens[name] = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    for name, browser in (("phone", phone), ("laptop", laptop)):
        answer = browser.post(
            "/language",
            data={"csrf_token": tokens[name], "locale": "es", "next": "/"},
        )
        assert answer.status_code == 302, name
    crossed = phone.post("/language", data={"csrf_token": tokens["laptop"], "locale": "es"})
    assert crossed.status_code == 400


def test_the_language_chosen_shows_at_once(client, world, web_app) -> None:
    web_login(client, world.client_a)
    spanish = _seen_twice(client, world)
    assert "Documentos" in spanish
    token = CSRF_RE.search(spanish).group(1)  # type: ignore[union-attr]
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    english = _space(client, world)
    assert 'lang="en"' in english and "Documents" in english


def test_search_and_dashboard_follow_changes_too(client, world, web_app) -> None:
    from app.extensions import db
    from app.services import documents

    web_login(client, world.client_a)
    for path in ("/", "/search?q=contrato"):
        client.get(path)
        client.get(path)
    documents.rename_document(world.staff, world.shared.id, "Contrato de arras")
    db.session.commit()
    assert "Contrato de arras" in client.get("/search?q=contrato").get_data(as_text=True)
    space_name = world.space_a.name
    assert space_name in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("web_app_config", [{"PAGE_CACHE_SECONDS": 0.3}])
def test_a_kept_page_is_rendered_again_after_its_time(client, world, web_app) -> None:
    """What changes with the clock alone (a due date becoming today) is at most that old."""
    web_login(client, world.client_a)
    _seen_twice(client, world)
    _page, kept = _served_as_kept(client, world, web_app)
    time.sleep(0.4)
    with counted_queries(web_app) as again:
        _space(client, world)
    assert len(again) > len(kept) + 3


@pytest.mark.parametrize("web_app_config", [{"PAGE_CACHE_SECONDS": 0}])
def test_off_when_set_to_zero(client, world, web_app) -> None:
    web_login(client, world.client_a)
    _seen_twice(client, world)
    with counted_queries(web_app) as queries:
        _space(client, world)
    assert len(queries) > 5
    assert "portal_page_cache" not in web_app.extensions


def _page(stamp: str, size: int, session_left: float = 3600) -> _Page:
    return _Page(stamp, time.monotonic(), time.time() + session_left, (), b"x" * size)


def test_the_cache_keeps_within_its_bytes_least_recently_used_out() -> None:
    cache = PageCache(seconds=30, max_bytes=1000)
    for name in "abcd":
        cache.put((name,), _page("s1", 240))
    assert cache.get(("a",), "s1") is not None  # a is now the most recently used
    cache.put(("e",), _page("s1", 240))
    assert cache.get(("b",), "s1") is None
    assert [cache.get((n,), "s1") is not None for n in "acde"] == [True] * 4
    cache.put(("huge",), _page("s1", 300))  # more than a quarter of the whole: not kept
    assert cache.get(("huge",), "s1") is None and len(cache) == 4


def test_a_page_kept_under_another_stamp_is_not_served() -> None:
    cache = PageCache(seconds=30, max_bytes=1000)
    cache.put(("a",), _page("before", 10))
    assert cache.get(("a",), "after") is None
    assert cache.get(("a",), "before") is None  # dropped once found stale
    assert len(cache) == 0


def test_a_page_is_not_served_past_the_end_of_its_login_session() -> None:
    cache = PageCache(seconds=30, max_bytes=1000)
    cache.put(("a",), _page("s", 10, session_left=0.05))
    assert cache.get(("a",), "s") is not None
    time.sleep(0.06)
    assert cache.get(("a",), "s") is None
