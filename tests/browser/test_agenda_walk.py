"""On a phone, a client's home page starts with what the firm is waiting for, most urgent first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, PHONE, build_world

pytestmark = pytest.mark.browser


def test_the_first_screen_shows_the_most_urgent_thing(app, live_server, browser):
    from app.extensions import db
    from app.services import requests

    world = build_world()
    late = requests.create_request(
        world.staff,
        world.space_a.id,
        title="IVA del trimestre",
        due_date=date.today() + timedelta(days=1),
        items=[{"title": "Facturas de compra de marzo"}],
        today=date.today(),
    )
    late.due_date = date.today() - timedelta(days=3)
    db.session.commit()

    phone = browser.new_context(**PHONE, locale="es-ES")
    page = phone.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    first = page.get_by_test_id("agenda-item").first
    expect(first).to_contain_text("Facturas de compra de marzo")
    expect(first).to_contain_text("venció el")
    # the header folds into one button, so the most urgent thing is in the first half-screen
    menu = page.get_by_role("button", name="Menú")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_hidden()
    assert first.bounding_box()["y"] < PHONE["viewport"]["height"] / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_hidden()
    expect(menu).to_be_focused()
    first.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("IVA del trimestre")
    phone.close()


def test_on_a_desktop_the_menu_stays_open(app, live_server, browser):
    world = build_world()
    desktop = browser.new_context(**DESKTOP, locale="es-ES")
    page = desktop.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_visible()
    expect(page.get_by_role("button", name="Menú")).to_be_hidden()
    desktop.close()
