"""The signing pages: plain-language errors that keep what was typed, and the happy paths."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from portal_signing import annual_accounts_pdf, encrypted_pdf
from portal_testing import csrf_token, web_login

pytestmark = pytest.mark.usefixtures("signing_ready")


def _contract(world) -> object:
    from app.extensions import db
    from app.services import documents

    document = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(annual_accounts_pdf(1, "Contrato")),
        filename="contrato-firma.pdf",
        title="Contrato de obra",
    )
    db.session.commit()
    return document


def test_the_document_page_offers_signatures_to_staff_only(app, client, world):
    document = _contract(world)
    web_login(client, world.staff)
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert "Solicitar firmas" in page and "Primer firmante" in page
    assert world.client_a.name in page  # she can see the document, so she can sign it
    assert world.client_b.name not in page

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    web_login(client, world.client_a)
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert "Firmas" in page and "Primer firmante" not in page


def test_a_request_without_signers_keeps_what_was_typed(app, client, world):
    document = _contract(world)
    web_login(client, world.staff)
    token = csrf_token(client, f"/signatures/documents/{document.id}/new")
    response = client.post(
        f"/signatures/documents/{document.id}/new",
        data={
            "sig-csrf_token": token,
            "sig-level": "B-LT",
            "sig-stamp_position": "bottom",
            "sig-message": "Firme antes del viernes",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Indique al menos una persona que deba firmar." in page
    assert "Firme antes del viernes" in page
    assert re.search(r'<option selected value="B-LT">|<option value="B-LT" selected>', page)


def test_signing_pages_explain_wrong_codes_and_missing_reasons(app, client, world):
    from app.extensions import db
    from app.services import signatures

    document = _contract(world)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    web_login(client, world.client_a)
    page = client.get(f"/signatures/{request.id}").get_data(as_text=True)
    assert "Enviarme un código por e-mail" in page  # she has no TOTP
    assert f"/signatures/{request.id}/pdf" in page

    token = csrf_token(client, f"/signatures/{request.id}")
    wrong = client.post(
        f"/signatures/{request.id}/sign",
        data={"sign-csrf_token": token, "sign-otp": "123456"},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    assert "Código incorrecto, caducado o ya utilizado." in wrong.get_data(as_text=True)

    no_reason = client.post(
        f"/signatures/{request.id}/decline", data={"dec-csrf_token": token, "dec-reason": ""}
    )
    assert no_reason.status_code == 422

    sent = client.post(
        f"/signatures/{request.id}/email-code", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Le hemos enviado un código por e-mail" in sent.get_data(as_text=True)


def test_the_validation_page_reports_or_explains(app, client, world):
    web_login(client, world.client_a)
    token = csrf_token(client, "/signatures/validate")
    refused = client.post(
        "/signatures/validate",
        data={"csrf_token": token, "file": (io.BytesIO(encrypted_pdf()), "cifrado.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "protegido con contraseña" in refused.get_data(as_text=True)

    unsigned = client.post(
        "/signatures/validate",
        data={"csrf_token": token, "file": (io.BytesIO(annual_accounts_pdf(1)), "sin-firmar.pdf")},
        content_type="multipart/form-data",
    )
    assert unsigned.status_code == 200
    page = unsigned.get_data(as_text=True)
    assert "No válido." in page and "sin-firmar.pdf" in page


def _tampered_signed_pdf(pki) -> bytes:
    """A PDF signed by a certificate of the portal's CA, then one byte of a page changed."""
    from signing import InternalCaSigner, SignOptions, sign_pdf

    issued = pki.issue_signer_certificate("Ana Firmante", "ana@example.com")
    signed = sign_pdf(annual_accounts_pdf(2), InternalCaSigner(pki, issued), SignOptions())
    position = signed.index(b"Cuentas anuales 2025 - 2") + len(b"Cuentas anuales 202")
    tampered = bytearray(signed)
    tampered[position] = ord("6")
    return bytes(tampered)


