"""Previews on a phone: placeholders turn into thumbnails without a reload; a drawing in the viewer."""

from __future__ import annotations

import io
import time

import pytest
from portal_testing import PASSWORD, PHONE, build_world
from preview_files import dxf_bytes, png_bytes

pytestmark = pytest.mark.browser

LOADED = (
    "[...document.querySelectorAll('{0}')].filter(i => i.complete && i.naturalWidth > 0).length"
)


def _wait_until(page, expression: str, timeout: float = 60.0) -> None:
    """Poll a JavaScript expression from here (wait_for_function would need eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.1)


def test_thumbnails_appear_and_a_drawing_opens_on_a_phone(app, live_server, browser):
    from app.extensions import db
    from app.services import documents

    world = build_world()
    for data, name, title in (
        (png_bytes(), "fachada.png", "Fachada"),
        (dxf_bytes(), "planta.dxf", "Planta"),
    ):
        documents.upload_document(
            world.staff, world.space_a.id, io.BytesIO(data), filename=name, title=title
        )
    db.session.commit()  # test apps draw nothing on upload: every thumbnail starts pending

    context = browser.new_context(**PHONE, locale="es-ES")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    assert page.get_by_text("Vista previa en preparación").count() >= 2

    # previews.js asks for each one; the server draws them and the pictures replace the text
    _wait_until(page, LOADED.format("img.thumb") + " >= 2")
    assert page.get_by_role("img", name="Vista previa de «Fachada», versión 1").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name="Planta").click()
    page.get_by_role("link", name="Ver en el navegador").click()
    drawing = page.get_by_role("img", name="Plano «Planta», versión 1")
    drawing.wait_for()
    _wait_until(page, LOADED.format("img.preview-view") + " == 1")
    box = drawing.bounding_box()
    assert box is not None and 0 < box["width"] <= PHONE["viewport"]["width"]
    context.close()
