"""The main flows with the keyboard alone, and the focused control always visibly outlined.

A client logs in, opens the contract the firm shared, validates it with a comment and uploads
a new version through the single-file form: only Tab, Shift+Tab, Enter, Space and typing.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, PASSWORD, build_world, pdf_bytes

pytestmark = pytest.mark.browser

#: What the focused element looks like: a description, or why its focus cannot be seen.
FOCUS_JS = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {error: 'nothing has the focus'};
  const ring = (e) => {
    const s = getComputedStyle(e);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    return outline || (s.boxShadow && s.boxShadow !== 'none');
  };
  const box = el.getBoundingClientRect();
  // a control drawn invisibly over its label (a styled file input) shows its ring on the label
  const shown = parseFloat(getComputedStyle(el).opacity) > 0 ? el : el.closest('label');
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.id || '').trim();
  const description = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '')
    + ' "' + name.slice(0, 60) + '"';
  if (!shown || !ring(shown)) {
    const style = shown ? getComputedStyle(shown) : {};
    return {error: 'no visible focus ring on ' + description + ' (outline: ' + style.outline + ')'};
  }
  // an outline drawn outside the element must stand out from what is behind it (3:1, WCAG 1.4.11)
  const style = getComputedStyle(shown);
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineOffset) >= 0) {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => [r, g, b]
      .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    let behind = [255, 255, 255];
    for (let p = shown.parentElement; p; p = p.parentElement) {
      const c = rgb(getComputedStyle(p).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) { behind = c; break; }
    }
    const [a, b] = [luminance(rgb(style.outlineColor)), luminance(behind)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 3) return {error: 'focus ring contrast ' + ratio.toFixed(2) + ':1 on ' + description};
  }
  if (box.width === 0 || box.height === 0) return {error: 'focused element is not on screen: ' + description};
  return {description, name, id: el.id, tag: el.tagName.toLowerCase(), type: el.type || ''};
}"""


class Keyboard:
    """Moves the focus with Tab only, checking at every stop that the focus can be seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.visited: list[str] = []

    def focused(self) -> dict[str, Any]:
        state = self.page.evaluate(FOCUS_JS)
        assert "error" not in state, state["error"]
        self.visited.append(state["description"])
        return state

    def tab_to(self, matches: Any, limit: int = 80) -> dict[str, Any]:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            state = self.focused()
            if matches(state):
                return state
        raise AssertionError(f"never reached with Tab; stops were: {self.visited[-limit:]}")

    def tab_to_named(self, text: str) -> dict[str, Any]:
        return self.tab_to(lambda state: state["name"].startswith(text))


def test_client_logs_in_reviews_and_uploads_with_the_keyboard_only(
    app, live_server, browser, tmp_path
):
    world = build_world()
    new_version = tmp_path / "contrato-firmado.pdf"
    new_version.write_bytes(pdf_bytes("Contrato v2"))
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    keys = Keyboard(page)
    # Playwright turns on catching the file dialog when the first listener is added, without
    # waiting for Chromium to confirm: added only right before the key press, the dialog could
    # open uncaught (CI saw that once). A listener from the start has it on long before.
    page.on("filechooser", lambda _chooser: None)

    page.goto(live_server + "/login")
    assert keys.focused()["id"] == "email"  # the form starts in its first field
    page.keyboard.type(world.client_a.email)
    keys.tab_to(lambda s: s["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=f"Hola, {world.client_a.name}").wait_for()
    skip = keys.tab_to(lambda s: True)  # the first stop is the skip link, and it shows
    assert skip["name"] == "Saltar al contenido"
    assert page.get_by_role("link", name="Saltar al contenido").bounding_box()["x"] >= 0

    # dashboard -> space -> document
    keys.tab_to_named(world.space_a.name)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=world.space_a.name).wait_for()
    keys.tab_to(lambda s: s["tag"] == "a" and s["name"] == "Contrato")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Contrato").wait_for()

    # review: a comment, then "Validar"
    keys.tab_to(lambda s: s["id"] == "review-comment")
    page.keyboard.type("Todo correcto")
    keys.tab_to_named("Validar")
    page.keyboard.press("Enter")
    page.locator("#review").get_by_text("Validado").first.wait_for()
    assert "Todo correcto" in page.locator("#review").inner_text()

    # a new version through the single-file form: open it, choose the file, add a note, send
    page.locator("[data-uploader]").wait_for(state="visible", timeout=10000)
    keys.tab_to_named("Formulario para un solo archivo")
    if page.locator("[data-upload-fallback]").get_attribute("open") is None:
        page.keyboard.press("Enter")
    keys.tab_to(lambda s: s["type"] == "file" and s["id"] == "file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(new_version))
    keys.tab_to(lambda s: s["id"] == "note")
    page.keyboard.type("Firmado por ambas partes")
    keys.tab_to_named("Subir versión")
    page.keyboard.press("Enter")
    page.get_by_text("Nueva versión subida.").wait_for()
    rows = page.locator("table.versions tbody tr")
    expect(rows).to_have_count(2)
    assert "Firmado por ambas partes" in rows.nth(0).inner_text()  # newest first
    context.close()
