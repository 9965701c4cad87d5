"""The signing service: ordered signers, certification, second factor, validation before storing."""

from __future__ import annotations

import io

import pyotp
from portal_signing import annual_accounts_pdf
from portal_testing import enable_mfa


def _accounts(world, category: str = "Cuentas anuales") -> object:
    from app.extensions import db
    from app.services import documents

    document = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO(annual_accounts_pdf()),
        filename="cuentas-2025.pdf",
        title="Cuentas anuales 2025",
        category=category,
    )
    db.session.commit()
    return document


def test_annual_accounts_default_to_b_lta_and_the_client_signs(app, world, signing_ready):
    from app.extensions import db
    from app.models import DocumentVersion
    from app.services import signatures

    document = _accounts(world)
    secret = enable_mfa(world.client_a)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.client_a.id]
    )
    db.session.commit()
    assert request.level == "B-LTA"

    signatures.sign(world.client_a, request.id, pyotp.TOTP(secret).now())
    db.session.commit()  # the job runs now (inline in tests)
    db.session.expire_all()

    assert request.status == "completed"
    signer = request.signers[0]
    assert signer.status == "signed" and signer.certificate_fingerprint
    version = db.session.get(DocumentVersion, signer_version_id(document, signer))
    assert version.source == "signature"
    report = signatures.validate_version(world.staff, document.id, version.number)
    assert report.valid, report.reason
    assert report.signatures[0].level == "B-LTA"


def signer_version_id(document, signer) -> str:
    return next(v.id for v in document.versions if v.number == signer.result_version_number)
