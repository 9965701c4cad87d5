"""Signing and validation over the API (docs/api.md, "Signing and validation"), end to end."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from typing import Any

import pyotp
import pytest
from portal_signing import (
    annual_accounts_pdf,
    encrypted_pdf,
    next_totp,
    pdf_without_pages,
    pkcs12_bundle,
)
from portal_testing import IN_CI, api_token, enable_mfa

pytestmark = pytest.mark.usefixtures("signing_ready")


def _upload(client, headers, space_id: str, data: bytes, **form: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/spaces/{space_id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(data), form.pop("filename", "cuentas-2025.pdf")), **form},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _content(client, headers, document_id: str, number: int) -> bytes:
    response = client.get(
        f"/api/v1/documents/{document_id}/versions/{number}/content", headers=headers
    )
    assert response.status_code == 200
    return response.get_data()


def _outbox(app, address: str) -> list[Any]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail

    db.session.expire_all()
    mails = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
    return [mail for mail in mails if address in mail.to]


def recovery_code(user: Any) -> str:
    """Give the user one recovery code and return it: a second factor that is not time-bound."""
    import secrets

    from app.extensions import db

    code = f"{secrets.token_hex(3)}-{secrets.token_hex(3)}"
    user.recovery_codes = [*(user.recovery_codes or []), hashlib.sha256(code.encode()).hexdigest()]
    db.session.commit()
    return code


@pytest.fixture
def people(app, world) -> dict[str, Any]:
    """The firm's staff member and client A, both with TOTP, and their API tokens."""
    return {"staff_secret": enable_mfa(world.staff), "client_secret": enable_mfa(world.client_a)}


def _tokens(client, world, people) -> tuple[dict[str, str], dict[str, str]]:
    staff = api_token(client, world.staff, pyotp.TOTP(people["staff_secret"]).now())
    customer = api_token(client, world.client_a, pyotp.TOTP(people["client_secret"]).now())
    return staff, customer


