"""Every page of the web UI passes axe-core at WCAG 2.2 AA, for each role, on desktop and phone.

The pages come from the app's URL map (every GET route outside the API), so a new page is
checked as soon as it exists: its URL is built from the seeded world by the names of its
arguments, and a route that answers something other than an HTML page must be listed in
``NOT_PAGES`` with the reason. axe-core comes from the npm registry (``make assets``) and is
injected by the browser itself, so the portal's Content-Security-Policy stays on.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from portal_signing import annual_accounts_pdf, signature_request
from portal_testing import DESKTOP, IN_CI, PASSWORD, PHONE, build_world, enable_mfa, pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("signing_ready")]

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

#: GET routes that are not pages, and why.
NOT_PAGES = {
    "static": "stylesheets, scripts and images",
    "main.health": "JSON health check for load balancers",
    "documents.download": "the file itself, as an attachment",
    "review.raw": "the PDF bytes the viewer draws",
    "ocr.export_form": "CSV / JSON export of a confirmed form",
    "ocr.field_image": "PNG of a page with the value boxed (its alt text is checked on the form)",
    "pki.ca_certificate": "DER certificate of the internal CA",
    "pki.crl": "DER revocation list of the internal CA",
    "signatures.pdf": "the PDF to be signed",
    "signatures.evidence": "ZIP of the signature evidence",
    "previews.rendition": "thumbnail or preview image (its alt text is checked on the pages)",
    "previews.page": "image of one PDF page (its alt text is checked on the pages)",
}

#: Pages no role reaches by a plain GET; each is checked by a step of its own below.
STEPS = {
    "auth.second_factor": "after the password of a user with two-factor authentication",
}


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


def _seed(app: Any) -> dict[str, Any]:
    """Seed the world in a thread of its own (Playwright keeps an event loop in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_seed_in_thread, app).result()


def _seed_in_thread(app: Any) -> dict[str, Any]:
    """The two-client world with something on every page, as plain values."""
    with app.app_context():
        from app.extensions import db

        try:
            return _seed_world(app)
        finally:
            db.session.remove()


def _seed_world(app: Any) -> dict[str, Any]:
    from app.extensions import db
    from app.models import FormSubmission
    from app.services import accounts, documents, notifications, pki, review

    world = build_world()
    request = signature_request(world)  # the contract, now a real PDF in version 2
    # a payslip whose text is read inline: search results and a form with amounts
    app.config["OCR_ON_UPLOAD"] = True
    payslip = documents.upload_document(
        world.client_a,
        world.space_a.id,
        io.BytesIO(pdf_bytes("Nomina de marzo Trabajador Lucia Perez Liquido 1.234,56")),
        filename="nomina.pdf",
        title="Nómina de marzo",
    )
    app.config["OCR_ON_UPLOAD"] = False
    form = FormSubmission(
        template="datos_nomina",
        space_id=world.space_a.id,
        document_id=payslip.id,
        version_id=payslip.current_version.id,
        fields={
            "worker": {
                "value": "Lucía Pérez",
                "confidence": 91.0,
                "page": 1,
                "box": [10, 10, 60, 30],
                "source_text": "Lucía Pérez",
                "confirmed": False,
            },
            "net": {
                "value": "1.234,56",
                "confidence": 55.0,
                "page": 1,
                "box": [10, 40, 60, 60],
                "source_text": "1.234,56",
                "confirmed": False,
            },
        },
        status="draft",
        created_by_id=world.client_a.id,
    )
    db.session.add(form)
    plan = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(annual_accounts_pdf(1, "Plano A-101")),
        filename="A-101.pdf",
        title="Plano A-101",
    )
    review.add_comment(world.client_a, plan.id, body="Cota equivocada", page=1, x=0.5, y=0.5)
    for user in (world.admin, world.staff, world.client_a):
        notifications.notify(
            [user], "review_requested", link=f"/documents/{plan.id}", title="Plano A-101", version=1
        )
    values = {
        "document_id": world.shared.id,
        "number": world.shared.current_version.number,
        "space_id": world.space_a.id,
        "client_id": world.firm_a.id,
        "form_id": form.id,
        "transmittal_id": world.transmittal.id,
        "signature_request": request.id,
        "document_request": world.request.id,
        "reset": accounts._new_link(world.client_b, "reset", timedelta(hours=1)),
        "invite": accounts._new_link(world.outsider, "invite", timedelta(days=1)),
        "admin": world.admin.email,
        "staff": world.staff.email,
        "client": world.client_a.email,
        "other client": world.client_b.email,
    }
    values["certificate_id"] = pki.current_certificate(world.client_a).id  # issued by the CA
    db.session.commit()
    enable_mfa(world.outsider)
    values["with two factors"] = world.outsider.email
    return values


def _url_for_rule(rule: Any, seed: dict[str, Any]) -> str:
    """Fill a rule's arguments from the seed by their names (and the blueprint's meaning)."""
    blueprint = rule.endpoint.split(".")[0]
    values = {
        **seed,
        "request_id": seed["signature_request"]
        if blueprint == "signatures"
        else seed["document_request"],
        "token": seed["invite"] if rule.endpoint == "auth.invitation" else seed["reset"],
    }
    missing = [name for name in rule.arguments if name not in values]
    assert not missing, f"{rule.rule}: say in _url_for_rule which object its {missing} are"
    path = rule.rule
    for name in rule.arguments:
        for candidate in (f"<int:{name}>", f"<path:{name}>", f"<{name}>"):
            path = path.replace(candidate, str(values[name]))
    if rule.endpoint == "ocr.search_page":
        path += "?q=nomina"
    return path


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
    seed = _seed(app)
    device_name = "phone" if device is PHONE else "desktop"
    checker = Checker(device_name)

    pages = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint in STEPS:
            continue
        pages[rule.endpoint] = _url_for_rule(rule, seed)
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
        page.goto(live_server + "/documents/0123456789abcdef01234567")
        checker.check(page, who, "404 page")
        if who == "client":  # last: turning on two factors shows the recovery codes once
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
