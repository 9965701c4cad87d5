"""Previews in the web UI: placeholders while drawing, thumbnails, the viewer, access."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from portal_testing import World, web_login
from preview_files import Jobs, dxf_bytes, pdf_pages, png_bytes

from app.extensions import db
from app.services import accounts, documents


@pytest.fixture
def jobs(app) -> Jobs:
    app.config["PREVIEWS_ON_UPLOAD"] = True
    return Jobs(app)


@pytest.fixture
def held(web_app) -> list[tuple[str, tuple[Any, ...]]]:
    """Jobs the web app sends, kept instead of run: their previews stay pending."""
    sent: list[tuple[str, tuple[Any, ...]]] = []
    web_app.extensions["portal_job_runner"] = lambda name, *args: sent.append((name, args))
    return sent


def upload(world: World, data: bytes, filename: str, title: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    document = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(data), filename=filename, title=title, **kwargs
    )
    db.session.commit()
    return document


def base(document) -> str:  # type: ignore[no-untyped-def]
    return f"/documents/{document.id}/versions/1/preview"


def test_a_space_thumbnail_names_the_current_version_and_escapes_the_title(client, world, held):
    title = 'Plano <b>"A&B"</b>'
    document = upload(world, png_bytes(), "plano.png", title)
    documents.upload_version(
        world.staff, document.id, io.BytesIO(png_bytes()), filename="plano.png"
    )
    db.session.commit()
    web_login(client, world.client_a)

    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)

    preview = f"/documents/{document.id}/versions/2/preview/thumbnail"
    escaped = "Plano &lt;b&gt;&#34;A&amp;B&#34;&lt;/b&gt;"
    assert (
        f'data-preview-src="{preview}" data-preview-alt="Vista previa de «{escaped}», versión 2"'
    ) in page
    # English: the catalogue's wording, with the same title and number in it
    world.client_a.locale = "en"
    db.session.commit()
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert f'data-preview-alt="Preview of “{escaped}”, version 2"' in page


def test_the_space_shows_a_placeholder_then_the_thumbnail(client, world, jobs, held):
    document = upload(world, png_bytes(), "fachada.png", "Fachada norte")
    web_login(client, world.client_a)
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert "Vista previa en preparación" in page
    assert f'data-preview-src="{base(document)}/thumbnail"' in page
    # the placeholder's own URL answers at once, without drawing anything
    pending = client.head(f"{base(document)}/thumbnail")
    assert pending.status_code == 200 and pending.headers["X-Preview-Status"] == "pending"
    assert held == []  # the upload queued the job already; asking again sends no second one

    jobs.run_all()
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert f'data-preview-src="{base(document)}/thumbnail"' not in page
    image = re.search(r'<img class="thumb" src="([^"]+)" alt="([^"]+)"', page)
    assert image is not None
    assert image.group(2) == "Vista previa de «Fachada norte», versión 1"
    thumbnail = client.get(image.group(1))
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/webp"
    assert thumbnail.headers["X-Preview-Status"] == "ready"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(image.group(1), headers={"If-None-Match": thumbnail.headers["ETag"]})
    assert again.status_code == 304


def test_a_drawing_is_viewed_as_a_safe_svg(client, world, jobs):
    document = upload(world, dxf_bytes(), "planta.dxf", "Planta baja")
    jobs.run_all()
    web_login(client, world.client_a)
    detail = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert "Ver en el navegador" in detail
    viewer = client.get(f"/documents/{document.id}/versions/1/view").get_data(as_text=True)
    assert f'src="{base(document)}/view" alt="Plano «Planta baja», versión 1"' in viewer
    svg = client.get(f"{base(document)}/view")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    policy = svg.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script" not in policy
    assert svg.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<svg" in svg.data and b"<script" not in svg.data


def test_a_pdf_page_by_page_on_a_phone(client, world, jobs):
    document = upload(world, pdf_pages(3), "memoria.pdf", "Memoria")
    jobs.run_all()  # the thumbnail tells how many pages there are
    web_login(client, world.client_a)
    viewer = client.get(f"/documents/{document.id}/versions/1/view?pages=1&page=2")
    text = viewer.get_data(as_text=True)
    assert "Página 2 de 3" in text and "Página anterior" in text and "Página siguiente" in text
    assert "Vista previa en preparación" in text  # page 2 is drawn only now that it is asked for
    drawn = client.get(f"{base(document)}/pages/2")  # the web app runs its job inline
    assert drawn.headers["X-Preview-Status"] == "ready" and drawn.mimetype == "image/webp"
    text = client.get(f"/documents/{document.id}/versions/1/view?pages=1&page=2").get_data(
        as_text=True
    )
    assert f'src="{base(document)}/pages/2" alt="Página 2 de «Memoria», versión 1"' in text


def test_corrupt_file_shows_no_preview_instead_of_an_error(client, world, jobs):
    document = upload(world, b"%PDF-1.7\n" + b"\x00" * 64, "roto.pdf", "Roto")
    jobs.run_all()
    web_login(client, world.staff)
    page = client.get(f"/documents/{document.id}")
    assert page.status_code == 200 and "Sin vista previa" in page.get_data(as_text=True)
    picture = client.get(f"{base(document)}/thumbnail")
    assert picture.status_code == 200 and picture.headers["X-Preview-Status"] == "failed"


def test_previews_answer_404_across_clients(client, web_app, world, jobs):
    document = upload(world, png_bytes(), "foto.png", "Foto")
    hidden = upload(world, png_bytes(), "interna.png", "Interna", visibility="internal")
    jobs.run_all()
    web_login(client, world.client_b)
    for url in (
        f"{base(document)}/thumbnail",
        f"{base(document)}/view",
        f"{base(document)}/pages/1",
    ):
        assert client.get(url).status_code == 404
    client = web_app.test_client()
    web_login(client, world.client_a)
    assert client.get(f"{base(hidden)}/thumbnail").status_code == 404
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert base(hidden) not in page and base(document) in page


def test_english_placeholder(client, world, jobs, held):
    upload(world, png_bytes(), "foto.png", "Foto")
    accounts.set_locale(world.client_a, "en")
    db.session.commit()
    web_login(client, world.client_a)
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert "Preview being prepared" in page
