"""OCR jobs: read a new version step by step, then fill the forms waiting for its text.

``process_version`` is a new version's whole background work in one job: its renditions
(the thumbnail) and its text. The broker gets that one message instead of two when both
were queued by the same commit (``app.services.runtime``): one claim, one load of the
version and fewer commits per document, which is what an imported archive of small PDFs
spends most on.
"""

from __future__ import annotations

import time

from app.extensions import celery, db
from app.models import OcrResult
from app.services import forms, previews
from app.services import ocr as ocr_service


def _read(result: OcrResult, source_key: str) -> str | None:
    """Run the claimed OCR ``result``'s steps, committing what must survive a crash."""
    checkpoint = ocr_service.checkpoint_seconds()
    with ocr_service.local_source(source_key) as source:
        since = time.monotonic()
        while (step := ocr_service.run_next_step(result, source)) is not None:
            if step in ocr_service.DURABLE_STEPS or time.monotonic() - since >= checkpoint:
                db.session.commit()  # this work survives a crash of the next steps
                since = time.monotonic()
    status = result.status
    db.session.commit()
    return status


def _settled(version_id: str, status: str | None) -> str | None:
    forms.settle_forms_of(version_id)
    db.session.commit()
    if status is None:
        found = ocr_service.result_for(version_id)
        status = found.status if found is not None else None
    return status


@celery.task(name="portal.ocr_version")
def ocr_version(version_id: str) -> str | None:
    """Read one version; a redelivery resumes the same result row and never makes a second."""
    result = ocr_service.claim(version_id)
    source_key = result.version.blob_key if result is not None else ""
    db.session.commit()  # the attempt counts even if this worker dies while reading
    status = _read(result, source_key) if result is not None else None
    return _settled(version_id, status)


@celery.task(name="portal.process_version")
def process_version(version_id: str, variants: list[str]) -> str | None:
    """A new version's ``variants`` renditions, then its text: ``render_preview`` for each
    and ``ocr_version`` in one job, with the same claims, so a redelivery resumes both and
    makes no second of anything."""
    rows = [row for variant in variants if (row := previews.claim(version_id, variant))]
    result = ocr_service.claim(version_id)
    source_key = result.version.blob_key if result is not None else ""
    db.session.commit()  # the attempts count even if this worker dies while working
    if rows:
        for row in rows:
            previews.render(row)
        db.session.commit()  # the thumbnail is kept whatever the reading does
    status = _read(result, source_key) if result is not None else None
    return _settled(version_id, status)


@celery.task(name="portal.resume_stalled_ocr")
def resume_stalled_ocr() -> int:
    """Every quarter of an hour: OCR jobs whose worker died are sent again."""
    sent = ocr_service.resume_stalled()
    db.session.commit()  # the jobs go out after this commit
    return sent