def test_annual_accounts_signed_by_the_firm_then_the_client_with_certification(
    app, client, world, people, tmp_path
):
    staff, customer = _tokens(client, world, people)
    document = _upload(
        client,
        staff,
        world.space_a.id,
        annual_accounts_pdf(3),
        title="Cuentas anuales 2025",
        category="Cuentas anuales",
    )
    created = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={
            "signers": [{"user_id": world.staff.id}, {"user_id": world.client_a.id}],
            "certify": True,
            "due_date": "2099-06-30",
            "message": "Por favor, revise y firme las cuentas.",
        },
    )
    assert created.status_code == 201, created.get_json()
    request = created.get_json()
    assert request["level"] == "B-LTA"  # annual accounts
    assert request["status"] == "pending"
    assert [(s["user_id"], s["order"], s["status"]) for s in request["signers"]] == [
        (world.staff.id, 1, "pending"),
        (world.client_a.id, 2, "waiting"),
    ]
    assert _outbox(app, world.staff.email), "the first signer is told it is their turn"

    # the client cannot sign before the firm
    early = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign",
        headers=customer,
        json={"otp": next_totp(people["client_secret"])},
    )
    assert early.status_code == 409

    firm = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign",
        headers=staff,
        json={"otp": next_totp(people["staff_secret"])},
    )
    assert firm.status_code == 202, firm.get_json()
    job = firm.get_json()["job"]
    assert job["status"] == "done", job
    polled = client.get(f"/api/v1/jobs/{job['id']}", headers=staff).get_json()
    assert polled["status"] == "done" and polled["result"]["version"] == 2

    after_firm = client.get(f"/api/v1/signature-requests/{request['id']}", headers=customer)
    assert [s["status"] for s in after_firm.get_json()["signers"]] == ["signed", "pending"]
    assert any("firmar" in mail.subject for mail in _outbox(app, world.client_a.email))

    signed = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign",
        headers=customer,
        json={"otp": next_totp(people["client_secret"])},
    )
    assert signed.status_code == 202 and signed.get_json()["job"]["status"] == "done"
    final = signed.get_json()["request"]
    assert final["status"] == "completed"
    assert final["current_version"] == 3
    firm_signer, client_signer = final["signers"]
    assert client_signer["signed_sha256"] == firm_signer["result_sha256"]
    assert all(s["certificate_sha256"] and s["signed_at"] for s in final["signers"])
    assert _outbox(app, world.staff.email)[-1].subject.startswith("«Cuentas anuales 2025»")

    report = client.get(
        f"/api/v1/documents/{document['id']}/versions/3/validation", headers=customer
    ).get_json()
    assert report["valid"], report["reason"]
    first, second = report["signatures"]
    assert first["certification"] and first["modification_level"] == "form_filling"
    assert (first["signer"], second["signer"]) == (world.staff.name, world.client_a.name)
    assert [s["level"] for s in report["signatures"]] == ["B-LTA", "B-LTA"]
    for item in report["signatures"]:
        assert item["intact"] and item["valid"] and item["trusted"] and item["bottom_line"]
        assert item["coverage"] == "entire_revision" and item["timestamp"]

    # the versions: upload, then one per signature, each from the "signature" source
    versions = client.get(f"/api/v1/documents/{document['id']}/versions", headers=staff)
    assert [v["source"] for v in versions.get_json()["items"]] == [
        "signature",
        "signature",
        "upload",
    ]

    # poppler agrees the digests match (a second opinion only, never the gate)
    signed_pdf = _content(client, customer, document["id"], 3)
    if shutil.which("pdfsig") is None and IN_CI:
        pytest.fail("poppler's pdfsig is not installed (make test installs poppler-utils)")
    if shutil.which("pdfsig"):
        path = tmp_path / "signed.pdf"
        path.write_bytes(signed_pdf)
        poppler = subprocess.run(
            ["pdfsig", "-nocert", "-no-ocsp", str(path)], capture_output=True, text=True
        ).stdout
        assert poppler.count("Signature Validation: Signature is Valid.") >= 2, poppler

    # the evidence package
    response = client.get(f"/api/v1/signature-requests/{request['id']}/evidence", headers=customer)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = set(archive.namelist())
    assert {
        "signed.pdf",
        "validation-report.json",
        "validation-report.pdf",
        "audit-trail.json",
        "SHA256SUMS",
        "original.pdf",
        "request.json",
    } <= names
    assert archive.read("signed.pdf") == signed_pdf
    assert archive.read("validation-report.pdf").startswith(b"%PDF-")
    from pypdf import PdfReader

    worded = PdfReader(io.BytesIO(archive.read("validation-report.pdf"))).pages[0].extract_text()
    assert "Informe de validación de firmas" in worded and "Resultado: VÁLIDO" in worded
    sums = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    for name in names - {"SHA256SUMS"}:
        assert sums[name] == hashlib.sha256(archive.read(name)).hexdigest(), name
    assert json.loads(archive.read("validation-report.json"))["valid"] is True
    actions = [event["action"] for event in json.loads(archive.read("audit-trail.json"))]
    for action in ("signature_requested", "signature_authorised", "signature_signed"):
        assert action in actions
    assert actions.count("signature_signed") == 2
    assert "signature_request_completed" in actions
    summary = json.loads(archive.read("request.json"))
    assert all(s["ip"] for s in summary["signers"])  # where each signature was authorised


def test_a_replayed_code_is_refused(app, client, world, people):
    staff, customer = _tokens(client, world, people)
    requests = []
    for title in ("Contrato de arrendamiento", "Anexo al contrato"):
        document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title=title)
        created = client.post(
            f"/api/v1/documents/{document['id']}/signature-requests",
            headers=staff,
            json={"signers": [{"user_id": world.client_a.id}], "level": "B-B"},
        )
        assert created.get_json()["level"] == "B-B"
        requests.append(created.get_json()["id"])

    code = next_totp(people["client_secret"])
    first = client.post(
        f"/api/v1/signature-requests/{requests[0]}/sign", headers=customer, json={"otp": code}
    )
    assert first.status_code == 202 and first.get_json()["job"]["status"] == "done"
    replay = client.post(
        f"/api/v1/signature-requests/{requests[1]}/sign", headers=customer, json={"otp": code}
    )
    assert replay.status_code == 422
    assert "otp" in replay.get_json()["errors"]
    # a fresh factor signs (the next TOTP step is 30 s away: a recovery code, used once)
    fresh = client.post(
        f"/api/v1/signature-requests/{requests[1]}/sign",
        headers=customer,
        json={"otp": recovery_code(world.client_a)},
    )
    assert fresh.status_code == 202 and fresh.get_json()["job"]["status"] == "done"
    # and a signature cannot be made twice
    again = client.post(
        f"/api/v1/signature-requests/{requests[1]}/sign",
        headers=customer,
        json={"otp": "000000"},
    )
    assert again.status_code == 409


