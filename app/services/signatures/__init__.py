"""Signature requests: ordered signers, a fresh second factor, PAdES signing, decline, alerts.

One module per concern: ``requests`` (asking, reading, whose turn, declining),
``codes`` (the signer's second factor), ``jobs`` (signing now or as the
``portal.sign_document`` job, validating and storing) and ``overdue`` (what is
late, for the alert engine). Callers use the names re-exported here.
"""

from __future__ import annotations

# documents and pki are re-exported as before the split: the signing benchmark wraps
# ``signatures.pki.validate`` and ``signatures.documents.add_signed_version``.
from app.services import documents, pki
from app.services.signatures.codes import (
    CODE_LIFETIME,
    CODE_MAX_ATTEMPTS,
    CODE_RESEND_AFTER,
    SecondFactorRejected,
    send_signature_code,
)
from app.services.signatures.jobs import (
    ARCHIVE_MARGIN,
    MAX_PKCS12_SIZE,
    SIGN_TASK,
    SigningFailed,
    TimestampNotYet,
    archive_expiry,
    get_job,
    job_status,
    perform_signature,
    sign,
    sign_and_validate,
    signer_after_job,
    signing_failed,
    waiting_for_timestamp,
)
from app.services.signatures.overdue import (
    SIGNATURE_ESCALATE_AFTER_DAYS,
    OverdueSignature,
    overdue_signature_requests,
)
from app.services.signatures.requests import (
    LEVELS,
    MAX_PDF_SIZE,
    MAX_SIGNERS,
    OPEN,
    SIGNING_STALE_AFTER,
    PdfFacts,
    cancel_checked,
    cancel_request,
    decline,
    default_level,
    get_request,
    inspect_pdf,
    is_pdf,
    list_requests,
    pdf_problem,
    remind_turn,
    request_signatures,
    signer_candidates,
    signer_of,
    target_of,
    waiting_for,
    whose_turn,
)

__all__ = [
    "ARCHIVE_MARGIN",
    "CODE_LIFETIME",
    "CODE_MAX_ATTEMPTS",
    "CODE_RESEND_AFTER",
    "LEVELS",
    "MAX_PDF_SIZE",
    "MAX_PKCS12_SIZE",
    "MAX_SIGNERS",
    "OPEN",
    "SIGNATURE_ESCALATE_AFTER_DAYS",
    "SIGNING_STALE_AFTER",
    "SIGN_TASK",
    "OverdueSignature",
    "PdfFacts",
    "SecondFactorRejected",
    "TimestampNotYet",
    "SigningFailed",
    "archive_expiry",
    "cancel_checked",
    "cancel_request",
    "decline",
    "default_level",
    "documents",
    "get_job",
    "get_request",
    "inspect_pdf",
    "is_pdf",
    "job_status",
    "list_requests",
    "overdue_signature_requests",
    "pdf_problem",
    "perform_signature",
    "pki",
    "remind_turn",
    "request_signatures",
    "send_signature_code",
    "sign",
    "sign_and_validate",
    "signer_candidates",
    "signer_of",
    "signer_after_job",
    "signing_failed",
    "target_of",
    "waiting_for",
    "waiting_for_timestamp",
    "whose_turn",
]