@pytest.mark.parametrize(
    ("locale", "expected", "absent"),
    [
        ("es", "los datos firmados se han alterado (la huella no coincide)", "digest mismatch"),
        ("en", "the signed data has been altered (the digest does not match)", "huella"),
    ],
)
def test_validation_reasons_are_in_the_readers_language(
    app, client, world, signing_ready, locale, expected, absent
):
    from app.extensions import db

    world.client_a.locale = locale
    db.session.commit()
    web_login(client, world.client_a)
    token = csrf_token(client, "/signatures/validate")
    answer = client.post(
        "/signatures/validate",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(_tampered_signed_pdf(signing_ready)), "alterado.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert expected in page
    assert absent not in page.lower()


def _pkcs12_of(certificate, password: str) -> bytes:
    """The portal-issued certificate and its key as a .p12 file (as if it had been exported)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from portal_signing import PKI_PASSPHRASE

    key = serialization.load_pem_private_key(certificate.key_pem, PKI_PASSPHRASE.encode())
    return pkcs12.serialize_key_and_certificates(
        b"exported",
        key,  # type: ignore[arg-type]
        x509.load_pem_x509_certificate(certificate.certificate_pem),
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )


def test_an_admin_revokes_a_signers_certificate_with_a_reason(app, web_app, client, world):
    from portal_signing import next_totp
    from portal_testing import enable_mfa
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditEvent
    from app.services import pki, signatures

    # client A signs a contract with the certificate the portal issued her
    secret = enable_mfa(world.client_a)
    signer_client = web_app.test_client()
    web_login(signer_client, world.client_a, secret)  # the current code; signing uses later ones
    signed_document = _contract(world)
    request = signatures.request_signatures(
        world.staff, signed_document.id, signer_ids=[world.client_a.id], level="B-T"
    )
    db.session.commit()
    signatures.sign(world.client_a, request.id, next_totp(secret, 1))
    db.session.commit()
    certificate = pki.current_certificate(world.client_a)
    db.session.commit()

    web_login(client, world.admin)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "/admin/certificates" in listing
    page = client.get("/admin/certificates").get_data(as_text=True)
    assert world.client_a.name in page and certificate.serial in page and "Revocar" in page
    url = f"/admin/certificates/{certificate.id}/revoke"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert certificate.fingerprint_sha256 in confirm.get_data(as_text=True)

    # no reason and no confirmation: nothing happens, what was typed stays
    token = csrf_token(client, url)
    incomplete = client.post(
        url, data={"csrf_token": token, "reason": "", "note": "Portátil robado"}
    )
    assert incomplete.status_code == 422
    text = incomplete.get_data(as_text=True)
    assert "Elija un motivo." in text and "Confirme que quiere revocar el certificado." in text
    assert "Portátil robado" in text
    assert not pki.get_pki().is_revoked(int(certificate.serial, 16))

    done = client.post(
        url,
        data={
            "csrf_token": token,
            "reason": "key_compromise",
            "note": "Portátil robado",
            "confirm": "y",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert f"Certificado de {world.client_a.name} revocado" in text
    assert "Revocado el" in text and "clave comprometida" in text
    again = client.post(url, data={"csrf_token": token, "reason": "superseded", "confirm": "y"})
    assert again.status_code == 409 and "ya está revocado" in again.get_data(as_text=True)
    (event,) = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "certificate_revoked")
    ).scalars()
    assert event.actor_id == world.admin.id
    assert event.details["reason"] == "key_compromise"
    assert event.details["note"] == "Portátil robado"

    # signing with that certificate is refused, with a clear message, and nothing is stored
    other = _contract(world)
    second = signatures.request_signatures(
        world.staff, other.id, signer_ids=[world.client_a.id], level="B-T"
    )
    recovery = "0123ab-4567cd"  # a recovery code: a second factor that is not time-bound
    world.client_a.recovery_codes = [hashlib.sha256(recovery.encode()).hexdigest()]
    db.session.commit()
    token = csrf_token(signer_client, f"/signatures/{second.id}")
    refused = signer_client.post(
        f"/signatures/{second.id}/sign",
        data={
            "sign-csrf_token": token,
            "sign-otp": recovery,
            "sign-password": "exportada",
            "sign-pkcs12": (io.BytesIO(_pkcs12_of(certificate, "exportada")), "ana.p12"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "El certificado del firmante está revocado: no se puede firmar con él." in (
        refused.get_data(as_text=True)
    )
    db.session.expire_all()
    assert len(other.versions) == 1

    # the contract signed before now validates as not valid, saying why
    report = signer_client.get(
        f"/signatures/documents/{signed_document.id}/versions/2/report"
    ).get_data(as_text=True)
    assert "No válido." in report
    assert "el certificado del firmante fue revocado el" in report
    assert "clave comprometida" in report
