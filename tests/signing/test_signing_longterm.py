"""B-LTA evidence outlives the signer's certificate and, refreshed, the TSA's certificate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from signing import (
    InternalCaSigner,
    Pki,
    SignOptions,
    ValidationReport,
    add_document_timestamp,
    create_pki,
    last_timestamp_expiry,
    sign_pdf,
    validate_pdf,
)

YEAR = timedelta(days=365)


def _validate(data: bytes, pki: Pki) -> ValidationReport:
    material = pki.validation_material()  # the CA's CRL as published at that time
    return validate_pdf(data, trust_roots=material.trust_roots, crls=material.crls)


@pytest.fixture
def own_pki(tmp_path: Path) -> Pki:
    return create_pki(
        tmp_path, b"long-term", organisation="Archivo SL", base_url="https://archivo.test"
    )


def test_b_lta_stays_valid_after_the_signer_certificate_expires(
    own_pki: Pki, make_pdf: Callable[..., bytes]
) -> None:
    start = datetime.now(UTC)
    source = InternalCaSigner(own_pki, own_pki.issue_signer_certificate("Cliente", None))
    signed_lta = sign_pdf(
        make_pdf(1),
        source,
        SignOptions(
            level="B-LTA",
            timestamper=own_pki.timestamper(),
            validation=own_pki.validation_material(),
        ),
    )
    signed_bt = sign_pdf(
        make_pdf(1), source, SignOptions(level="B-T", timestamper=own_pki.timestamper())
    )

    with time_machine.travel(start + 3 * YEAR):  # the signer's certificate expired a year ago
        report = _validate(signed_lta, own_pki)
        assert report.valid, report.reason
        (signature,) = report.signatures
        assert signature.long_term_validation and signature.level == "B-LTA"

        without_revocation_data = _validate(signed_bt, own_pki)
        assert not without_revocation_data.valid
        assert "not trusted" in (without_revocation_data.reason or "")


def test_refreshed_timestamp_chain_outlives_the_first_tsa_certificate(
    own_pki: Pki, make_pdf: Callable[..., bytes]
) -> None:
    start = datetime.now(UTC)
    source = InternalCaSigner(own_pki, own_pki.issue_signer_certificate("Cliente", None))
    signed = sign_pdf(
        make_pdf(1),
        source,
        SignOptions(
            level="B-LTA",
            timestamper=own_pki.timestamper(),
            validation=own_pki.validation_material(),
        ),
    )
    first_expiry = last_timestamp_expiry(signed)
    assert first_expiry is not None and first_expiry < start + 11 * YEAR

    with time_machine.travel(first_expiry - YEAR):  # the periodic task, in good time
        own_pki.renew_tsa()
        refreshed = add_document_timestamp(
            signed, own_pki.timestamper(), own_pki.validation_material()
        )
    assert last_timestamp_expiry(refreshed) == own_pki.tsa_certificate.not_valid_after_utc

    with time_machine.travel(first_expiry + YEAR):
        report = _validate(refreshed, own_pki)
        assert report.valid, report.reason
        old, new = report.document_timestamps
        assert old.long_term_validation and not new.long_term_validation
        assert report.signatures[0].level == "B-LTA"
        assert not _validate(signed, own_pki).valid  # without the refresh it would have lapsed
