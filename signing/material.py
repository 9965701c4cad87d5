"""Trust roots, CRLs and OCSP responses that signing and validation rely on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import ValidationContext

from signing.errors import InvalidCredentials

__all__ = [
    "CertificateLike",
    "ValidationMaterial",
    "load_certificates",
    "load_crl",
]

CertificateLike: TypeAlias = bytes | x509.Certificate | asn1_x509.Certificate
"""A certificate as DER or PEM bytes (a PEM bundle is allowed), or a parsed object."""


@dataclass(frozen=True)
class ValidationMaterial:
    """What a validator may rely on: trust roots and revocation data, no fetching by default."""

    trust_roots: tuple[CertificateLike, ...]
    crls: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    intermediates: tuple[CertificateLike, ...] = ()
    allow_fetching: bool = False


def load_certificates(data: CertificateLike) -> list[asn1_x509.Certificate]:
    """Parse one certificate, or every certificate of a PEM bundle, into asn1crypto objects."""
    if isinstance(data, asn1_x509.Certificate):
        return [data]
    if isinstance(data, x509.Certificate):
        return [asn1_x509.Certificate.load(data.public_bytes(Encoding.DER))]
    try:
        if pem.detect(data):
            return [
                asn1_x509.Certificate.load(der)
                for kind, _headers, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"
            ]
        certificate = asn1_x509.Certificate.load(data)
        certificate.native  # noqa: B018 - forces a full parse so garbage fails here
        return [certificate]
    except (ValueError, TypeError) as exc:
        raise InvalidCredentials(f"Unreadable certificate: {exc}") from exc


def load_crl(data: bytes) -> asn1_crl.CertificateList:
    """Parse a DER or PEM CRL."""
    try:
        if pem.detect(data):
            _kind, _headers, data = pem.unarmor(data)
        crl = asn1_crl.CertificateList.load(data)
        crl["tbs_cert_list"]["issuer"].native  # noqa: B018 - forces a parse
        return crl
    except (ValueError, TypeError) as exc:
        raise InvalidCredentials(f"Unreadable CRL: {exc}") from exc


def _flatten(items: Iterable[CertificateLike]) -> list[asn1_x509.Certificate]:
    return [certificate for item in items for certificate in load_certificates(item)]


def build_validation_context(
    material: ValidationMaterial,
    *,
    extra_certs: Iterable[asn1_x509.Certificate] = (),
    extra_crls: Iterable[asn1_crl.CertificateList] = (),
    extra_ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
    moment: datetime | None = None,
) -> ValidationContext:
    """Build a hard-fail pyHanko validation context from the material (internal helper)."""
    return ValidationContext(
        trust_roots=_flatten(material.trust_roots),
        other_certs=[*_flatten(material.intermediates), *extra_certs],
        crls=[*(load_crl(item) for item in material.crls), *extra_crls],
        ocsps=[
            *(asn1_ocsp.OCSPResponse.load(item) for item in material.ocsp_responses),
            *extra_ocsps,
        ],
        allow_fetching=material.allow_fetching,
        revocation_mode="hard-fail",
        moment=moment,
    )
