"""The OCR pipeline of document versions, as small steps a task runs one by one.

Each step reads what the previous ones stored on the version's single ``OcrResult``
row and adds to it; the task commits whenever the steps since its last commit took
``checkpoint_seconds()`` (every slow step, such as a page read by tesseract, and a run of
quick ones such as text-layer pages together). A worker killed half way leaves the row
``running`` with the pages read up to its last commit, and the redelivered task carries on
from there, so a version never gets two results. The library's limits
(``too_many_pages``, ``image_too_large``, ``ocr_timeout``…) end the row as ``failed``
with that code instead of crashing the worker.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

import ocr
from app.extensions import db
from app.models import Document, DocumentVersion, OcrResult, OcrStatus, User
from app.models.base import utcnow
from app.services import search
from app.services.access import get_document
from app.services.errors import NotFound
from app.services.runtime import enqueue_after_commit, resumable, store
from storage import UploadError, UploadExpired, UploadNotFound, local_file

log = logging.getLogger(__name__)

TASK = "portal.ocr_version"
FINISHED = {OcrStatus.done, OcrStatus.failed, OcrStatus.skipped}
#: Steps committed as soon as they end, however quick: what they record (the upload that will
#: hold the searchable copy, then its blob) must be known before the next step writes to the
#: store, or a crash would leave bytes that no row names.
DURABLE_STEPS = frozenset({"reserve_copy", "searchable_copy"})


# Raster images the OCR engine opens. Drawings and vector files named image/* by their type
# (image/vnd.dxf, image/svg+xml) hold their text as text, not pixels: reading them would fail.
READABLE_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/tiff",
        "image/bmp",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/x-portable-anymap",
        "image/x-portable-graymap",
        "image/x-portable-bitmap",
    }
)


def is_readable(version: DocumentVersion) -> bool:
    """PDFs and raster images are read; other files only have their title indexed."""
    return (version.content_type or "") in READABLE_TYPES


def _ocr_on_upload() -> bool:
    configured = current_app.config.get("OCR_ON_UPLOAD")
    # Unset: on, except in test apps, where only the tests about OCR turn it on.
    return bool(configured) if configured is not None else not current_app.testing


def limits() -> ocr.OcrLimits:
    defaults = ocr.DEFAULT_LIMITS
    config = current_app.config
    return ocr.OcrLimits(
        max_pages=int(config.get("OCR_MAX_PAGES", defaults.max_pages)),
        max_pixels=int(config.get("OCR_MAX_PIXELS", defaults.max_pixels)),
        timeout_seconds=float(config.get("OCR_PAGE_TIMEOUT", defaults.timeout_seconds)),
        document_timeout_seconds=float(
            config.get("OCR_DOCUMENT_TIMEOUT", defaults.document_timeout_seconds)
        ),
        max_bytes=int(config.get("OCR_MAX_BYTES", defaults.max_bytes)),
    )


def checkpoint_seconds() -> float:
    """Work a crash may cost again: the task commits once its uncommitted steps took this long."""
    return float(current_app.config.get("OCR_CHECKPOINT_SECONDS", 0.25))


@cache
def engine_version() -> str:
    try:
        import pytesseract

        return f"tesseract {pytesseract.get_tesseract_version()}"[:60]
    except Exception:  # noqa: BLE001 - only a label; reading works or fails on its own
        return "tesseract"


def version_added(document: Document, version: DocumentVersion) -> None:
    """Hook of every new version: index the title and, for PDFs and images, queue the OCR."""
    search.index_document(document)
    if is_readable(version) and _ocr_on_upload():
        queue_version(version)


def queue_version(version: DocumentVersion) -> OcrResult:
    """The version's result row (made once) and its task, sent after the commit."""
    result = result_for(version.id)
    if result is None:
        result = OcrResult(version_id=version.id, status=OcrStatus.queued, pages=[])
        db.session.add(result)
        db.session.flush()
    if result.status not in FINISHED:
        enqueue_after_commit(TASK, version.id)
    return result


def stalled_after() -> timedelta:
    """How long a running result may go without finishing a step: twice the longest step."""
    settings = limits()
    return timedelta(seconds=2 * max(settings.timeout_seconds, settings.document_timeout_seconds))


