"""Every route of the API answers what /api/v1/openapi.json says it answers.

One client and the firm's staff (and its admin, for what only admins do) go through every
route with real data; each answer, success or problem, is checked against the schema the
published document gives for that path, method, status and media type. A route that no
step of the walk reaches fails the test, so a new route comes with its answers checked.
"""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from jsonschema import Draft202012Validator
from portal_signing import annual_accounts_pdf, next_totp, pkcs12_bundle
from portal_testing import PASSWORD, api_token, enable_mfa, pdf_bytes
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

pytestmark = pytest.mark.usefixtures("signing_ready")

SPEC_URI = "urn:portal:openapi"
JSON_TYPES = {"application/json", "application/problem+json"}
TUS = {"Tus-Resumable": "1.0.0"}


def _openapi_path(rule: str) -> str:
    rule = re.sub(r"<int:number>", "{n}", rule)
    return re.sub(r"<[^>]+>", "{id}", rule)


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _served(app: Any) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every API route, as tests/api/test_openapi.py counts them."""
    return {
        (method.lower(), _openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


class Answers:
    """A test client whose every answer must be one the published document allows."""

    def __init__(self, client: Any, web_app: Any) -> None:
        self.client = client
        self.urls = web_app.url_map.bind("localhost")
        self.spec = client.get("/api/v1/openapi.json").get_json()
        self.registry = Registry().with_resource(
            SPEC_URI, Resource(contents=self.spec, specification=DRAFT202012)
        )
        self.checked: set[tuple[str, str]] = set()

    def __call__(
        self, method: str, url: str, status: int, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        response = self.client.open(url, method=method.upper(), headers=headers or {}, **kw)
        assert response.status_code == status, (
            f"{method.upper()} {url}: {response.status_code} {response.get_data()[:800]!r}"
        )
        self.check(method.lower(), urlsplit(url).path, response)
        return response.get_json(silent=True) if response.mimetype in JSON_TYPES else response

    def mismatches(
        self, documented: str, method: str, status: int, media_type: str, answer: Any
    ) -> list[str]:
        """Where a JSON answer departs from the schema the document gives for it."""
        pointer = _pointer(
            "paths", documented, method, "responses", str(status), "content", media_type, "schema"
        )
        validator = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(answer)'}: {error.message}"
            for error in validator.iter_errors(answer)
        ]

    def check(self, method: str, path: str, response: Any) -> None:
        rule, _ = self.urls.match(path, method=method.upper(), return_rule=True)
        documented = _openapi_path(rule.rule)
        operation = self.spec["paths"].get(documented, {}).get(method)
        where = f"{method.upper()} {documented} {response.status_code}"
        assert operation is not None, f"{method.upper()} {documented} is not in the document"
        answer = operation["responses"].get(str(response.status_code))
        assert answer is not None, f"{where}: the document lists no such answer"
        content = answer.get("content", {})
        if response.mimetype in JSON_TYPES:
            assert response.mimetype in content, f"{where}: {response.mimetype} is not documented"
            errors = self.mismatches(
                documented, method, response.status_code, response.mimetype, response.get_json()
            )
            assert not errors, f"{where} does not match the document:\n" + "\n".join(errors)
        elif response.get_data():
            assert response.mimetype in content or "*/*" in content, (
                f"{where}: {response.mimetype} is not documented"
            )
        else:
            assert not content or response.status_code in (204, 206, 303), (
                f"{where}: the document promises a body, the answer has none"
            )
        self.checked.add((method, documented))


def _tus_metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def _upload(call: Answers, headers: dict[str, str], space_id: str, data: bytes, name: str) -> Any:
    return call(
        "post",
        f"/api/v1/spaces/{space_id}/documents",
        201,
        headers,
        data={"file": (io.BytesIO(data), name), "title": name},
        content_type="multipart/form-data",
    )


def test_every_route_answers_as_the_published_document_says(
    app, web_app, client, world, signing_ready
):
    from app.extensions import db
    from app.services import alerts

    call = Answers(client, web_app)
    staff_secret = enable_mfa(world.staff)

    # ---------------------------------------------------------------- auth and people
    call("post", "/api/v1/auth/token", 401, json={"email": world.staff.email, "password": "x"})
    needs_otp = call(
        "post", "/api/v1/auth/token", 401, json={"email": world.staff.email, "password": PASSWORD}
    )
    assert needs_otp["mfa_required"] is True
    token = call(
        "post",
        "/api/v1/auth/token",
        200,
        json={
            "email": world.staff.email,
            "password": PASSWORD,
            "otp": pyotp.TOTP(staff_secret).now(),
        },
    )
    staff = {"Authorization": f"Bearer {token['token']}"}
    admin = api_token(client, world.admin)
    customer = api_token(client, world.client_a)
    other = api_token(client, world.client_b)

    call("get", "/api/v1/me", 401)
    assert call("get", "/api/v1/me", 200, customer)["client_id"] == world.firm_a.id
    outsider = api_token(client, world.outsider)
    enrolment = call("post", "/api/v1/me/mfa/totp", 200, outsider)
    call("post", "/api/v1/me/mfa/totp/confirm", 422, outsider, json={"otp": "000000"})
    call(
        "post",
        "/api/v1/me/mfa/totp/confirm",
        200,
        outsider,
        json={"otp": pyotp.TOTP(enrolment["secret"]).now()},
    )
    call("delete", "/api/v1/auth/token", 204, outsider)
    call("get", "/api/v1/me", 401, outsider)

    firm = call("post", "/api/v1/clients", 201, staff, json={"name": "Obras Lema S.L."})
    call("post", "/api/v1/clients", 422, staff, json={"name": ""})
    call("post", "/api/v1/clients", 403, customer, json={"name": "Mía S.L."})
    assert [c["id"] for c in call("get", "/api/v1/clients", 200, customer)["items"]] == [
        world.firm_a.id
    ]
    call("get", "/api/v1/clients", 200, staff)
    user = {"email": "nuevo@example.com", "name": "Nuevo", "role": "client"}
    call("post", "/api/v1/users", 403, staff, json=user)
    call("post", "/api/v1/users", 422, admin, json=user)
    call("post", "/api/v1/users", 201, admin, json={**user, "client_id": firm["id"]})

    # ---------------------------------------------------------------- spaces and documents
    space = call(
        "post", f"/api/v1/clients/{firm['id']}/spaces", 201, admin, json={"name": "Obra 7"}
    )
    call("post", f"/api/v1/clients/{firm['id']}/spaces", 404, customer, json={"name": "X"})
    call("get", f"/api/v1/clients/{world.firm_a.id}/spaces", 200, customer)
    call("get", f"/api/v1/spaces/{world.space_a.id}", 200, customer)
    call("get", f"/api/v1/spaces/{world.space_b.id}", 404, customer)
    call("patch", f"/api/v1/spaces/{space['id']}", 200, admin, json={"name": "Obra 7 bis"})
    members = f"/api/v1/spaces/{space['id']}/members"
    call("post", members, 422, admin, json={"user_id": world.staff.id, "permission": "all"})
    call("post", members, 201, admin, json={"user_id": world.staff.id, "permission": "manage"})

    space_a = world.space_a.id
    mine = _upload(call, customer, space_a, pdf_bytes("Factura de la obra"), "factura.pdf")
    call(
        "post",
        f"/api/v1/spaces/{space_a}/documents",
        422,
        customer,
        data={"title": "sin archivo"},
        content_type="multipart/form-data",
    )
    call("get", f"/api/v1/spaces/{space_a}/documents", 200, customer)
    call("get", f"/api/v1/spaces/{space_a}/documents?state=received&q=factura", 200, staff)
    shared = f"/api/v1/documents/{world.shared.id}"
    call("get", shared, 200, customer)
    call("get", f"/api/v1/documents/{world.internal.id}", 404, customer)
    call("patch", f"/api/v1/documents/{mine['id']}", 200, staff, json={"title": "Factura 7"})
    call("patch", f"/api/v1/documents/{mine['id']}", 422, staff, json={"name": "?"})
    version = call(
        "post",
        f"{shared}/versions",
        201,
        staff,
        data={"file": (io.BytesIO(annual_accounts_pdf(1, "Contrato")), "contrato.pdf")},
        content_type="multipart/form-data",
    )
    call("get", f"{shared}/versions", 200, customer)
    call("get", f"{shared}/versions/1", 200, customer)
    call("get", f"{shared}/versions/9", 404, customer)
    call("get", f"{shared}/versions/{version['number']}/content", 200, customer)
    call("get", f"{shared}/versions/1/content", 206, {**customer, "Range": "bytes=0-3"})
    call("post", f"/api/v1/documents/{mine['id']}/versions/1/restore", 201, customer)
    throwaway = _upload(call, staff, space_a, b"%PDF-1.4 borrador", "borrador.pdf")
    call("delete", f"/api/v1/documents/{throwaway['id']}", 403, customer)
    call("delete", f"/api/v1/documents/{throwaway['id']}", 204, staff)

    # ---------------------------------------------------------------- review and comments
    call("get", f"/api/v1/documents/{mine['id']}/versions/2/content", 200, staff)  # now read
    call("post", f"/api/v1/documents/{mine['id']}/review", 200, staff, json={"action": "check"})
    call("post", f"/api/v1/documents/{mine['id']}/review", 409, staff, json={"action": "check"})
    call(
        "post",
        f"/api/v1/documents/{mine['id']}/review",
        422,
        staff,
        json={"action": "request_changes"},
    )
    call("get", f"/api/v1/documents/{mine['id']}/review", 200, customer)
    comment = call(
        "post",
        f"{shared}/comments",
        201,
        customer,
        json={"body": "¿Página 2?", "page": 1, "x": 0.5, "y": 0.25},
    )
    call("post", f"{shared}/comments", 422, customer, json={"body": "x", "x": "izquierda"})
    call("get", f"{shared}/comments", 200, customer)
    call("post", f"/api/v1/comments/{comment['id']}/resolve", 200, staff)
    call("post", f"/api/v1/comments/{world.comment_internal.id}/resolve", 404, customer)

    transmittal = call(
        "post",
        f"/api/v1/spaces/{space_a}/transmittals",
        201,
        staff,
        json={"document_ids": [world.shared.id], "recipient_ids": [world.client_a.id]},
    )
    call("get", f"/api/v1/transmittals/{transmittal['id']}", 200, staff)
    call("get", f"/api/v1/transmittals/{world.transmittal.id}", 200, staff)
    call("get", f"/api/v1/transmittals/{transmittal['id']}", 404, other)

    alerts.sweep(datetime.now(UTC) + timedelta(days=60))
    db.session.commit()
    assert call("get", "/api/v1/alerts", 200, customer)["items"]
    call("get", "/api/v1/alerts", 200, staff)
    call("get", "/api/v1/notifications", 200, customer)
    call("post", "/api/v1/notifications/read", 204, customer)

    # ---------------------------------------------------------------- document requests
    asked = call(
        "post",
        f"/api/v1/spaces/{space_a}/requests",
        201,
        staff,
        json={
            "title": "IRPF 2025",
            "due_date": (datetime.now(UTC) + timedelta(days=20)).date().isoformat(),
            "items": [{"title": "Certificado bancario", "required": True}, {"title": "Seguro"}],
        },
    )
    call("post", f"/api/v1/spaces/{space_a}/requests", 422, staff, json={"due_date": "mañana"})
    call("get", f"/api/v1/spaces/{space_a}/requests", 200, customer)
    call("get", f"/api/v1/requests/{asked['id']}", 200, customer)
    call("get", f"/api/v1/requests/{asked['id']}", 404, other)
    call("get", "/api/v1/request-templates", 200, staff)
    first, second = (item["id"] for item in asked["items"])
    call(
        "post",
        f"/api/v1/request-items/{first}/upload",
        201,
        customer,
        data={"file": (io.BytesIO(pdf_bytes("Certificado")), "certificado.pdf")},
        content_type="multipart/form-data",
    )
    call("post", f"/api/v1/request-items/{first}/upload", 422, customer, data={})
    call(
        "post",
        f"/api/v1/request-items/{second}/not-applicable",
        200,
        customer,
        json={"reason": "No tengo"},
    )
    call("post", f"/api/v1/request-items/{first}/review", 200, staff, json={"action": "accept"})
    call("post", f"/api/v1/request-items/{first}/review", 403, customer, json={"action": "accept"})
    call("get", f"/api/v1/requests/{asked['id']}", 200, staff)

    # ---------------------------------------------------------------- resumable uploads
    pdf = pdf_bytes("Subida reanudable")
    tus = {
        **customer,
        **TUS,
        "Upload-Length": str(len(pdf)),
        "Upload-Metadata": _tus_metadata(space_id=space_a, filename="plano.pdf"),
    }
    started = call("post", "/api/v1/uploads/", 201, tus)
    location = started.headers["Location"]
    call("post", "/api/v1/uploads/", 412, customer)
    call("post", "/api/v1/uploads/", 400, {**customer, **TUS})
    patch = {**customer, **TUS, "Content-Type": "application/offset+octet-stream"}
    call("patch", location, 409, {**patch, "Upload-Offset": "5"}, data=pdf)
    call("patch", location, 415, {**customer, **TUS, "Upload-Offset": "0"}, data=pdf)
    call("patch", location, 204, {**patch, "Upload-Offset": "0"}, data=pdf)
    dropped = call("post", "/api/v1/uploads/", 201, tus).headers["Location"]
    call("delete", dropped, 204, {**customer, **TUS})
    call("delete", dropped, 404, {**customer, **TUS})

    # ---------------------------------------------------------------- OCR, forms, search
    text_url = f"/api/v1/documents/{mine['id']}/versions/1/text"
    call("get", text_url, 200, customer)
    # what changed between the two versions (the second restored the first: nothing)
    compared = call("get", f"/api/v1/documents/{mine['id']}/compare", 200, customer)
    assert compared["status"] == "done" and compared["changed"] is False, compared
    call("get", compared["overlay_urls"][0], 200, customer)
    call("get", f"/api/v1/documents/{mine['id']}/compare?from=x", 422, customer)
    call("get", f"/api/v1/documents/{mine['id']}/compare/image?name=x.jpg", 404, customer)
    call("get", "/api/v1/form-templates", 200, customer)
    forms_url = f"/api/v1/spaces/{space_a}/forms"
    call("post", forms_url, 422, customer, json={"template": "nada", "document_id": mine["id"]})
    answer = client.post(
        forms_url, headers=customer, json={"template": "datos_nomina", "document_id": mine["id"]}
    )
    call.check("post", forms_url, answer)
    form = answer.get_json() if answer.status_code == 201 else answer.get_json()["form"]
    call("get", f"/api/v1/forms/{form['id']}", 200, customer)
    call("get", f"/api/v1/forms/{form['id']}/export?format=json", 409, customer)
    call("patch", f"/api/v1/forms/{form['id']}", 422, customer, json={"fields": ["x"]})
    confirmed = call(
        "patch",
        f"/api/v1/forms/{form['id']}",
        200,
        customer,
        json={"fields": {"worker": "Ana Gil Soto"}, "confirm": True},
    )
    assert confirmed["status"] == "confirmed", confirmed
    call("get", f"/api/v1/forms/{form['id']}/export?format=json", 200, customer)
    call("get", f"/api/v1/forms/{form['id']}/export?format=csv", 200, customer)
    call("get", "/api/v1/search?q=Contrato", 200, customer)

    # ---------------------------------------------------------------- signing and validation
    document = f"/api/v1/documents/{world.shared.id}"
    signers = {"signers": [{"user_id": world.staff.id}, {"user_id": world.client_a.id}]}
    call("post", f"{document}/signature-requests", 404, other, json=signers)
    call("post", f"{document}/signature-requests", 422, staff, json={"signers": "nadie"})
    asked_to_sign = call("post", f"{document}/signature-requests", 201, staff, json=signers)
    signing = f"/api/v1/signature-requests/{asked_to_sign['id']}"
    call("get", f"{document}/signature-requests", 200, customer)
    call("get", signing, 200, customer)
    call("post", f"{signing}/sign", 409, customer, json={"otp": "123456"})
    queued = call("post", f"{signing}/sign", 202, staff, json={"otp": next_totp(staff_secret)})
    call("get", f"/api/v1/jobs/{queued['job']['id']}", 200, staff)
    call("post", f"{signing}/email-code", 202, customer)
    call("post", f"{signing}/email-code", 429, customer)

    p12, _ = pkcs12_bundle(signing_ready, "Ana Cliente", world.client_a.email, "clave-p12")
    from sqlalchemy import select

    from app.models import OutboxMail

    db.session.expire_all()
    mails = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
    code = [m for m in mails if world.client_a.email in m.to][-1].subject.rsplit(" ", 1)[-1]
    signed = call(
        "post",
        f"{signing}/sign",
        200,
        customer,
        data={"otp": code, "password": "clave-p12", "pkcs12": (io.BytesIO(p12), "yo.p12")},
        content_type="multipart/form-data",
    )
    assert signed["status"] == "completed", signed
    evidence = call("get", f"{signing}/evidence", 200, staff)
    assert evidence.mimetype == "application/zip"

    last = signed["signers"][-1]["version"]
    call("get", f"{document}/versions/{last}/validation", 200, customer)
    signed_pdf = call("get", f"{document}/versions/{last}/content", 200, staff).get_data()
    call(
        "post",
        "/api/v1/validate",
        200,
        staff,
        data={"file": (io.BytesIO(signed_pdf), "firmado.pdf")},
        content_type="multipart/form-data",
    )
    call("post", "/api/v1/validate", 422, staff, data={}, content_type="multipart/form-data")

    again = call("post", f"{document}/signature-requests", 201, staff, json=signers)
    call("post", f"/api/v1/signature-requests/{again['id']}/cancel", 403, customer)
    call("post", f"/api/v1/signature-requests/{again['id']}/cancel", 200, staff)
    third = call(
        "post",
        f"{document}/signature-requests",
        201,
        staff,
        json={"signers": [{"user_id": world.client_a.id}]},
    )
    declined = call(
        "post",
        f"/api/v1/signature-requests/{third['id']}/decline",
        200,
        customer,
        json={"reason": "El importe no es correcto"},
    )
    assert declined["status"] == "declined"
    call("post", f"/api/v1/signature-requests/{third['id']}/decline", 409, customer, json={})

    # ---------------------------------------------------------------- onboarding
    _walk_onboarding(call, staff, admin, customer)
    _walk_conversations(call, staff, customer, world)
    call("get", "/api/v1/me/agenda", 200, customer)
    call("get", "/api/v1/me/agenda", 200, staff)
    call("post", f"/api/v1/clients/{world.firm_a.id}/tags", 200, staff, json={"tags": ["renta"]})
    call("get", "/api/v1/clients?tag=renta", 200, staff)
    campaign = call(
        "post",
        "/api/v1/campaigns",
        202,
        staff,
        json={
            "name": "Renta 2026",
            "template": "renta",
            "due_date": "2099-06-30",
            "client_filter": {"tag": "renta"},
            "space_kind": "fiscal_year",
            "space_name": "Renta {year}",
        },
    )
    call("post", "/api/v1/campaigns", 422, staff, json={"name": "x"})
    call("get", f"/api/v1/campaigns/{campaign['id']}", 200, staff)
    call("post", f"/api/v1/campaigns/{campaign['id']}/remind", 200, staff)
    call("get", f"/api/v1/campaigns/{campaign['id']}/export?format=xlsx", 200, staff)
    call("get", f"/api/v1/campaigns/{campaign['id']}/export?format=doc", 422, staff)
    call("post", f"/api/v1/campaigns/{campaign['id']}/close", 422, staff, json={"client_ids": "x"})
    call("post", f"/api/v1/campaigns/{campaign['id']}/retry", 200, staff, json={})
    call(
        "post",
        f"/api/v1/campaigns/{campaign['id']}/retry",
        422,
        staff,
        json={"client_ids": [world.firm_a.id]},
    )
    call(
        "post",
        f"/api/v1/campaigns/{campaign['id']}/remove",
        200,
        staff,
        json={"client_ids": [world.firm_a.id]},
    )
    call("post", f"/api/v1/campaigns/{campaign['id']}/close", 200, staff, json={})

    # ---------------------------------------------------------------- audit and the document
    call("get", "/api/v1/audit", 403, staff)
    events = call("get", "/api/v1/audit?limit=5", 200, admin)
    assert events["next"] and len(events["items"]) == 5
    call("get", f"/api/v1/audit?cursor={events['next']}&target=x", 200, admin)
    call("get", "/api/v1/audit?since=ayer", 422, admin)
    assert call("get", "/api/v1/audit/verify", 200, admin)["ok"] is True
    call("get", "/api/v1/openapi.json", 200)

    unchecked = _served(web_app) - call.checked
    assert not unchecked, f"routes whose answers no step checked: {sorted(unchecked)}"


def test_an_answer_that_drifts_from_the_document_is_caught(web_app, client, world):
    call = Answers(client, web_app)
    me = call("get", "/api/v1/me", 200, api_token(client, world.client_a))

    def drift(answer: dict[str, Any], status: int = 200) -> list[str]:
        media_type = "application/json" if status < 400 else "application/problem+json"
        return call.mismatches("/api/v1/me", "get", status, media_type, answer)

    renamed = {key: value for key, value in me.items() if key != "email"} | {"mail": me["email"]}
    assert drift(renamed), "a required field renamed"
    assert drift({**me, "mfa_enabled": "no"}), "a field of another type"
    assert drift({**me, "client_id": None}) == [], "a nullable field"
    assert drift({**me, "phone": "600000000"}), "a field the document does not list"
    refused = call("get", "/api/v1/me", 401)
    assert drift({**refused, "mfa_required": True}, 401) == [], "problem details may be extended"
    assert drift({key: value for key, value in refused.items() if key != "title"}, 401)


def _walk_onboarding(call: Answers, staff: dict, admin: dict, customer: dict) -> None:
    import random
    from datetime import date

    from identity_samples import identity_document, jpeg_bytes
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail

    call("get", "/api/v1/catalog", 200, customer)
    service = {"key": "laboral", "name": "Nóminas", "space_kind": "general", "space_name": "N"}
    call("post", "/api/v1/catalog", 403, staff, json=service)
    call("post", "/api/v1/catalog", 201, admin, json=service)
    call("post", "/api/v1/catalog", 422, admin, json=service)
    card = identity_document(random.Random(0), kind="dni", today=date.today())
    person = {
        "email": "alta@example.com",
        "name": f"{card.expected['given_names']} {card.expected['surnames']}",
        "kind": "person",
        "services": ["renta"],
    }
    call("post", "/api/v1/onboardings", 422, staff, json={**person, "services": []})
    started = call("post", "/api/v1/onboardings", 201, staff, json=person)
    other = call(
        "post", "/api/v1/onboardings", 201, staff, json={**person, "email": "otra@example.com"}
    )
    db.session.expire_all()
    mails = db.session.execute(select(OutboxMail)).scalars()  # JSON "to": filtered here
    (mail,) = [m for m in mails if "alta@example.com" in m.to]
    link = re.search(r"/invitation/([A-Za-z0-9_-]+)", mail.body_text).group(1)
    call("post", "/api/v1/auth/invitation", 422, json={"token": link})
    token = call(
        "post", "/api/v1/auth/invitation", 200, json={"token": link, "password": "nueva-clave-2026"}
    )
    call("post", "/api/v1/auth/invitation", 404, json={"token": link, "password": "otra-clave-26"})
    new = {"Authorization": f"Bearer {token['token']}"}
    path = f"/api/v1/onboardings/{started['id']}"
    call("get", path, 404, customer)
    call("get", "/api/v1/onboardings?status=identity", 200, staff)
    call("get", "/api/v1/onboardings", 200, new)
    call("post", f"{path}/identity/confirm", 409, new, json={})
    files = {
        "front": (io.BytesIO(jpeg_bytes(card.front)), "delante.jpg"),
        "back": (io.BytesIO(jpeg_bytes(card.back)), "detras.jpg"),
    }
    call("post", f"{path}/identity", 415, new, data={"front": (io.BytesIO(b"no"), "x.jpg")})
    call("post", f"{path}/identity", 201, new, data=files, content_type="multipart/form-data")
    call("post", f"{path}/identity/confirm", 200, new, json={})
    call("post", f"{path}/approve", 403, new, json={})
    call("get", path, 200, staff)
    call("post", f"{path}/approve", 200, staff, json={})
    call("post", f"{path}/approve", 409, staff, json={})
    call("post", "/api/v1/catalog/obra/subscribe", 409, new)
    call("post", f"/api/v1/onboardings/{other['id']}/reject", 422, staff, json={})
    call("post", f"/api/v1/onboardings/{other['id']}/reject", 200, staff, json={"reason": "No"})
    call("post", f"/api/v1/onboardings/{other['id']}/reject", 409, staff, json={"reason": "No"})


def _walk_conversations(call: Answers, staff: dict, customer: dict, world: Any) -> None:
    space = f"/api/v1/spaces/{world.space_a.id}"
    call("post", f"{space}/threads", 422, customer, json={"subject": "", "body": "x"})
    thread = call(
        "post", f"{space}/threads", 201, customer, json={"subject": "¿Qué falta?", "body": "Hola"}
    )
    call("get", f"{space}/threads", 200, staff)
    call("get", f"/api/v1/spaces/{world.space_b.id}/threads", 404, customer)
    call(
        "post",
        f"/api/v1/threads/{thread['id']}/messages",
        201,
        staff,
        data={"body": "El certificado", "file": (io.BytesIO(b"%PDF-1.4 x"), "lista.pdf")},
        content_type="multipart/form-data",
    )
    call("post", f"/api/v1/threads/{thread['id']}/messages", 422, staff, json={"body": ""})
    call("get", f"/api/v1/threads/{thread['id']}", 200, customer)
    call("get", f"{space}/inbox-address", 200, customer)
    incident = call(
        "post",
        f"{space}/incidents",
        201,
        customer,
        json={"title": "No puedo subir", "body": "Error", "priority": "high"},
    )
    call(
        "post",
        f"{space}/incidents",
        422,
        customer,
        json={"title": "x", "body": "y", "priority": "z"},
    )
    call("get", "/api/v1/incidents?status=open", 200, staff)
    call("get", "/api/v1/incidents?status=nada", 422, staff)
    call("get", f"/api/v1/incidents/{incident['id']}", 200, customer)
    call("patch", f"/api/v1/incidents/{incident['id']}", 403, customer, json={"priority": "low"})
    call("patch", f"/api/v1/incidents/{incident['id']}", 200, staff, json={"status": "in_progress"})
