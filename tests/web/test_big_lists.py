"""Long lists stay usable and fast: a space's documents a page at a time, the dashboard and
search reading only what the person may see."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from portal_testing import web_login

TITLE_RE = re.compile(r'<a class="title" href="/documents/[0-9a-f]+">([^<]+)</a>')


def add_actas(world, count: int = 60) -> None:
    """``count`` shared documents "Acta 000"... in the first client's space, oldest first."""
    from flask import current_app

    from app.extensions import db
    from app.services import documents

    runner = current_app.extensions.get("portal_job_runner")
    current_app.extensions["portal_job_runner"] = lambda name, *args: None
    try:
        for n in range(count):
            documents.upload_document(
                world.staff,
                world.space_a.id,
                io.BytesIO(f"%PDF-1.4 acta {n}".encode()),
                filename=f"acta-{n}.pdf",
                title=f"Acta {n:03d}",
            )
        db.session.commit()
    finally:
        current_app.extensions["portal_job_runner"] = runner


def titles(page: str) -> list[str]:
    return TITLE_RE.findall(page)


def test_space_lists_its_documents_a_page_at_a_time(client, world, web_app):
    from app.services import documents

    add_actas(world)
    visible = documents.list_documents(world.client_a, world.space_a.id)
    web_login(client, world.client_a)
    url = f"/spaces/{world.space_a.id}"

    first = client.get(url).get_data(as_text=True)
    assert titles(first) == [d.title for d in visible[:25]]
    assert f"1–25 de {len(visible)} documentos" in first
    assert f'rel="next" href="{url}?page=2"' in first
    assert 'rel="prev"' not in first

    pages = -(-len(visible) // 25)
    last = client.get(f"{url}?page={pages}").get_data(as_text=True)
    assert titles(last) == [d.title for d in visible[(pages - 1) * 25 :]]
    assert 'rel="next"' not in last and f'rel="prev" href="{url}?page={pages - 1}"' in last
    assert f"Página {pages} de {pages}" in last
    # a page past the end shows the last one, a broken number the first
    assert titles(client.get(f"{url}?page=999").get_data(as_text=True)) == titles(last)
    assert titles(client.get(f"{url}?page=x").get_data(as_text=True)) == titles(first)

    # the internal document never shows to the client, and does not count
    everything = [
        t for n in range(1, pages + 1) for t in titles(client.get(f"{url}?page={n}").text)
    ]
    assert len(everything) == len(visible) and world.internal.title not in everything
    staff = web_app.test_client()
    web_login(staff, world.staff)
    staff_page = staff.get(url).get_data(as_text=True)
    assert f"de {len(visible) + 1} documentos" in staff_page


def test_page_links_keep_the_search_and_the_order(client, world):
    add_actas(world)
    web_login(client, world.client_a)
    url = f"/spaces/{world.space_a.id}"
    newest = client.get(f"{url}?q=acta&sort=recent").get_data(as_text=True)
    assert titles(newest) == [f"Acta {n:03d}" for n in range(59, 34, -1)]
    assert '<option value="recent" selected>' in newest
    assert "1–25 de 60 documentos" in newest
    next_link = re.search(r'rel="next" href="([^"]+)"', newest).group(1).replace("&amp;", "&")
    assert "q=acta" in next_link and "sort=recent" in next_link and "page=2" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert titles(second) == [f"Acta {n:03d}" for n in range(34, 9, -1)]


def test_state_filter_counts_in_the_database(client, world):
    from app.extensions import db
    from app.models import Document

    add_actas(world, 30)
    document = db.session.query(Document).filter_by(title="Acta 007").one()
    document.current_version.review_state = "validated"
    db.session.commit()
    web_login(client, world.client_a)
    page = client.get(f"/spaces/{world.space_a.id}?state=validated").get_data(as_text=True)
    assert titles(page) == ["Acta 007"]
    # the title search keeps the state filter
    assert '<input type="hidden" name="state" value="validated">' in page


def test_dashboard_lists_only_the_requests_of_the_persons_spaces(client, world, web_app):
    from app.extensions import db
    from app.services import requests

    requests.create_request(
        world.admin,
        world.space_b.id,
        title="Cierre de Ferretería",
        due_date=date.today() + timedelta(days=10),
        items=[{"title": "Libro de facturas recibidas"}],
        today=date.today(),
    )
    db.session.commit()
    web_login(client, world.client_a)
    page = client.get("/").get_data(as_text=True)
    assert "Renta 2025" in page and "DNI" in page
    assert "Certificado de retenciones" not in page  # already uploaded
    assert "Cierre de Ferretería" not in page and "Libro de facturas" not in page
    other_client = web_app.test_client()
    web_login(other_client, world.client_b)
    other = other_client.get("/").get_data(as_text=True)
    assert "Cierre de Ferretería" in other and "Renta 2025" not in other


def test_reindexing_a_document_replaces_its_words(world):
    from app.extensions import db
    from app.services import search

    search.index_document(world.shared, body="Primera lectura Zarzalejo")
    db.session.commit()
    search.index_document(world.shared, body="Segunda lectura Villacastín")
    db.session.commit()
    assert search.search_documents(world.client_a, "zarzalejo") == []
    hits = search.search_documents(world.client_a, "villacastin")
    assert [hit.document.id for hit in hits] == [world.shared.id]
    assert "Villacastín" in hits[0].snippet