def resume_stalled(now: datetime | None = None) -> int:
    """Send again the OCR of results whose worker died mid-way; return how many.

    Redis hands a dead worker's task to another one after its visibility timeout;
    the embedded broker loses it. A result still running with no step finished for
    longer than any step may take, or queued for a day, is sent again; the task
    resumes it where it stopped, so a duplicate still gives one result.
    """
    now = now or utcnow()
    running = and_(
        OcrResult.status == OcrStatus.running,
        func.coalesce(OcrResult.heartbeat_at, OcrResult.created_at) < now - stalled_after(),
    )
    queued = and_(
        OcrResult.status == OcrStatus.queued, OcrResult.created_at < now - timedelta(days=1)
    )
    stalled = db.session.scalars(select(OcrResult).where(or_(running, queued))).all()
    for result in stalled:
        log.warning("OCR of version %s stalled (%s); sent again", result.version_id, result.status)
        enqueue_after_commit(TASK, result.version_id)
    return len(stalled)


def result_for(version_id: str) -> OcrResult | None:
    return db.session.scalars(select(OcrResult).where(OcrResult.version_id == version_id)).first()


def claim(version_id: str) -> OcrResult | None:
    """Start (or, after a crash, resume) the OCR of a version; None when there is nothing to do."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        return None
    result = _locked_result(version_id)
    if result is None:
        candidate = OcrResult(version_id=version_id, status=OcrStatus.queued, pages=[])
        try:
            with db.session.begin_nested():
                db.session.add(candidate)
            result = candidate
        except IntegrityError:  # another delivery of this job made it first
            result = _locked_result(version_id)
            if result is None:
                raise
    if result.status in FINISHED:
        return None
    if not is_readable(version):
        result.status = OcrStatus.skipped
        result.finished_at = utcnow()
        db.session.flush()
        return None
    result.status = OcrStatus.running
    result.heartbeat_at = utcnow()
    result.attempts = (result.attempts or 0) + 1
    result.started_at = result.started_at or utcnow()
    result.engine_version = engine_version()
    db.session.flush()
    return result


def _locked_result(version_id: str) -> OcrResult | None:
    """The version's result under its row lock (PostgreSQL): one delivery claims at a time."""
    return db.session.scalars(
        select(OcrResult).where(OcrResult.version_id == version_id).with_for_update()
    ).first()


@contextmanager
def local_source(blob_key: str) -> Iterator[Path]:
    """A version's blob as a local file for the steps, to read only (the store may be remote)."""
    with local_file(store(), blob_key) as path:
        yield path


def _next_step(result: OcrResult) -> str | None:
    if result.page_count is None:
        return "inspect"
    if len(result.pages or []) < result.page_count:
        return "read_page"
    needs_copy = any(page.get("method") == "ocr" for page in result.pages)
    if needs_copy and not result.searchable_blob_key and not result.searchable_error:
        return "searchable_copy" if result.searchable_upload_id else "reserve_copy"
    return "index"


def run_next_step(result: OcrResult, source: Path) -> str | None:
    """Run one step and name it; None once the result is finished (done or failed).

    The step holds the result's row lock until the caller commits it (PostgreSQL): a
    second delivery of the same job, which the broker may hand to another worker
    while this one is alive, waits for the step and then goes on from what it did
    instead of doing it again (two workers writing one searchable copy would spoil it).
    A worker that dies drops its lock with its connection. Between two commits the row is
    still locked and still read: it is read again (and locked) only after a commit.
    """
    if sa_inspect(result).expired:  # a commit expired the whole row
        db.session.refresh(result, with_for_update=True)
    if result.status in FINISHED:
        return None
    step = _next_step(result)
    try:
        if step == "inspect":
            info = ocr.inspect_source(source, limits=limits())
            result.source_kind = info.kind
            result.page_count = info.page_count
        elif step == "read_page":
            number = len(result.pages) + 1
            page = ocr.read_page(source, number, limits=limits())
            result.pages = [*result.pages, page.to_dict()]
        elif step == "reserve_copy":
            _reserve_searchable_copy(result)
        elif step == "searchable_copy":
            _make_searchable_copy(result, source)
        else:
            _finish(result)
            return None
    except ocr.OcrError as error:
        fail(result, error.code, str(error))
        return None
    except Exception as error:  # noqa: BLE001 - a bad file must not take the worker down
        log.exception("OCR of version %s failed", result.version_id)
        fail(result, "internal_error", repr(error))
        return None
    result.heartbeat_at = utcnow()  # written with the commit (or the next statement)
    return step


