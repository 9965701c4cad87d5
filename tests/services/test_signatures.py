"""The signing service: levels, order, jobs, validation before storing, alerts, long-term upkeep."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from portal_signing import PKI_PASSPHRASE, annual_accounts_pdf, next_totp
from portal_testing import enable_mfa

pytestmark = pytest.mark.usefixtures("signing_ready")


def _document(world, *, title: str = "Cuentas anuales 2025", category: str | None = None) -> Any:
    from app.extensions import db
    from app.services import documents

    document = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(annual_accounts_pdf()),
        filename="documento.pdf",
        title=title,
        category=category,
    )
    db.session.commit()
    return document


def _recovery_code(user) -> str:
    from app.extensions import db

    code = f"{secrets.token_hex(3)}-{secrets.token_hex(3)}"
    user.recovery_codes = [*(user.recovery_codes or []), hashlib.sha256(code.encode()).hexdigest()]
    db.session.commit()
    return code


def _sign(user, request, otp: str, **options: Any) -> Any:
    from app.extensions import db
    from app.services import signatures

    signer = signatures.sign(user, request.id, otp, **options)
    db.session.commit()  # the queued job runs now (inline in tests)
    db.session.expire_all()
    return signer


@pytest.mark.parametrize(
    ("title", "category", "level"),
    [
        ("Cuentas anuales 2025", "Cuentas anuales", "B-LTA"),
        ("Balance", "CUENTAS ANUALES (ejercicio 2025)", "B-LTA"),
        ("Cuentas Anuales 2025", None, "B-LTA"),
        ("Contrato de servicios", "Contratos", "B-T"),
        ("Cuentas anuales 2025", "Borradores", "B-T"),
    ],
)
def test_annual_accounts_default_to_b_lta(app, world, title, category, level):
    from app.services import signatures

    document = _document(world, title=title, category=category)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    assert request.level == level


def test_a_level_can_be_chosen_and_a_wrong_one_is_refused(app, world):
    from app.services import signatures
    from app.services.errors import ValidationFailed

    document = _document(world)
    chosen = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], level="b-lt"
    )
    assert chosen.level == "B-LT"
    other = _document(world, title="Otro")
    with pytest.raises(ValidationFailed) as refused:
        signatures.request_signatures(
            world.staff, other.id, signer_ids=[world.client_a.id], level="QES"
        )
    assert "level" in refused.value.errors


def test_bad_requests_are_refused_with_a_reason_per_field(app, world):
    from app.services import signatures
    from app.services.errors import AccessDenied, InvalidTransition, ValidationFailed

    document = _document(world)
    cases = [
        ({"signer_ids": []}, "signers"),
        ({"signer_ids": [world.client_a.id, world.client_a.id]}, "signers"),
        ({"signer_ids": [world.client_b.id]}, "signers"),  # cannot see the document
        ({"signer_ids": ["nobody"]}, "signers"),
        ({"signer_ids": [world.client_a.id], "due_date": "2000-01-01"}, "due_date"),
        ({"signer_ids": [world.client_a.id], "due_date": "mañana"}, "due_date"),
        ({"signer_ids": [world.client_a.id], "stamp_page": 9}, "stamp_page"),
        ({"signer_ids": [world.client_a.id], "stamp_position": "middle"}, "stamp_position"),
    ]
    for arguments, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            signatures.request_signatures(world.staff, document.id, **arguments)
        assert field in refused.value.errors, arguments
    with pytest.raises(AccessDenied):
        signatures.request_signatures(world.client_a, document.id, signer_ids=[world.staff.id])
    signatures.request_signatures(world.staff, document.id, signer_ids=[world.client_a.id])
    with pytest.raises(InvalidTransition):
        signatures.request_signatures(world.staff, document.id, signer_ids=[world.staff.id])


def test_any_order_lets_the_client_sign_first_and_certification_goes_to_the_first(app, world):
    from app.extensions import db
    from app.services import signature_evidence, signatures

    staff_secret = enable_mfa(world.staff)
    client_secret = enable_mfa(world.client_a)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff,
        document.id,
        signer_ids=[world.staff.id, world.client_a.id],
        any_order=True,
        certify=True,
        level="B-T",
    )
    db.session.commit()
    assert [s.status for s in request.signers] == ["pending", "pending"]

    _sign(world.client_a, request, pyotp.TOTP(client_secret).now())
    assert [s.status for s in request.signers] == ["pending", "signed"]
    assert request.status == "in_progress"
    _sign(world.staff, request, pyotp.TOTP(staff_secret).now())
    assert request.status == "completed"

    report = signature_evidence.validate_version(world.staff, document.id, 3)
    assert report.valid, report.reason
    assert [(s.field, s.certification) for s in report.signatures] == [
        ("Firma2", True),
        ("Firma1", False),
    ]


def test_a_redelivered_job_signs_nothing_twice(app, world):
    from app.extensions import db
    from app.services import signatures

    secret = enable_mfa(world.client_a)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], level="B-B"
    )
    db.session.commit()
    signer = _sign(world.client_a, request, pyotp.TOTP(secret).now())
    assert signer.status == "signed"
    versions = document.current_version_number

    assert signatures.perform_signature(signer.id) is False
    db.session.commit()
    db.session.expire_all()
    assert document.current_version_number == versions


def test_nothing_is_stored_when_the_signed_pdf_does_not_validate(app, world, monkeypatch):
    from app.extensions import db
    from app.services import pki, signatures

    secret = enable_mfa(world.client_a)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], level="B-B"
    )
    db.session.commit()
    real = pki.validate

    def distrusting(data: bytes) -> Any:
        from dataclasses import replace

        from signing.validate import Problem

        report = real(data)
        untrusted = Problem(
            "certificate_untrusted",
            "the signer's certificate is not trusted (no path)",
            {"whose": "signer", "indication": "no_path"},
        )
        signatures_ = tuple(
            replace(s, trusted=False, bottom_line=False, problems=(untrusted,))
            for s in report.signatures
        )
        return replace(
            report, valid=False, signatures=signatures_, reason="Firma1: Not valid: not trusted."
        )

    monkeypatch.setattr(pki, "validate", distrusting)
    signer = _sign(world.client_a, request, pyotp.TOTP(secret).now())

    assert signer.status == "pending"
    assert "no se ha guardado" in signer.last_error
    # the reason in the signer's words, not the library's English
    assert "el certificado del firmante no es de confianza" in signer.last_error
    assert "not trusted" not in signer.last_error
    assert document.current_version_number == 1
    assert request.status == "pending"
    assert signatures.job_status(signer) == "failed"


def test_a_newer_upload_stops_the_signing(app, world):
    from app.extensions import db
    from app.services import documents, signatures
    from app.services.errors import InvalidTransition

    secret = enable_mfa(world.client_a)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    documents.upload_version(
        world.staff, document.id, io.BytesIO(annual_accounts_pdf(1, "Otra")), filename="v2.pdf"
    )
    db.session.commit()
    with pytest.raises(InvalidTransition):
        signatures.sign(world.client_a, request.id, pyotp.TOTP(secret).now())


def test_an_emailed_code_stops_working_after_five_wrong_tries(app, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail
    from app.services import signatures

    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], level="B-B"
    )
    signatures.send_signature_code(world.client_a, request.id)
    db.session.commit()
    mail = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at.desc())).scalar()
    code = mail.subject.rsplit(" ", 1)[-1]
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(5):
        with pytest.raises(signatures.SecondFactorRejected):
            signatures.sign(world.client_a, request.id, wrong)
        db.session.commit()  # as the views do: the failed attempt counts
    with pytest.raises(signatures.SecondFactorRejected):
        signatures.sign(world.client_a, request.id, code)


def test_a_certificate_revoked_at_the_ca_is_refused_then_replaced(app, world, portal_pki: Any):
    from app.extensions import db
    from app.models import SignerCertificate
    from app.services import pki, signatures

    secret = enable_mfa(world.client_a)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id], level="B-T"
    )
    certificate = pki.current_certificate(world.client_a)
    db.session.commit()
    portal_pki.revoke(int(certificate.serial, 16), "key_compromise")  # behind the portal's back

    signer = _sign(world.client_a, request, pyotp.TOTP(secret).now())
    assert signer.status == "pending" and "revocado" in signer.last_error
    assert db.session.get(SignerCertificate, certificate.id).revoked_at is not None

    signer = _sign(world.client_a, request, _recovery_code(world.client_a))
    assert signer.status == "signed"
    assert signer.certificate_fingerprint != certificate.fingerprint_sha256
    assert db.session.query(SignerCertificate).count() == 2


def test_an_admin_revokes_a_signers_certificate(app, world, portal_pki: Any):
    from app.services import pki
    from app.services.errors import AccessDenied

    certificate = pki.current_certificate(world.client_a)
    with pytest.raises(AccessDenied):
        pki.revoke_certificate(world.staff, certificate.id)
    pki.revoke_certificate(world.admin, certificate.id, "superseded")
    assert portal_pki.is_revoked(int(certificate.serial, 16))
    assert pki.current_certificate(world.client_a).id != certificate.id


def test_overdue_requests_are_listed_with_whose_turn_it_is(app, world):
    from app.extensions import db
    from app.services import signatures

    late = signatures.request_signatures(
        world.staff,
        _document(world, title="Contrato").id,
        signer_ids=[world.staff.id, world.client_a.id],
        due_date=date.today() + timedelta(days=2),
    )
    later = signatures.request_signatures(
        world.staff,
        _document(world, title="Anexo").id,
        signer_ids=[world.client_a.id],
        due_date=date.today() + timedelta(days=3),
    )
    cancelled = signatures.request_signatures(
        world.staff, _document(world, title="Acta").id, signer_ids=[world.client_a.id]
    )
    cancelled.due_date = date.today() - timedelta(days=10)
    signatures.cancel_request(world.staff, cancelled.id)
    db.session.commit()

    found = signatures.overdue_signature_requests(date.today() + timedelta(days=5))

    assert [item.request.id for item in found] == [late.id, later.id]
    first = found[0]
    assert first.waiting_on == (world.staff,)
    assert first.created_by == world.staff and first.document.title == "Contrato"
    assert signatures.overdue_signature_requests(date.today()) == []


@pytest.fixture
def own_pki(tmp_path: Path, app, web_app) -> Any:
    """A PKI of this test alone (its TSA gets renewed)."""
    from app.services.pki import PKI_EXTENSION
    from signing import create_pki

    pki = create_pki(
        tmp_path / "own-pki",
        PKI_PASSPHRASE.encode(),
        organisation="Despacho de Pruebas SLP",
        base_url="http://localhost",
    )
    for application in (app, web_app):
        application.extensions[PKI_EXTENSION] = pki
    return pki


def test_b_lta_documents_get_a_new_archive_timestamp_before_the_last_expires(app, world, own_pki):
    from app.extensions import db
    from app.services import signature_evidence, signatures

    secret = enable_mfa(world.client_a)
    document = _document(world)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    _sign(world.client_a, request, pyotp.TOTP(secret).now())
    assert request.status == "completed" and request.level == "B-LTA"
    first_expiry = request.archive_expires_at
    assert first_expiry is not None and first_expiry > datetime.now(UTC) + timedelta(days=3000)
    # the last document timestamp's TSA certificate, as the validation before storing read it
    assert first_expiry == own_pki.tsa_certificate.not_valid_after_utc
    tsa_before = own_pki.tsa_certificate.serial_number

    assert signature_evidence.refresh_archive_timestamps() == 0  # years to go
    refreshed = signature_evidence.refresh_archive_timestamps(margin=timedelta(days=11 * 365))
    db.session.commit()
    db.session.expire_all()

    assert refreshed == 1
    assert own_pki.tsa_certificate.serial_number != tsa_before  # renewed to outlive the last
    assert document.current_version_number == 3
    assert document.current_version.source == "signature"
    assert request.current_version_number == 3
    assert request.archive_expires_at >= first_expiry
    report = signature_evidence.validate_version(world.staff, document.id, 3)
    assert report.valid, report.reason
    assert len(report.document_timestamps) == 2
    assert report.signatures[0].level == "B-LTA"


def test_the_firm_seal_signs_for_staff(app, web_app, world, portal_pki, monkeypatch):
    """The seal's wiring; the token itself is tested against SoftHSM2 in tests/signing.

    (SoftHSM2 reads its configuration once per process, so a second token directory
    in the same test run would hide the library tests' token.)
    """
    from app.extensions import db
    from app.services import pki, signature_evidence, signatures
    from signing import InternalCaSigner, Pkcs11Signer

    for application in (app, web_app):
        application.config.update(
            SEAL_PKCS11_LIB="/usr/lib/softhsm/libsofthsm2.so",
            SEAL_PKCS11_TOKEN="sello",
            SEAL_PKCS11_PIN="8642",
            SEAL_PKCS11_KEY_LABEL="seal",
        )
    configured = pki.seal_source()
    assert isinstance(configured, Pkcs11Signer) and configured.kind == "pkcs11"
    assert (configured._lib_path, configured._token_label, configured._key_label) == (
        "/usr/lib/softhsm/libsofthsm2.so",
        "sello",
        "seal",
    )
    seal = portal_pki.issue_signer_certificate(
        "Despacho de Pruebas SLP", None, organisation=portal_pki.organisation
    )
    monkeypatch.setattr(pki, "seal_source", lambda: InternalCaSigner(portal_pki, seal))

    staff_secret = enable_mfa(world.staff)
    document = _document(world, title="Certificado de retenciones")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.staff.id], level="B-T", certify=True
    )
    db.session.commit()
    signer = _sign(world.staff, request, pyotp.TOTP(staff_secret).now(), method="seal")
    assert signer.status == "signed", signer.last_error
    assert signer.method == "seal"
    assert signer.certificate_fingerprint == seal.fingerprint_sha256
    report = signature_evidence.validate_version(world.staff, document.id, 2)
    assert report.valid and report.signatures[0].signer == "Despacho de Pruebas SLP"


def test_a_seal_signature_needs_staff_and_a_configured_token(app, world):
    from app.services import signatures
    from app.services.errors import AccessDenied, ValidationFailed

    secret = enable_mfa(world.staff)
    document = _document(world, title="Contrato")
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.staff.id, world.client_a.id], any_order=True
    )
    with pytest.raises(ValidationFailed) as refused:
        signatures.sign(world.staff, request.id, next_totp(secret), method="seal")
    assert "method" in refused.value.errors
    with pytest.raises(AccessDenied):
        signatures.sign(world.client_a, request.id, "123456", method="seal")
