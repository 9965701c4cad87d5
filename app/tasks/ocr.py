"""OCR jobs: read a new version step by step, then fill the forms waiting for its text."""

from __future__ import annotations

from app.extensions import celery, db
from app.services import forms
from app.services import ocr as ocr_service


@celery.task(name="portal.ocr_version")
def ocr_version(version_id: str) -> str | None:
    """Read one version; a redelivery resumes the same result row and never makes a second."""
    result = ocr_service.claim(version_id)
    db.session.commit()
    if result is not None:
        with ocr_service.local_source(result) as source:
            while ocr_service.run_next_step(result, source):
                db.session.commit()  # each step's work survives a crash of the next one
        db.session.commit()
    forms.settle_forms_of(version_id)
    db.session.commit()
    found = ocr_service.result_for(version_id)
    return found.status if found is not None else None


@celery.task(name="portal.resume_stalled_ocr")
def resume_stalled_ocr() -> int:
    """Every quarter of an hour: OCR jobs whose worker died are sent again."""
    sent = ocr_service.resume_stalled()
    db.session.commit()  # the jobs go out after this commit
    return sent
