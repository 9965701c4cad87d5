"""PAdES signing, validation and evidence for the portal (no web or database dependencies)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signing.errors import (
        CertificateNotTrusted,
        CertificateRevoked,
        EmptyPdf,
        EncryptedPdf,
        FieldAlreadySigned,
        FieldNotFound,
        InvalidCredentials,
        InvalidPdf,
        PkiError,
        SignerUnavailable,
        SigningError,
        TimestampUnavailable,
        WrongPassword,
    )
    from signing.evidence import build_evidence_zip
    from signing.geometry import (
        STAMP_GAP,
        STAMP_HEIGHT,
        STAMP_MARGIN,
        STAMP_WIDTH,
        page_boxes,
        stamp_box,
    )
    from signing.material import ValidationMaterial
    from signing.pki import IssuedSigner, Pki, RevokedEntry, create_pki, load_pki
    from signing.sign import (
        BoxLayout,
        FieldSpec,
        Level,
        PageBox,
        SignOptions,
        StampSpec,
        add_document_timestamp,
        last_timestamp_expiry,
        sign_pdf,
    )
    from signing.sources import (
        InternalCaSigner,
        Pkcs11Signer,
        Pkcs12Signer,
        SignerSource,
        build_signer_source,
        register_signer_source,
        signer_source_kinds,
    )
    from signing.validate import (
        SignatureReport,
        TimestampReport,
        ValidationReport,
        render_report_pdf,
        validate_pdf,
    )

# Each public name and the submodule that defines it. A submodule is imported only
# when one of its names is first used, so that importing the package stays cheap.
_SOURCES = {
    "CertificateNotTrusted": "signing.errors",
    "CertificateRevoked": "signing.errors",
    "EmptyPdf": "signing.errors",
    "EncryptedPdf": "signing.errors",
    "FieldAlreadySigned": "signing.errors",
    "FieldNotFound": "signing.errors",
    "InvalidCredentials": "signing.errors",
    "InvalidPdf": "signing.errors",
    "PkiError": "signing.errors",
    "SignerUnavailable": "signing.errors",
    "SigningError": "signing.errors",
    "TimestampUnavailable": "signing.errors",
    "WrongPassword": "signing.errors",
    "build_evidence_zip": "signing.evidence",
    "STAMP_GAP": "signing.geometry",
    "STAMP_HEIGHT": "signing.geometry",
    "STAMP_MARGIN": "signing.geometry",
    "STAMP_WIDTH": "signing.geometry",
    "page_boxes": "signing.geometry",
    "stamp_box": "signing.geometry",
    "ValidationMaterial": "signing.material",
    "IssuedSigner": "signing.pki",
    "Pki": "signing.pki",
    "RevokedEntry": "signing.pki",
    "create_pki": "signing.pki",
    "load_pki": "signing.pki",
    "BoxLayout": "signing.sign",
    "FieldSpec": "signing.sign",
    "Level": "signing.sign",
    "PageBox": "signing.sign",
    "SignOptions": "signing.sign",
    "StampSpec": "signing.sign",
    "add_document_timestamp": "signing.sign",
    "last_timestamp_expiry": "signing.sign",
    "sign_pdf": "signing.sign",
    "InternalCaSigner": "signing.sources",
    "Pkcs11Signer": "signing.sources",
    "Pkcs12Signer": "signing.sources",
    "SignerSource": "signing.sources",
    "build_signer_source": "signing.sources",
    "register_signer_source": "signing.sources",
    "signer_source_kinds": "signing.sources",
    "SignatureReport": "signing.validate",
    "TimestampReport": "signing.validate",
    "ValidationReport": "signing.validate",
    "render_report_pdf": "signing.validate",
    "validate_pdf": "signing.validate",
}

__all__ = [
    "BoxLayout",
    "CertificateNotTrusted",
    "CertificateRevoked",
    "EmptyPdf",
    "EncryptedPdf",
    "FieldAlreadySigned",
    "FieldNotFound",
    "FieldSpec",
    "InternalCaSigner",
    "InvalidCredentials",
    "InvalidPdf",
    "IssuedSigner",
    "Level",
    "PageBox",
    "Pkcs11Signer",
    "Pkcs12Signer",
    "Pki",
    "PkiError",
    "RevokedEntry",
    "STAMP_GAP",
    "STAMP_HEIGHT",
    "STAMP_MARGIN",
    "STAMP_WIDTH",
    "SignOptions",
    "SignatureReport",
    "SignerSource",
    "SignerUnavailable",
    "SigningError",
    "StampSpec",
    "TimestampReport",
    "TimestampUnavailable",
    "ValidationMaterial",
    "ValidationReport",
    "WrongPassword",
    "add_document_timestamp",
    "build_evidence_zip",
    "build_signer_source",
    "create_pki",
    "last_timestamp_expiry",
    "load_pki",
    "page_boxes",
    "register_signer_source",
    "render_report_pdf",
    "sign_pdf",
    "signer_source_kinds",
    "stamp_box",
    "validate_pdf",
]


def __getattr__(name: str) -> object:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
