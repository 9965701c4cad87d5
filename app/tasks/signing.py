"""Signing jobs: one signature per job, and the daily upkeep of long-term (B-LTA) signatures."""

from __future__ import annotations

from app.extensions import celery, db
from app.services import signature_evidence, signatures


@celery.task(name="portal.sign_document")
def sign_document(signer_id: str) -> bool:
    """Sign for one signer whose second factor was accepted; redelivery signs nothing twice."""
    try:
        signed = signatures.perform_signature(signer_id)
    except Exception:
        db.session.rollback()
        signatures.signing_failed(signer_id, "Error interno al firmar; inténtelo de nuevo.")
        db.session.commit()
        raise
    db.session.commit()
    return signed


@celery.task(name="portal.refresh_archive_timestamps")
def refresh_archive_timestamps() -> int:
    """Add a new document timestamp to B-LTA documents before their last one expires."""
    refreshed = signature_evidence.refresh_archive_timestamps()
    db.session.commit()
    return refreshed