def test_an_emailed_code_signs_once_for_people_without_totp(app, client, world):
    from app.extensions import db

    staff = api_token(client, world.staff)
    customer = api_token(client, world.client_a)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Contrato")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}]},
    ).get_json()
    assert request["level"] == "B-T"

    wrong = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign", headers=customer, json={"otp": "123456"}
    )
    assert wrong.status_code == 422  # no code was sent yet

    sent = client.post(f"/api/v1/signature-requests/{request['id']}/email-code", headers=customer)
    assert sent.status_code == 202
    mail = _outbox(app, world.client_a.email)[-1]
    code = mail.subject.rsplit(" ", 1)[-1]
    assert code.isdigit() and code in mail.body_text
    too_soon = client.post(
        f"/api/v1/signature-requests/{request['id']}/email-code", headers=customer
    )
    assert too_soon.status_code == 429

    signed = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign", headers=customer, json={"otp": code}
    )
    assert signed.status_code == 202, signed.get_json()
    assert signed.get_json()["request"]["status"] == "completed"
    db.session.expire_all()
    from app.models import SignatureCode

    assert db.session.query(SignatureCode).one().used_at is not None


def test_declining_needs_a_reason_and_ends_the_request(app, client, world, people):
    staff, customer = _tokens(client, world, people)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Contrato")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.staff.id}, {"user_id": world.client_a.id}]},
    ).get_json()
    url = f"/api/v1/signature-requests/{request['id']}"

    assert client.post(f"{url}/decline", headers=customer, json={}).status_code == 422
    for not_text in (["No"], {"text": "No"}, 5, "No\x00"):
        refused = client.post(f"{url}/decline", headers=customer, json={"reason": not_text})
        assert refused.status_code == 422 and "reason" in refused.get_json()["errors"], not_text
    declined = client.post(
        f"{url}/decline",
        headers=customer,
        json={"reason": "El importe de la cláusula 3 no es el pactado."},
    )
    assert declined.status_code == 200
    body = declined.get_json()
    assert body["status"] == "declined"
    assert body["signers"][1]["decline_reason"].startswith("El importe")
    mail = _outbox(app, world.staff.email)[-1]
    assert "no firma" in mail.subject and "cláusula 3" in mail.body_text
    late = client.post(
        f"{url}/sign", headers=staff, json={"otp": next_totp(people["staff_secret"])}
    )
    assert late.status_code == 409


def test_a_client_signer_on_an_internal_document_is_refused(app, client, world):
    staff = api_token(client, world.staff)
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/documents",
        headers=staff,
        data={
            "file": (io.BytesIO(annual_accounts_pdf(1)), "informe.pdf"),
            "visibility": "internal",
        },
        content_type="multipart/form-data",
    )
    document = response.get_json()
    refused = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.staff.id}, {"user_id": world.client_a.id}]},
    )
    assert refused.status_code == 422
    assert "signers" in refused.get_json()["errors"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (encrypted_pdf(), "contraseña"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "no es un PDF válido"),
        (pdf_without_pages(), "no tiene páginas"),
        (b"", "vacío"),
    ],
    ids=["encrypted", "broken", "no pages", "empty"],
)
def test_unusable_pdfs_are_a_clear_422_never_a_500(app, client, world, content, message):
    staff = api_token(client, world.staff)
    validated = client.post(
        "/api/v1/validate",
        headers=staff,
        data={"file": (io.BytesIO(content), "raro.pdf")},
        content_type="multipart/form-data",
    )
    assert validated.status_code == 422
    assert message in validated.get_json()["errors"]["file"]
    if not content:
        return
    document = _upload(client, staff, world.space_a.id, content, filename="raro.pdf")
    refused = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}]},
    )
    assert refused.status_code == 422
    assert message in refused.get_json()["errors"]["document"]
    report = client.get(f"/api/v1/documents/{document['id']}/versions/1/validation", headers=staff)
    assert report.status_code == 422


def _signed_once(client, world, people) -> tuple[str, bytes, dict[str, str]]:
    staff, customer = _tokens(client, world, people)
    document = _upload(
        client, staff, world.space_a.id, annual_accounts_pdf(2), title="Cuentas anuales 2025"
    )
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}], "level": "B-T"},
    ).get_json()
    signed = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign",
        headers=customer,
        json={"otp": next_totp(people["client_secret"])},
    )
    assert signed.get_json()["job"]["status"] == "done"
    return document["id"], _content(client, customer, document["id"], 2), customer


