"""A reviewer opens revision B on what changed: desktop and phone, overlay and side by side."""

from __future__ import annotations

import io

import pytest
from compare_samples import KNOWN, plan_set
from portal_testing import PASSWORD, PHONE, build_world

pytestmark = pytest.mark.browser

TRANSFORMS = "() => [...document.querySelectorAll('#page-0 .stage')].map(s => s.style.transform)"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_reviewer_sees_changed_areas_and_old_comments(app, live_server, browser, tmp_path, device):
    from app.extensions import db
    from app.services import documents, review

    app.config.update(COMPARE_ON_UPLOAD=True, COMPARE_DPI=72)
    world = build_world()
    plan = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(plan_set(tmp_path / "A.pdf", [1]).read_bytes()),
        filename="A-101.pdf",
        title="Plano A-101",
    )
    db.session.commit()
    review.add_comment(world.client_a, plan.id, body="Falta la puerta?", page=1, x=0.22, y=0.6)
    review.review_document(world.client_a, plan.id, "request_changes", comment="Revise la planta")
    db.session.commit()
    revised = plan_set(tmp_path / "B.pdf", [1], {1: list(KNOWN)}).read_bytes()
    documents.upload_version(world.staff, plan.id, io.BytesIO(revised), filename="A-101-B.pdf")
    db.session.commit()

    options = PHONE if device == "phone" else {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(**options, locale="es-ES")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.goto(f"{live_server}/documents/{plan.id}")
    page.get_by_role("link", name="Ver qué cambió y sus comentarios").click()

    changed = page.get_by_text("zonas cambiadas").first
    changed.wait_for()  # the click starts the navigation; the compare page follows
    assert changed.is_visible()
    overlay = page.get_by_role("img", name="Página 1: v1 en rojo y v2 en azul, superpuestas")
    overlay.wait_for()
    assert page.locator("#page-0 .overlay-pane .area").count() >= len(KNOWN)
    pin = page.locator("#page-0 .overlay-pane .pin.open")
    assert pin.count() == 1 and pin.is_visible()
    assert page.get_by_text("Falta la puerta?").is_visible()

    # a changed area's button zooms the page onto it
    page.get_by_role("button", name="Zona 1").click()
    assert "scale(1)" not in page.evaluate(TRANSFORMS)[0]

    # side by side: both sides visible, zoomed and panned together
    page.get_by_role("button", name="Lado a lado").click()
    assert page.get_by_role("img", name="Página 1 en v1").is_visible()
    assert page.get_by_role("img", name="Página 1 en v2").is_visible()
    page.get_by_role("button", name="Acercar").click()
    transforms = page.evaluate(TRANSFORMS)
    assert len(set(transforms)) == 1 and "scale(1)" not in transforms[0]
    page.get_by_role("button", name="Ajustar").click()
    assert set(page.evaluate(TRANSFORMS)) == {"translate(0px, 0px) scale(1)"}
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
