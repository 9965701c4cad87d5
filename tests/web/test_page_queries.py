"""Busy pages read the database a fixed number of times, however many rows they show.

Counted as rendered on every request: with the page cache on, a page seen again unchanged reads
nothing at all (tests/web/test_page_cache.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from portal_testing import api_token, counted_queries, web_login


@pytest.fixture
def web_app_config() -> dict[str, Any]:
    return {"PAGE_CACHE_SECONDS": 0}


def _open_requests(world, count: int) -> None:  # type: ignore[no-untyped-def]
    from app.extensions import db
    from app.services import requests

    for n in range(count):
        requests.create_request(
            world.staff,
            world.space_a.id,
            title=f"Trimestre {n + 1}",
            due_date=date.today() + timedelta(days=20 + n),
            items=[{"title": f"Modelo 303 T{n + 1}"}],
            today=date.today(),
        )
    db.session.commit()


def test_the_dashboard_reads_as_often_with_one_open_request_as_with_six(client, world, web_app):
    web_login(client, world.client_a)
    client.get("/")
    with counted_queries(web_app) as one:
        page = client.get("/").get_data(as_text=True)
    assert "Renta 2025" in page and "DNI" in page

    _open_requests(world, 5)
    with counted_queries(web_app) as six:
        page = client.get("/").get_data(as_text=True)
    for n in range(1, 6):
        assert f"Trimestre {n}" in page and f"Modelo 303 T{n}" in page
    assert len(six) == len(one), "\n".join(six)


def test_the_staff_dashboard_reads_as_often_with_ten_clients_more(client, world, web_app):
    """The spaces listed show their client's name: read with the page, not one query each."""
    from app.extensions import db
    from app.services import clients

    web_login(client, world.staff)
    client.get("/")
    with counted_queries(web_app) as before:
        client.get("/")
    for n in range(10):
        new = clients.create_client(world.staff, name=f"Cliente nuevo {n}")
        clients.create_space(world.staff, new.id, name=f"Renta nueva {n}")
    db.session.commit()
    with counted_queries(web_app) as after:
        page = client.get("/").get_data(as_text=True)
    for n in range(10):
        assert f"Cliente nuevo {n}" in page and f"Renta nueva {n}" in page
    assert len(after) == len(before), "\n".join(after)


def test_a_space_reads_as_often_with_one_request_as_with_six(client, world, web_app):
    web_login(client, world.client_a)
    path = f"/spaces/{world.space_a.id}"
    client.get(path)
    with counted_queries(web_app) as one:
        page = client.get(path).get_data(as_text=True)
    assert "Renta 2025" in page and "· 0/2" in page  # neither of its two items accepted yet

    _open_requests(world, 5)
    with counted_queries(web_app) as six:
        page = client.get(path).get_data(as_text=True)
    for n in range(1, 6):
        assert f"Trimestre {n}" in page
    assert page.count("· 0/1") == 5  # each new request shows its own progress
    assert len(six) == len(one), "\n".join(six)


def test_the_home_agenda_shows_the_most_urgent_and_counts_every_version_to_review(
    client, world, web_app
):
    """A client with 40 documents of the firm to review: 15 shown, the rest counted, and the
    page reads the database as often as with 5 (the versions are not all loaded)."""
    import io
    import re

    from app.extensions import db
    from app.services import documents

    def share(count: int, start: int) -> None:
        for n in range(start, start + count):
            documents.upload_document(
                world.staff,
                world.space_a.id,
                io.BytesIO(b"%PDF-1.4 informe"),
                filename="informe.pdf",
                title=f"Informe {n:02d}",
            )
            db.session.commit()

    web_login(client, world.client_a)
    share(5, 0)
    client.get("/")
    with counted_queries(web_app) as few:
        page = client.get("/").get_data(as_text=True)
    share(35, 5)
    with counted_queries(web_app) as many:
        page = client.get("/").get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)
    shown = re.findall(r'data-testid="agenda-item" data-kind="(\w+)"', page)
    assert len(shown) == 15
    total = int(re.search(r"Lo que le espera <span class=\"muted\">\((\d+)\)", page).group(1))
    assert total >= 40 + 2  # the 40, and the world's open request items
    assert f"Y {total - 15} más." in page
    api = client.get("/api/v1/me/agenda?limit=500", headers=api_token(client, world.client_a))
    assert api.get_json()["counts"]["review"] >= 40
    assert len(api.get_json()["items"]) == total  # the API's agenda has them all