def _validate(client, headers, data: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/validate",
        headers=headers,
        data={"file": (io.BytesIO(data), "firmado.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_tampered_uploads_are_not_valid(app, client, world, people):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    _document_id, signed, customer = _signed_once(client, world, people)
    assert _validate(client, customer, signed)["valid"]

    # a byte flipped inside the signed range
    position = signed.index(b"Cuentas anuales 2025 - 2") + len(b"Cuentas anuales 202")
    flipped = bytearray(signed)
    flipped[position] = ord("6")
    report = _validate(client, customer, bytes(flipped))
    assert not report["valid"] and not report["signatures"][0]["intact"]
    # machine codes for integrations; people read the reasons worded in their language
    assert [p["code"] for p in report["signatures"][0]["problems"]] == ["digest_mismatch"]

    # an incremental update that rewrites a signed page (pdfsig misses this one)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref, _resources = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(
            stream_data=b"BT /F1 20 Tf 72 760 Td (PERDIDAS DE 2.000.000 EUR) Tj ET"
        )
    )
    writer.update_container(page)
    rewritten = io.BytesIO()
    writer.write(rewritten)
    report = _validate(client, customer, rewritten.getvalue())
    assert not report["valid"]
    (signature,) = report["signatures"]
    assert signature["intact"] and signature["modification_level"] == "other"
    assert not signature["bottom_line"]
    assert "changes_beyond_form_filling" in [p["code"] for p in signature["problems"]]


def test_own_pkcs12_certificate_signs_now_and_is_not_kept(
    app, client, world, people, signing_ready
):
    from app.extensions import db
    from app.models import SignerCertificate

    staff, customer = _tokens(client, world, people)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Contrato")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}], "level": "B-LT"},
    ).get_json()
    url = f"/api/v1/signature-requests/{request['id']}/sign"
    p12, issued = pkcs12_bundle(
        signing_ready, "Ana Cliente (FNMT)", world.client_a.email, "clave-p12"
    )

    def sign(password: str, data: bytes = p12, otp: str | None = None) -> Any:
        return client.post(
            url,
            headers=customer,
            data={
                "otp": otp or next_totp(people["client_secret"]),
                "password": password,
                "pkcs12": (io.BytesIO(data), "yo.p12"),
            },
            content_type="multipart/form-data",
        )

    wrong = sign("no-es-esta")
    assert wrong.status_code == 422 and "password" in wrong.get_json()["errors"]
    garbage = sign("clave-p12", b"not a certificate at all")
    assert garbage.status_code == 422 and "pkcs12" in garbage.get_json()["errors"]

    done = sign("clave-p12")
    assert done.status_code == 200, done.get_json()
    (signer,) = done.get_json()["signers"]
    assert signer["status"] == "signed" and signer["method"] == "pkcs12"
    assert signer["certificate_sha256"] == issued.fingerprint_sha256
    db.session.expire_all()
    assert db.session.query(SignerCertificate).count() == 0  # nothing issued, nothing kept


def test_a_revoked_certificate_is_refused_at_signing_and_reported_at_validation(
    app, client, world, people, signing_ready
):
    staff, customer = _tokens(client, world, people)
    # signed with a certificate that is revoked afterwards: validation reports it
    p12, issued = pkcs12_bundle(signing_ready, "Firmante Revocado", "revocado@example.com", "pw")
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Acta")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}], "level": "B-B"},
    ).get_json()
    signed = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign",
        headers=customer,
        data={
            "otp": next_totp(people["client_secret"]),
            "password": "pw",
            "pkcs12": (io.BytesIO(p12), "yo.p12"),
        },
        content_type="multipart/form-data",
    )
    assert signed.status_code == 200, signed.get_json()
    signing_ready.revoke(issued.serial, "key_compromise")
    report = client.get(
        f"/api/v1/documents/{document['id']}/versions/2/validation", headers=customer
    ).get_json()
    assert not report["valid"]
    assert report["signatures"][0]["revoked"]
    revoked = [p for p in report["signatures"][0]["problems"] if p["code"] == "certificate_revoked"]
    assert revoked and revoked[0]["details"]["revocation_reason"] == "key_compromise"

    # and the same certificate is refused for a new signature
    other = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Acta 2")
    second = client.post(
        f"/api/v1/documents/{other['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}], "level": "B-B"},
    ).get_json()
    refused = client.post(
        f"/api/v1/signature-requests/{second['id']}/sign",
        headers=customer,
        data={
            "otp": recovery_code(world.client_a),
            "password": "pw",
            "pkcs12": (io.BytesIO(p12), "yo.p12"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "revocado" in refused.get_json()["errors"]["signature"]
    versions = client.get(f"/api/v1/documents/{other['id']}/versions", headers=staff).get_json()
    assert len(versions["items"]) == 1  # nothing stored


def test_the_ca_crl_tsa_and_ocsp_are_public(app, client, signing_ready):
    from asn1crypto import tsp
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    ca = client.get("/pki/ca.der")
    assert ca.status_code == 200 and ca.mimetype == "application/pkix-cert"
    certificate = x509.load_der_x509_certificate(ca.get_data())
    crl = client.get("/pki/crl.der")
    assert x509.load_der_x509_crl(crl.get_data()).issuer == certificate.subject

    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"acta").digest(),
            },
            "cert_req": True,
        }
    ).dump()
    reply = client.post(
        "/pki/tsa", data=query, headers={"Content-Type": "application/timestamp-query"}
    )
    assert reply.status_code == 200 and reply.mimetype == "application/timestamp-reply"
    assert tsp.TimeStampResp.load(reply.get_data())["status"]["status"].native == "granted"
    assert client.post("/pki/tsa", data=query, content_type="text/plain").status_code == 415

    issued = signing_ready.issue_signer_certificate("Consulta OCSP", None)
    ocsp_request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(issued.certificate, certificate, hashes.SHA1())  # noqa: S303 - OCSP's usual hash
        .build()
    )
    answer = client.post(
        "/pki/ocsp",
        data=ocsp_request.public_bytes(serialization_der()),
        headers={"Content-Type": "application/ocsp-request"},
    )
    response = ocsp.load_der_ocsp_response(answer.get_data())
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD


