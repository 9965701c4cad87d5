"""The portal's internal CA and TSA, signers' certificates and the material validation trusts.

The :class:`signing.Pki` decrypts its keys once; it is loaded once per process
and kept in ``app.extensions`` so that a warm worker never re-reads the keys per
signature.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.config import pki_passphrase
from app.extensions import db
from app.models import SignerCertificate, User
from app.services import audit
from app.services.access import require_admin
from app.services.errors import InvalidTransition, NotFound, ValidationFailed
from app.services.runtime import setting

if TYPE_CHECKING:
    from signing import (
        InternalCaSigner,
        Pki,
        SignerSource,
        ValidationMaterial,
        ValidationReport,
    )

PKI_EXTENSION = "portal_pki"
_load_lock = threading.Lock()
# A certificate this close to its end is replaced rather than used for a new signature.
_RENEW_BEFORE = timedelta(days=7)
_trust_roots_cache: dict[tuple[str, int], tuple[bytes, ...]] = {}


def init_pki() -> Pki:
    """Create the CA and TSA if they do not exist yet, load them, and keep them for this process."""
    from signing import create_pki

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _load_lock:
        pki = create_pki(
            Path(app.config["PKI_DIR"]),
            pki_passphrase(app.config),
            organisation=app.config["FIRM_NAME"],
            base_url=app.config["BASE_URL"],
            with_ocsp=True,
        )
        app.extensions[PKI_EXTENSION] = pki
    return pki


def get_pki() -> Pki:
    """The PKI of this process (created on first use if ``portal init`` has not run)."""
    pki = current_app.extensions.get(PKI_EXTENSION)
    if pki is None:
        pki = init_pki()
    return pki  # type: ignore[no-any-return]


def timestamper() -> Any:
    """The external TSA URL when configured, else the internal TSA (in process)."""
    return setting("TSA_URL") or get_pki().timestamper()


def _extra_trust_roots() -> tuple[bytes, ...]:
    from signing.material import load_certificates

    path = setting("SIGNING_TRUST_ROOTS")
    if not path:
        return ()
    file = Path(path)
    key = (str(file), file.stat().st_mtime_ns)
    if key not in _trust_roots_cache:
        data = file.read_bytes()
        load_certificates(data)  # refuse an unreadable bundle here, with its own message
        _trust_roots_cache[key] = (data,)
    return _trust_roots_cache[key]


def trust_material() -> ValidationMaterial:
    """The internal CA with its current CRL, plus any CAs configured as trusted."""
    from signing import ValidationMaterial

    base = get_pki().validation_material()
    return ValidationMaterial(
        trust_roots=(*base.trust_roots, *_extra_trust_roots()),
        crls=base.crls,
        allow_fetching=bool(setting("SIGNING_ALLOW_FETCHING")),
    )


def validate(data: bytes) -> ValidationReport:
    """pyHanko's verdict on every signature of the PDF, against the portal's trust material."""
    from signing import validate_pdf

    material = trust_material()
    return validate_pdf(
        data,
        trust_roots=material.trust_roots,
        crls=material.crls,
        allow_fetching=material.allow_fetching,
    )


# ------------------------------------------------------------------ signers' certificates


def current_certificate(user: User) -> SignerCertificate:
    """The user's usable certificate from the internal CA, issued on first use."""
    now = datetime.now(UTC)
    certificate = db.session.execute(
        select(SignerCertificate)
        .where(
            SignerCertificate.user_id == user.id,
            SignerCertificate.revoked_at.is_(None),
            SignerCertificate.not_after > now + _RENEW_BEFORE,
        )
        .order_by(SignerCertificate.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if certificate is not None:
        return certificate
    pki = get_pki()
    issued = pki.issue_signer_certificate(
        user.name,
        user.email,
        organisation=pki.organisation if user.is_staff else None,
        national_id=user.national_id,
    )
    certificate = SignerCertificate(
        user_id=user.id,
        key_pem=issued.key_pem,
        certificate_pem=issued.certificate_pem,
        fingerprint_sha256=issued.fingerprint_sha256,
        serial=format(issued.serial, "x"),
        not_after=issued.not_after,
    )
    db.session.add(certificate)
    db.session.flush()
    audit.record(
        "certificate_issued",
        user,
        f"user:{user.id}",
        fingerprint=issued.fingerprint_sha256,
        serial=certificate.serial,
        not_after=issued.not_after.isoformat(),
    )
    return certificate


def internal_source(certificate: SignerCertificate) -> InternalCaSigner:
    from signing import InternalCaSigner, IssuedSigner

    return InternalCaSigner(
        get_pki(), IssuedSigner.from_pem(certificate.key_pem, certificate.certificate_pem)
    )


def mark_revoked(certificate: SignerCertificate) -> None:
    """Record that the CA lists this certificate as revoked (found out while signing)."""
    if certificate.revoked_at is None:
        certificate.revoked_at = datetime.now(UTC)
        db.session.flush()


# The RFC 5280 reasons an administrator may give (the CRL carries the one chosen).
REVOCATION_REASONS = (
    "unspecified",
    "key_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
    "privilege_withdrawn",
)


@dataclass(frozen=True)
class CertificateStatus:
    """A signer's certificate from the internal CA, with what the CA says of it."""

    certificate: SignerCertificate
    revoked_at: datetime | None
    revocation_reason: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _status(certificate: SignerCertificate, revoked: Mapping[int, Any]) -> CertificateStatus:
    entry = revoked.get(int(certificate.serial, 16))
    if entry is None:
        return CertificateStatus(certificate, certificate.revoked_at, None)
    return CertificateStatus(certificate, entry.revoked_at, entry.reason.name)


def list_signer_certificates(actor: User) -> list[CertificateStatus]:
    """Every certificate the internal CA issued to a person, newest first (admin)."""
    require_admin(actor)
    revoked = get_pki().revoked()
    rows = db.session.execute(
        select(SignerCertificate).order_by(SignerCertificate.created_at.desc())
    ).scalars()
    return [_status(certificate, revoked) for certificate in rows]


def get_signer_certificate(actor: User, certificate_id: str) -> CertificateStatus:
    require_admin(actor)
    certificate = db.session.get(SignerCertificate, str(certificate_id))
    if certificate is None:
        raise NotFound()
    return _status(certificate, get_pki().revoked())


def revoke_certificate(
    actor: User, certificate_id: str, reason: str = "unspecified", note: str | None = None
) -> SignerCertificate:
    """Revoke a signer's certificate at the CA (admin); the next signature gets a new one.

    The CA's CRL and OCSP answers list it from now on, so signing with it is refused
    and the signatures already made with it no longer validate (hard-fail revocation).
    """
    status = get_signer_certificate(actor, certificate_id)
    certificate = status.certificate
    note = (note or "").strip() or None
    if reason not in REVOCATION_REASONS:
        raise ValidationFailed({"reason": _("Elija un motivo de la lista.")})
    if note and len(note) > 1000:
        raise ValidationFailed({"note": _("La nota es demasiado larga (máximo 1000 caracteres).")})
    if status.revoked:
        raise InvalidTransition(_("Este certificado ya está revocado."))
    get_pki().revoke(int(certificate.serial, 16), reason)
    mark_revoked(certificate)
    audit.record(
        "certificate_revoked",
        actor,
        f"user:{certificate.user_id}",
        fingerprint=certificate.fingerprint_sha256,
        serial=certificate.serial,
        reason=reason,
        note=note,
    )
    return certificate


def seal_configured() -> bool:
    return bool(setting("SEAL_PKCS11_LIB") and setting("SEAL_PKCS11_TOKEN"))


def seal_source() -> SignerSource:
    """The firm's seal on its PKCS#11 token (the session opens when signing starts)."""
    from signing import Pkcs11Signer

    return Pkcs11Signer(
        setting("SEAL_PKCS11_LIB"),
        setting("SEAL_PKCS11_TOKEN"),
        setting("SEAL_PKCS11_PIN") or "",
        setting("SEAL_PKCS11_KEY_LABEL") or "seal",
    )


# ------------------------------------------------------------------ public endpoints


def ca_certificate_der() -> bytes:
    return get_pki().ca_certificate_der


def current_crl_der() -> bytes:
    return get_pki().current_crl()


def timestamp_reply(request_der: bytes) -> bytes:
    return get_pki().timestamp_response(request_der)


def ocsp_reply(request_der: bytes) -> bytes:
    return get_pki().respond_ocsp(request_der)
