"""Signature requests, their signers, signers' certificates and e-mailed one-time codes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class SignatureLevel(StrEnum):
    b_b = "B-B"
    b_t = "B-T"
    b_lt = "B-LT"
    b_lta = "B-LTA"


class SignatureRequestStatus(StrEnum):
    pending = "pending"  # nobody has signed yet
    in_progress = "in_progress"  # at least one signature, more to come
    completed = "completed"
    declined = "declined"
    cancelled = "cancelled"
    failed = "failed"


class SignerStatus(StrEnum):
    waiting = "waiting"  # an earlier signer has not signed yet
    pending = "pending"  # their turn
    signing = "signing"  # second factor given, the signing job is queued or running
    signed = "signed"
    declined = "declined"


class SignatureMethod(StrEnum):
    internal = "internal"  # a certificate issued by the portal's CA
    pkcs12 = "pkcs12"  # the signer's own certificate, uploaded for one signature
    seal = "seal"  # the firm's seal on a PKCS#11 token


class SignatureRequest(db.Model):  # type: ignore[name-defined]
    __tablename__ = "signature_request"

    id: Mapped[str] = id_column()
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)  # the version the request was made on
    # The version the next signer signs: the requested one, then each signed one in turn.
    current_version_number: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(8))
    certify: Mapped[bool] = mapped_column(Boolean, default=False)
    any_order: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(
        String(16), default=SignatureRequestStatus.pending, index=True
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    message: Mapped[str | None] = mapped_column(Text)
    stamp_page: Mapped[int] = mapped_column(Integer, default=-1)  # from 0; negative from the end
    stamp_position: Mapped[str] = mapped_column(String(8), default="bottom")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the TSA certificate of the last document timestamp expires (B-LTA upkeep).
    archive_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    document = relationship("Document")
    created_by = relationship("User")
    signers = relationship(
        "SignatureRequestSigner",
        back_populates="request",
        order_by="SignatureRequestSigner.order",
    )


class SignatureRequestSigner(db.Model):  # type: ignore[name-defined]
    __tablename__ = "signature_request_signer"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[str] = id_column()
    request_id: Mapped[str] = mapped_column(ForeignKey("signature_request.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    order: Mapped[int] = mapped_column("signing_order", Integer)
    field_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SignerStatus.waiting)
    method: Mapped[str | None] = mapped_column(String(10))
    certificate_fingerprint: Mapped[str | None] = mapped_column(String(64))
    certificate_subject: Mapped[str | None] = mapped_column(String(300))
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    signed_sha256: Mapped[str | None] = mapped_column(String(64))  # the PDF that was signed
    result_sha256: Mapped[str | None] = mapped_column(String(64))  # the signed PDF
    result_version_number: Mapped[int | None] = mapped_column(Integer)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    request = relationship("SignatureRequest", back_populates="signers")
    user = relationship("User")


class SignerCertificate(db.Model):  # type: ignore[name-defined]
    """A person's key and certificate from the internal CA (the key is encrypted by the CA)."""

    __tablename__ = "signer_certificate"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_pem: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    serial: Mapped[str] = mapped_column(String(64))  # hexadecimal
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")


class SignatureCode(db.Model):  # type: ignore[name-defined]
    """A one-time code e-mailed to a signer without TOTP; only its keyed hash is kept."""

    __tablename__ = "signature_code"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("signature_request.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
