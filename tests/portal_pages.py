"""A seeded portal with something on every page, and every page's URL from the app's URL map.

Shared by the accessibility test (every page through axe-core, in a browser) and the
English-pages test (no Spanish UI string left on an English page).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from portal_signing import annual_accounts_pdf, signature_request
from portal_testing import build_world, enable_mfa, pdf_bytes

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
    "onboarding.image": "identity photo with the fields boxed (its alt text is on the page)",
    "conversations.incident": "a redirect to the incident's thread, which is a page of its own",
    "campaigns.export": "CSV / XLSX of a campaign's board",
    "metrics.export": "CSV of the firm's monthly metrics",
}

#: Pages no role reaches by a plain GET; each is checked by a step of its own below.
STEPS = {
    "auth.second_factor": "after the password of a user with two-factor authentication",
}


def seed_pages(app: Any) -> dict[str, Any]:
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
    # two versions of a plan, a comment pinned on the first: the compare page has it all
    compared = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(annual_accounts_pdf(1, "Plano A-102")),
        filename="A-102.pdf",
        title="Plano A-102",
    )
    review.add_comment(world.client_a, compared.id, body="Falta una cota", page=1, x=0.3, y=0.3)
    documents.upload_version(
        world.staff,
        compared.id,
        io.BytesIO(annual_accounts_pdf(2, "Plano A-102")),
        filename="A-102-B.pdf",
    )
    for user in (world.admin, world.staff, world.client_a):
        notifications.notify(
            [user], "review_requested", link=f"/documents/{plan.id}", title="Plano A-101", version=1
        )
    values = {
        "document_id": world.shared.id,
        "plan_id": plan.id,  # a PDF with a comment pinned on its page
        "compared_id": compared.id,  # a PDF in two versions, for the compare page
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
    from app.services import conversations, incidents, onboarding

    values["thread_id"] = conversations.create_thread(
        world.client_a, world.space_a.id, subject="¿Qué falta?", body="Hola"
    ).id
    values["incident_id"] = incidents.create_incident(
        world.client_a, world.space_a.id, title="No puedo subir", body="Error", priority="high"
    ).id
    values["onboarding_id"] = onboarding.start_onboarding(
        world.staff, email="alta@example.com", name="Irene Alta", kind="person", services=["renta"]
    ).id
    from app.services import campaigns

    values["campaign_id"] = campaigns.create_campaign(
        world.staff,
        name="Renta 2026",
        items=[{"title": "Certificado de retenciones"}],
        due_date=date.today() + timedelta(days=30),
        client_ids=[world.firm_a.id],
        space_kind="fiscal_year",
        space_name="Renta {year}",
        today=date.today(),
    ).id
    db.session.commit()
    enable_mfa(world.outsider)
    values["with two factors"] = world.outsider.email
    return values


def url_for_rule(rule: Any, seed: dict[str, Any]) -> str:
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
    if rule.endpoint == "compare.page":
        path = f"/documents/{seed['compared_id']}/compare"
    return path


def page_urls(app: Any, seed: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(endpoint, URL) of every GET page outside the API, except those in NOT_PAGES and STEPS."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint in STEPS:
            continue
        yield rule.endpoint, url_for_rule(rule, seed)