def _reserve_searchable_copy(result: OcrResult) -> None:
    """Record the upload that will hold the searchable copy before any byte is written.

    Committed on its own, it lets the next attempt after a crash find what the
    dead one wrote: a finished copy is kept, a half-written one freed.
    """
    info = resumable().create(None, {"purpose": "ocr-searchable-copy"})
    result.searchable_upload_id = info.id


def _make_searchable_copy(result: OcrResult, source: Path) -> None:
    """A searchable PDF/A beside the original blob, which is never replaced."""
    uploads = resumable()
    upload_id = result.searchable_upload_id
    assert upload_id is not None  # the reserve step ran
    try:
        info = uploads.info(upload_id)
    except (UploadNotFound, UploadExpired):
        result.searchable_upload_id = None  # expired unused: reserve another
        return
    if info.blob is not None or info.complete:
        # A previous attempt wrote the whole copy and died before recording it.
        result.searchable_blob_key = uploads.finish(upload_id).key
        return
    if info.offset:
        # A previous attempt died while writing: free its bytes and start again.
        uploads.terminate(upload_id)
        result.searchable_upload_id = None
        return
    with tempfile.TemporaryDirectory(prefix="portal-ocr-") as workdir:
        target = Path(workdir) / "searchable.pdf"  # never beside the source: it may be the blob
        try:
            ocr.make_searchable_pdf(source, target, limits=limits())
        except (ocr.SearchablePdfFailed, ocr.OcrTimeout, ocr.EngineUnavailable) as error:
            # The text is read already; only the copy is missing, which search does not need.
            result.searchable_error = error.code
            _forget_upload(result)
            return
        with target.open("rb") as handle:
            uploads.append(upload_id, 0, handle, length=target.stat().st_size)
    result.searchable_blob_key = uploads.finish(upload_id).key


def _forget_upload(result: OcrResult) -> None:
    """Drop the copy's upload record once its blob (if any) is on the result row."""
    if result.searchable_upload_id is None:
        return
    try:
        resumable().terminate(result.searchable_upload_id)  # a finished blob stays
    except UploadError:
        pass  # already gone: expired uploads are swept by the upload expiry job
    result.searchable_upload_id = None


def _finish(result: OcrResult) -> None:
    _forget_upload(result)
    pages = result.pages or []
    result.text = "\f".join(page.get("text", "") for page in pages)
    confidences = [float(page.get("confidence", 0.0)) for page in pages]
    result.mean_confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    result.status = OcrStatus.done
    result.error = None
    result.finished_at = utcnow()
    # The document and the version's number in one query (the rows a commit expired would
    # each be read again on their own).
    document, number = db.session.execute(
        select(Document, DocumentVersion.number)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(DocumentVersion.id == result.version_id)
    ).one()
    if document.current_version_number == number:
        search.index_document(document, body=result.text, version_id=result.version_id)
    db.session.flush()


def fail(result: OcrResult, code: str, detail: str = "") -> None:
    result.status = OcrStatus.failed
    result.error = code[:40]
    result.error_detail = detail[:500] or None
    result.finished_at = utcnow()
    db.session.flush()


def fail_version(version_id: str, code: str, detail: str = "") -> None:
    """Mark a version's OCR failed from outside the steps (a task that gave up)."""
    result = result_for(version_id)
    if result is not None and result.status not in FINISHED:
        fail(result, code, detail)


def page_texts(result: OcrResult) -> list[ocr.PageText]:
    return [ocr.PageText.from_dict(page) for page in result.pages or []]


def version_text(
    actor: User, document_id: str, number: int
) -> tuple[DocumentVersion, OcrResult | None]:
    """The version the caller may see, with its OCR result if there is one."""
    document = get_document(actor, document_id)
    version = next((v for v in document.versions if v.number == number), None)
    if version is None:
        raise NotFound()
    return version, result_for(version.id)


def text_summary(result: OcrResult | None, version: DocumentVersion) -> dict[str, Any]:
    """What the API and the document page say about a version's text."""
    if result is None:
        status = "not_started" if is_readable(version) else OcrStatus.skipped.value
        return {"status": status, "error": None, "pages": []}
    return {
        "status": result.status,
        "error": result.error,
        "page_count": result.page_count,
        "mean_confidence": result.mean_confidence,
        "searchable_copy": bool(result.searchable_blob_key),
        "pages": [
            {"number": p["number"], "text": p["text"], "confidence": p["confidence"]}
            for p in result.pages or []
        ]
        if result.status == OcrStatus.done
        else [],
    }
