"""OCR jobs: read a new version step by step, then fill the forms waiting for its text."""

from __future__ import annotations

import time

from app.extensions import celery, db
from app.services import forms
from app.services import ocr as ocr_service


@celery.task(name="portal.ocr_version")
def ocr_version(version_id: str) -> str | None:
    """Read one version; a redelivery resumes the same result row and never makes a second."""
    result = ocr_service.claim(version_id)
    source_key = result.version.blob_key if result is not None else ""
    db.session.commit()  # the attempt counts even if this worker dies while reading
    status = None
    if result is not None:
        checkpoint = ocr_service.checkpoint_seconds()
        with ocr_service.local_source(source_key) as source:
            since = time.monotonic()
            while (step := ocr_service.run_next_step(result, source)) is not None:
                if step in ocr_service.DURABLE_STEPS or time.monotonic() - since >= checkpoint:
                    db.session.commit()  # this work survives a crash of the next steps
                    since = time.monotonic()
        status = result.status
        db.session.commit()
    forms.settle_forms_of(version_id)
    db.session.commit()
    if status is None:
        found = ocr_service.result_for(version_id)
        status = found.status if found is not None else None
    return status


@celery.task(name="portal.resume_stalled_ocr")
def resume_stalled_ocr() -> int:
    """Every quarter of an hour: OCR jobs whose worker died are sent again."""
    sent = ocr_service.resume_stalled()
    db.session.commit()  # the jobs go out after this commit
    return sent