def serialization_der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_people_who_cannot_see_the_document_do_not_see_its_requests(app, client, world):
    staff = api_token(client, world.staff)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Contrato")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}]},
    ).get_json()
    stranger = api_token(client, world.client_b)
    for path in ("", "/evidence"):
        answer = client.get(f"/api/v1/signature-requests/{request['id']}{path}", headers=stranger)
        assert answer.status_code == 404
    signed = client.post(
        f"/api/v1/signature-requests/{request['id']}/sign", headers=stranger, json={"otp": "1"}
    )
    assert signed.status_code == 404


def test_the_stamps_and_fields_are_where_they_were_asked(app, client, world, people):
    from pypdf import PdfReader

    staff, customer = _tokens(client, world, people)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(3), title="Contrato")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={
            "signers": [{"user_id": world.staff.id}, {"user_id": world.client_a.id}],
            "level": "B-T",
            "certify": True,
            "stamp": {"page": 2, "position": "top"},
        },
    ).get_json()
    assert (
        client.post(
            f"/api/v1/signature-requests/{request['id']}/sign",
            headers=staff,
            json={"otp": next_totp(people["staff_secret"])},
        ).get_json()["job"]["status"]
        == "done"
    )
    certified = PdfReader(io.BytesIO(_content(client, staff, document["id"], 2)))
    widgets = {
        str(annotation.get_object()["/T"]): [float(v) for v in annotation.get_object()["/Rect"]]
        for annotation in certified.pages[1]["/Annots"]
    }
    # both fields on page 2 near the top; the client's was created up front by the firm
    assert set(widgets) == {"Firma1", "Firma2"}
    assert all(rect[3] > 700 for rect in widgets.values())
    assert widgets["Firma1"][2] <= widgets["Firma2"][0]  # side by side, not on top of each other
    assert "/Annots" not in certified.pages[0] and "/Annots" not in certified.pages[2]


def test_a_document_people_are_asked_to_sign_is_not_deleted_until_the_request_is_cancelled(
    app, client, world, people
):
    staff, customer = _tokens(client, world, people)
    document = _upload(client, staff, world.space_a.id, annual_accounts_pdf(1), title="Encargo")
    request = client.post(
        f"/api/v1/documents/{document['id']}/signature-requests",
        headers=staff,
        json={"signers": [{"user_id": world.client_a.id}]},
    ).get_json()
    refused = client.delete(f"/api/v1/documents/{document['id']}", headers=staff)
    assert refused.status_code == 409 and "firma" in refused.get_json()["detail"]
    assert client.get(f"/api/v1/documents/{document['id']}", headers=customer).status_code == 200
    cancelled = client.post(f"/api/v1/signature-requests/{request['id']}/cancel", headers=staff)
    assert cancelled.status_code == 200
    assert client.delete(f"/api/v1/documents/{document['id']}", headers=staff).status_code == 204
    assert client.get(f"/api/v1/documents/{document['id']}", headers=customer).status_code == 404
