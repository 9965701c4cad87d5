"""Signing jobs: one signature per job, and the daily upkeep of long-term (B-LTA) signatures."""

from __future__ import annotations

from typing import Any

from app.extensions import celery, db
from app.services import signature_evidence, signatures
from app.services.runtime import setting


@celery.task(name="portal.sign_document", bind=True)
def sign_document(self: Any, signer_id: str) -> bool:
    """Sign for one signer whose second factor was accepted; redelivery signs nothing twice.

    While the time-stamping authority does not answer, the signature waits (the signer stays
    ``signing``) and the job is tried again every ``SIGN_TSA_RETRY_SECONDS`` for
    ``SIGN_TSA_RETRY_FOR_SECONDS``; only then is the turn given back with the reason.
    """
    try:
        signed = signatures.perform_signature(signer_id)
    except signatures.TimestampNotYet as waiting:
        db.session.rollback()
        every = max(1, int(setting("SIGN_TSA_RETRY_SECONDS")))
        tries = int(setting("SIGN_TSA_RETRY_FOR_SECONDS")) // every
        if self.request.is_eager or self.request.retries >= tries:
            signatures.signing_failed(signer_id, str(waiting))
            db.session.commit()
            return False
        signatures.waiting_for_timestamp(signer_id, str(waiting))
        db.session.commit()
        raise self.retry(countdown=every, max_retries=tries) from waiting
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
