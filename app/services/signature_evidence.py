"""Validation reports, evidence packages and the upkeep of long-term (B-LTA) signatures."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    SignatureLevel,
    SignatureRequest,
    SignatureRequestStatus,
    SignerStatus,
    User,
)
from app.services import audit, documents, pki, signature_reports
from app.services.errors import InvalidTransition, ValidationFailed
from app.services.runtime import setting
from app.services.signatures import (
    ARCHIVE_MARGIN,
    MAX_PDF_SIZE,
    archive_expiry,
    get_request,
    is_pdf,
    pdf_problem,
    target_of,
)
from signing import SigningError

if TYPE_CHECKING:
    from signing import ValidationReport

# ------------------------------------------------------------------ validation and evidence


def validate_pdf_bytes(data: bytes) -> ValidationReport:
    """The validation report of any PDF; unreadable files are a clear 422."""
    if not data:
        raise ValidationFailed({"file": _("El archivo está vacío.")})
    try:
        return pki.validate(data)
    except SigningError as exc:
        raise ValidationFailed({"file": pdf_problem(exc)}) from exc


def validate_upload(actor: User, stream: IO[bytes]) -> ValidationReport:
    data = stream.read(MAX_PDF_SIZE + 1)
    if len(data) > MAX_PDF_SIZE:
        raise ValidationFailed({"file": _("El archivo es demasiado grande para validarlo.")})
    report = validate_pdf_bytes(data)
    audit.record(
        "signature_validation",
        actor,
        None,
        sha256=report.document_sha256,
        valid=report.valid,
        signatures=len(report.signatures),
    )
    return report


def validate_version(actor: User, document_id: str, number: int) -> ValidationReport:
    version = documents.get_version(actor, document_id, number)
    if not is_pdf(version):
        raise ValidationFailed({"file": _("Solo se validan firmas de documentos PDF.")})
    data = documents.read_version_bytes(version, max_size=MAX_PDF_SIZE)
    try:
        return pki.validate(data)
    except SigningError as exc:
        raise ValidationFailed({"file": pdf_problem(exc)}) from exc


def audit_trail(request: SignatureRequest) -> list[dict[str, Any]]:
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.target == target_of(request)).order_by(AuditEvent.seq)
    ).scalars()
    return [
        {
            "seq": event.seq,
            "at": event.at,
            "actor_id": event.actor_id,
            "actor_email": event.actor_email,
            "action": event.action,
            "target": event.target,
            "ip": event.ip,
            "details": event.details,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }
        for event in events
    ]


def request_summary(request: SignatureRequest) -> dict[str, Any]:
    """What was asked, of whom, and what each signer did (for people and for the evidence)."""
    return {
        "id": request.id,
        "document_id": request.document_id,
        "document_title": request.document.title,
        "version": request.version_number,
        "current_version": request.current_version_number,
        "level": request.level,
        "certify": request.certify,
        "any_order": request.any_order,
        "status": request.status,
        "due_date": request.due_date.isoformat() if request.due_date else None,
        "message": request.message,
        "created_by": request.created_by_id,
        "created_at": request.created_at.isoformat() if request.created_at else None,
        "completed_at": request.completed_at.isoformat() if request.completed_at else None,
        "signers": [
            {
                "user_id": s.user_id,
                "name": s.user.name,
                "email": s.user.email,
                "order": s.order,
                "field": s.field_name,
                "status": s.status,
                "method": s.method,
                "authorised_at": s.authorised_at.isoformat() if s.authorised_at else None,
                "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                "ip": s.ip,
                "signed_sha256": s.signed_sha256,
                "result_sha256": s.result_sha256,
                "result_version": s.result_version_number,
                "certificate_sha256": s.certificate_fingerprint,
                "certificate_subject": s.certificate_subject,
                "decline_reason": s.decline_reason,
            }
            for s in request.signers
        ],
    }


def evidence_package(actor: User, request_id: str) -> tuple[str, bytes]:
    """A ZIP with the signed PDF, its report (JSON and PDF), the audit trail and the hashes."""
    from signing import build_evidence_zip

    request = get_request(actor, request_id)
    if not any(s.status == SignerStatus.signed for s in request.signers):
        raise InvalidTransition(_("Todavía no hay ninguna firma en esta solicitud."))
    signed = documents.get_version(actor, request.document_id, request.current_version_number)
    original = documents.get_version(actor, request.document_id, request.version_number)
    signed_data = documents.read_version_bytes(signed, max_size=MAX_PDF_SIZE)
    original_data = documents.read_version_bytes(original, max_size=MAX_PDF_SIZE)
    report = pki.validate(signed_data)
    audit.record(
        "signature_evidence", actor, target_of(request), version=signed.number, valid=report.valid
    )
    with force_locale(actor.locale or "es"):
        # The PDF report in the reader's language; the JSON report keeps the machine codes.
        archive = build_evidence_zip(
            signed_data,
            report,
            audit_trail(request),
            extra_files={
                "original.pdf": original_data,
                "request.json": json.dumps(
                    request_summary(request), indent=2, ensure_ascii=False
                ).encode(),
            },
            report_text=signature_reports.report_text(),
        )
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", request.document.title).strip("-")[:60] or "documento"
    return f"evidencias-{stem}-{request.id[:8]}.zip", archive


# ------------------------------------------------------------------ long term


def refresh_archive_timestamps(
    now: datetime | None = None, margin: timedelta = ARCHIVE_MARGIN
) -> int:
    """Add a document timestamp to B-LTA documents whose last one expires within ``margin``.

    Each refresh is a new version (source "signature"), validated before it is
    stored. A document that has moved on to a newer, unsigned version is left
    alone. Returns how many documents were refreshed.
    """
    from signing import add_document_timestamp

    now = now or datetime.now(UTC)
    query = select(SignatureRequest).where(
        SignatureRequest.status == SignatureRequestStatus.completed,
        SignatureRequest.level == SignatureLevel.b_lta,
        SignatureRequest.archive_expires_at.is_not(None),
        SignatureRequest.archive_expires_at <= now + margin,
    )
    refreshed = 0
    for request in list(db.session.execute(query).scalars()):
        document = request.document
        if (
            document.deleted_at is not None
            or document.current_version_number != request.current_version_number
        ):
            continue
        version = document.current_version
        assert version is not None
        data = documents.read_version_bytes(version, max_size=MAX_PDF_SIZE)
        expiry = archive_expiry(data)
        _renew_internal_tsa_if_needed(expiry)
        try:
            updated = add_document_timestamp(data, pki.timestamper(), pki.trust_material())
        except SigningError as exc:
            audit.record(
                "archive_timestamp_failed", None, target_of(request), reason=str(exc)[:300]
            )
            continue
        report = pki.validate(updated)
        if not report.valid:
            audit.record(
                "archive_timestamp_failed",
                None,
                target_of(request),
                reason=(report.reason or "")[:300],
            )
            continue
        new_version = documents.add_signed_version(
            request.created_by,
            document,
            updated,
            filename=version.filename,
            note="Nuevo sello de tiempo de archivo (firma longeva)",
        )
        request.current_version_number = new_version.number
        request.archive_expires_at = archive_expiry(updated)
        db.session.flush()
        audit.record(
            "archive_timestamp_added",
            None,
            target_of(request),
            document=document.id,
            version=new_version.number,
            sha256=new_version.sha256,
            expires=request.archive_expires_at.isoformat() if request.archive_expires_at else None,
        )
        refreshed += 1
    return refreshed


def _renew_internal_tsa_if_needed(last_expiry: datetime | None) -> None:
    """A new timestamp only helps if its TSA certificate outlives the last one."""
    if setting("TSA_URL") or last_expiry is None:
        return
    current = pki.get_pki()
    if current.tsa_certificate.not_valid_after_utc <= last_expiry + timedelta(days=1):
        current.renew_tsa()
