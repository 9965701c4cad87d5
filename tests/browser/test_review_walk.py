"""A client reviews a plan in the browser: pinned comment on the PDF, then asks for changes."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, build_world, open_menu, pdf_bytes

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_client_pins_a_comment_and_requests_changes(app, live_server, browser, device):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Comment, DocumentVersion
    from app.services import documents

    world = build_world()
    plan = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(pdf_bytes("Planta baja")),
        filename="A-101.pdf",
        title="Plano A-101",
    )
    db.session.commit()

    context = browser.new_context(**device, locale="es-ES")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    open_menu(page)
    page.get_by_role("link", name="Pendiente de mí").click()
    page.get_by_role("link", name="Plano A-101").click()
    assert (
        "Leído" in page.locator("#review").inner_text()
    )  # opening it as the reviewer marks it read

    page.get_by_role("link", name="Ver y comentar en el navegador").click()
    viewer = page.locator("#pdf-viewer")
    page.locator('#pdf-viewer[data-ready="true"]').wait_for(timeout=20000)
    canvas_page = viewer.locator(".pdf-page").first
    box = canvas_page.bounding_box()
    canvas_page.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    assert page.get_by_role("textbox", name="Página").input_value() == "1"
    page.get_by_label("Comentario", exact=True).fill("Falta la cota de este muro")
    page.get_by_role("button", name="Publicar comentario").click()
    page.get_by_text("Comentario publicado.").wait_for()
    page.locator('#pdf-viewer[data-ready="true"]').wait_for(timeout=20000)
    pins = page.get_by_test_id("pin")
    expect(pins).to_have_count(1)
    pin_box, page_box = pins.first.bounding_box(), viewer.locator(".pdf-page").first.bounding_box()
    assert (
        abs((pin_box["x"] + pin_box["width"] / 2 - page_box["x"]) / page_box["width"] - 0.25) < 0.05
    )

    page.get_by_role("link", name="Plano A-101").click()
    page.get_by_label("Comentario (obligatorio si pide cambios)").fill("Revisar la cota y reenviar")
    page.get_by_role("button", name="Pedir cambios").click()
    page.get_by_text("Revisión registrada.").wait_for()
    assert "Cambios solicitados" in page.locator("#review").inner_text()
    context.close()

    db.session.expire_all()
    version = db.session.execute(
        select(DocumentVersion).where(DocumentVersion.document_id == plan.id)
    ).scalar_one()
    assert version.review_state == "changes_requested"
    pinned = db.session.execute(
        select(Comment).where(Comment.document_id == plan.id, Comment.page == 1)
    ).scalar_one()
    assert 0.2 < pinned.x < 0.3 and 0.45 < pinned.y < 0.55
