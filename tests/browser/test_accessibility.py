"""Every page of the web UI passes axe-core at WCAG 2.2 AA, for each role, on desktop and phone.

The pages come from the app's URL map (every GET route outside the API), so a new page is
checked as soon as it exists: its URL is built from the seeded world by the names of its
arguments, and a route that answers something other than an HTML page must be listed in
``NOT_PAGES`` (tests/portal_pages.py) with the reason. axe-core comes from the npm registry (``make assets``) and is
injected by the browser itself, so the portal's Content-Security-Policy stays on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyotp
import pytest
from portal_pages import page_urls, seed_pages
from portal_testing import DESKTOP, IN_CI, PASSWORD, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("signing_ready")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: axe's best practices for what screen-reader users navigate by: headings and landmarks.
STRUCTURE = [
    "heading-order",
    "page-has-heading-one",
    "empty-heading",
    "landmark-one-main",
    "landmark-unique",
    "region",
    "skip-link",
    "empty-table-header",
]


def _axe_violations(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """async ([tags, structure]) => {
            const rules = Object.fromEntries(structure.map(id => [id, {enabled: true}]));
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        [TAGS, STRUCTURE],
    )


class Checker:
    """Runs axe on pages and keeps every violation, so that one run lists them all."""

    def __init__(self, device_name: str) -> None:
        self.device_name = device_name
        self.problems: list[str] = []
        self.checked: set[str] = set()

    def check(self, page: Any, who: str, label: str) -> None:
        page.wait_for_load_state("load")
        # what folds away (the single-file upload form, the signature request form) counts too
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        self.checked.add(label)
        for violation in _axe_violations(page):
            nodes = "\n      ".join(violation["nodes"])
            self.problems.append(
                f"[{self.device_name} · {who}] {label} ({page.url}): {violation['id']} "
                f"({violation['impact']}) {violation['help']}\n      {nodes}"
            )


def _login(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe_at_wcag22_aa(app, live_server, browser, device):
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing: make assets installs axe-core from npm")
        pytest.skip("axe-core is not installed (make assets)")
    axe_source = AXE.read_text()
    seed = seed_pages(app)
    device_name = "phone" if device is PHONE else "desktop"
    checker = Checker(device_name)

    pages = dict(page_urls(app, seed))
    viewer = f"/documents/{seed['document_id']}/versions/2/view"
    assert pages.get("review.viewer") == viewer

    def context() -> Any:
        made = browser.new_context(**device, locale="es-ES")
        made.add_init_script(script=axe_source)
        return made

    rendered: dict[str, list[str]] = {}
    for who in ("admin", "staff", "client"):
        ctx = context()
        page = ctx.new_page()
        _login(page, live_server, seed[who])
        for endpoint, path in sorted(pages.items()):
            probe = page.request.get(live_server + path, max_redirects=0)
            if probe.status != 200:
                continue
            kind = probe.headers.get("content-type", "")
            assert kind.startswith("text/html"), (
                f"{endpoint} answers {kind}: list it in NOT_PAGES with the reason"
            )
            page.goto(live_server + path)
            checker.check(page, who, endpoint)
            rendered.setdefault(endpoint, []).append(who)
        # the viewer once pdf.js has drawn the page and its pin, and as page images
        plan_view = f"{live_server}/documents/{seed['plan_id']}/versions/1/view"
        page.goto(plan_view)
        if page.locator("#pdf-viewer").count():
            page.locator(".pdf-page .pin").first.wait_for(timeout=30_000)
        checker.check(page, who, "viewer with a pinned comment")
        page.goto(plan_view + "?pages=1")
        checker.check(page, who, "viewer as page images")
        page.goto(live_server + "/documents/0123456789abcdef01234567")
        checker.check(page, who, "404 page")
        if who == "staff":  # a form sent empty: every error is tied to its field
            page.goto(f"{live_server}/spaces/{seed['space_id']}/requests/new")
            page.get_by_role("button", name="Enviar solicitud").click()
            page.locator(".field.has-error").first.wait_for()
            checker.check(page, who, "new request with errors")
        if who == "client":  # last: an upload through the drag-and-drop uploader, then 2FA
            page.goto(f"{live_server}/spaces/{seed['space_id']}")
            page.locator(".uppy-DragDrop-input").set_input_files(
                files=[{"name": "factura.pdf", "mimeType": "application/pdf", "buffer": PDF}]
            )
            page.locator('.uploader-file[data-state="done"]').wait_for(timeout=60_000)
            checker.check(page, who, "uploader with a finished file")
            page.goto(live_server + "/account/mfa")
            secret = page.get_by_test_id("totp-secret").inner_text()
            page.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
            page.get_by_role("button", name="Activar").click()
            page.get_by_test_id("recovery-codes").wait_for()
            checker.check(page, who, "recovery codes")
        ctx.close()

    # anonymous: login (also with an error), forgot, reset, invitation, second factor, 404
    ctx = context()
    page = ctx.new_page()
    for endpoint in ("auth.login", "auth.forgot", "auth.reset", "auth.invitation"):
        page.goto(live_server + pages[endpoint])
        checker.check(page, "anonymous", endpoint)
        rendered.setdefault(endpoint, []).append("anonymous")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(seed["other client"])
    page.get_by_label("Contraseña").fill("not the password")
    page.get_by_role("button", name="Entrar").click()
    checker.check(page, "anonymous", "login with an error")
    page.goto(live_server + "/no-such-page")
    checker.check(page, "anonymous", "404 page")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(seed["with two factors"])
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/login/mfa**")
    checker.check(page, "anonymous", "auth.second_factor")
    ctx.close()

    unreached = sorted(set(pages) - set(rendered))
    assert not unreached, f"pages no role could open (fix the seed or say why): {unreached}"
    if os.environ.get("PORTAL_A11Y_REPORT"):
        print("\n".join(sorted(f"{e}: {', '.join(r)}" for e, r in rendered.items())))
    assert not checker.problems, f"{len(checker.problems)} axe violations:\n" + "\n".join(
        checker.problems
    )
