"""Previews of document versions, made in the background and kept as blobs of their own.

A preview is a ``DocumentPreview`` row per version and rendition: ``thumbnail`` (lists
and the document page), ``view`` (the in-browser view of an image, a drawing or a
video's poster) and ``page-N`` (one PDF page as an image, drawn when someone asks for
it). Pages ask for a rendition and get the row as it is: ``pending`` while the job
runs, then ``ready``, ``failed`` or ``unsupported``; nothing ever waits for a render.
The job draws the file with ``previews`` in a contained child process and
stores the result with ``store().put``: a new key, never a version's blob.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import previews as render_lib
from app.extensions import db
from app.models import DocumentPreview, DocumentVersion, PreviewStatus, User
from app.models.base import utcnow
from app.services import integrity
from app.services.access import get_document
from app.services.errors import NotFound, StorageUnavailable
from app.services.runtime import enqueue_after_commit, store
from previews import PreviewKind
from storage import StorageError, local_file

log = logging.getLogger(__name__)

TASK = "portal.render_preview"
THUMBNAIL = "thumbnail"
VIEW = "view"
PAGE_PREFIX = "page-"
MAX_PAGE = 100_000
MAX_ATTEMPTS = 3
#: longest side, in pixels, of each raster rendition
SIDES = {THUMBNAIL: 320, VIEW: 1600, PAGE_PREFIX: 1400}
#: renditions made right after an upload; PDF pages are drawn when someone opens them
ON_UPLOAD = {
    PreviewKind.pdf: (THUMBNAIL,),
    PreviewKind.image: (THUMBNAIL, VIEW),
    PreviewKind.dxf: (VIEW,),
    PreviewKind.video: (THUMBNAIL, VIEW),
}
FINISHED = {PreviewStatus.ready, PreviewStatus.failed, PreviewStatus.unsupported}


def page_variant(page: int) -> str:
    return f"{PAGE_PREFIX}{int(page)}"


def kind_of(version: DocumentVersion) -> PreviewKind | None:
    return render_lib.kind_for(version.content_type, version.filename)


def canonical_variant(kind: PreviewKind | None, variant: str) -> str:
    """The rendition actually stored: a drawing's SVG is its thumbnail and its view at once."""
    if kind == PreviewKind.dxf and variant == THUMBNAIL:
        return VIEW
    return variant


def _applies(kind: PreviewKind | None, variant: str) -> bool:
    if kind is None:
        return False
    if variant.startswith(PAGE_PREFIX):
        return kind == PreviewKind.pdf
    return variant in (THUMBNAIL, VIEW) and not (kind == PreviewKind.pdf and variant == VIEW)


def parse_variant(variant: str) -> str:
    """``thumbnail``, ``view`` or ``page-N``; anything else is NotFound."""
    if variant in (THUMBNAIL, VIEW):
        return variant
    if variant.startswith(PAGE_PREFIX) and variant[len(PAGE_PREFIX) :].isdigit():
        page = int(variant[len(PAGE_PREFIX) :])
        if 1 <= page <= MAX_PAGE:
            return page_variant(page)
    raise NotFound()


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def limits() -> render_lib.PreviewLimits:
    defaults = render_lib.DEFAULT_LIMITS
    return render_lib.PreviewLimits(
        max_source_pixels=int(_config("PREVIEW_MAX_PIXELS", defaults.max_source_pixels)),
        max_output_pixels=int(_config("PREVIEW_MAX_OUTPUT_PIXELS", defaults.max_output_pixels)),
        max_dxf_entities=int(_config("PREVIEW_MAX_DXF_ENTITIES", defaults.max_dxf_entities)),
        max_svg_bytes=int(_config("PREVIEW_MAX_SVG_BYTES", defaults.max_svg_bytes)),
        timeout_seconds=_config("PREVIEW_TIMEOUT", defaults.timeout_seconds),
        memory_bytes=int(_config("PREVIEW_MEMORY_BYTES", defaults.memory_bytes)),
    )


def _max_source_bytes() -> int:
    return int(_config("PREVIEW_MAX_SOURCE_BYTES", 8 * 1024**3))


def _on_upload() -> bool:
    configured = current_app.config.get("PREVIEWS_ON_UPLOAD")
    # Unset: on, except in test apps, where only the tests about previews turn it on.
    return bool(configured) if configured is not None else not current_app.testing


# ------------------------------------------------------------------ asking for previews


def version_added(version: DocumentVersion) -> None:
    """Hook of every new version: queue its renditions (sent after the commit)."""
    kind = kind_of(version)
    if kind is None or not _on_upload():
        return
    for variant in ON_UPLOAD[kind]:
        ensure(version, variant)


def preview_for(version_id: str, variant: str) -> DocumentPreview | None:
    return db.session.scalars(
        select(DocumentPreview).where(
            DocumentPreview.version_id == version_id, DocumentPreview.variant == variant
        )
    ).first()


def _new_row(version: DocumentVersion, variant: str) -> DocumentPreview:
    kind = kind_of(version)
    row = DocumentPreview(
        version_id=version.id, variant=variant, status=PreviewStatus.pending, attempts=0
    )
    if not _applies(kind, variant):
        _finish(row, PreviewStatus.unsupported, "unsupported")
    elif kind == PreviewKind.video and not render_lib.ffmpeg_available():
        _finish(row, PreviewStatus.unsupported, render_lib.ToolUnavailable.code)
    return row


def ensure(version: DocumentVersion, variant: str) -> DocumentPreview:
    """The rendition's row, made once; its job is (re)sent after the commit while pending.

    A second request finds the row and sends nothing, unless the job looks lost
    (pending for longer than ``PREVIEW_REQUEUE_AFTER`` seconds).
    """
    variant = canonical_variant(kind_of(version), variant)
    row = preview_for(version.id, variant)
    if row is None:
        candidate = _new_row(version, variant)
        try:
            with db.session.begin_nested():
                db.session.add(candidate)
            row = candidate
        except IntegrityError:  # another request made it first
            row = preview_for(version.id, variant)
            if row is None:
                raise
    if row.status == PreviewStatus.pending:
        stale = utcnow() - timedelta(seconds=_config("PREVIEW_REQUEUE_AFTER", 600))
        if row.queued_at is None or row.queued_at < stale:
            row.queued_at = utcnow()
            enqueue_after_commit(TASK, version.id, variant)
    db.session.flush()
    return row


def request_preview(actor: User, document_id: str, number: int, variant: str) -> DocumentPreview:
    """A rendition of a version the caller may open, exactly as its content (404 otherwise)."""
    variant = parse_variant(variant)
    document = get_document(actor, document_id)
    version = next((v for v in document.versions if v.number == number), None)
    if version is None:
        raise NotFound()
    integrity.ensure_intact(version)
    return ensure(version, variant)


@dataclass(frozen=True)
class PreviewState:
    """What a page shows for a version: the rendition's status and the size to reserve."""

    status: str
    width: int | None = None
    height: int | None = None


def thumbnail_states(versions: Iterable[DocumentVersion | None]) -> dict[str, PreviewState]:
    """Thumbnail states of many versions in one query, by version id (pages never render)."""
    wanted = {v.id: v for v in versions if v is not None}
    variants = {canonical_variant(kind_of(v), THUMBNAIL) for v in wanted.values()}
    rows: dict[str, DocumentPreview] = {}
    if wanted:
        found = db.session.scalars(
            select(DocumentPreview).where(
                DocumentPreview.version_id.in_(list(wanted)),
                DocumentPreview.variant.in_(variants),
            )
        )
        for row in found:
            if row.variant == canonical_variant(kind_of(wanted[row.version_id]), THUMBNAIL):
                rows[row.version_id] = row
    states: dict[str, PreviewState] = {}
    for version_id, version in wanted.items():
        stored = rows.get(version_id)
        if stored is not None:
            states[version_id] = PreviewState(stored.status, stored.width, stored.height)
        elif kind_of(version) is None:
            states[version_id] = PreviewState(PreviewStatus.unsupported)
        else:  # made before previews existed, or its job never ran: asked for when shown
            states[version_id] = PreviewState(PreviewStatus.pending)
    return states


def view_state(version: DocumentVersion) -> PreviewState:
    row = preview_for(version.id, canonical_variant(kind_of(version), VIEW))
    if row is None:
        status = PreviewStatus.unsupported if kind_of(version) is None else PreviewStatus.pending
        return PreviewState(status)
    return PreviewState(row.status, row.width, row.height)


def pdfjs_limit() -> int:
    """Largest PDF the in-browser viewer loads whole; larger ones are shown page by page."""
    return int(_config("PREVIEW_PDFJS_MAX_BYTES", 50 * 1024 * 1024))


def page_count(version: DocumentVersion) -> int | None:
    """The PDF's page count, once any of its renditions has been drawn."""
    return db.session.scalars(
        select(DocumentPreview.page_count).where(
            DocumentPreview.version_id == version.id, DocumentPreview.page_count.is_not(None)
        )
    ).first()


def rendition_chunks(row: DocumentPreview) -> Iterator[bytes]:
    """The stored rendition's bytes."""
    if row.status != PreviewStatus.ready or not row.blob_key:
        raise NotFound()
    try:
        return store().open_range(row.blob_key)
    except StorageError as exc:
        raise StorageUnavailable(_("La vista previa no está disponible.")) from exc


# ------------------------------------------------------------------ the job


def claim(version_id: str, variant: str) -> DocumentPreview | None:
    """Start (or retry after a crash) a pending rendition; None when there is nothing to do."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        return None
    row = preview_for(version_id, variant) or ensure(version, variant)
    if row.status != PreviewStatus.pending:
        return None
    row.attempts = (row.attempts or 0) + 1
    if row.attempts > MAX_ATTEMPTS:
        # every earlier attempt died without an answer (killed worker, lost machine)
        _finish(row, PreviewStatus.failed, "gave_up", f"{MAX_ATTEMPTS} attempts without a result")
        db.session.flush()
        return None
    db.session.flush()
    return row


def render(row: DocumentPreview) -> None:
    """Draw the rendition and store it; every failure ends as a status, never an exception."""
    version = row.version
    kind = kind_of(version)
    if kind is None or not _applies(kind, row.variant):
        _finish(row, PreviewStatus.unsupported, "unsupported")
        return
    if version.size > _max_source_bytes():
        _finish(
            row, PreviewStatus.failed, render_lib.TooLarge.code, "the file is over the size limit"
        )
        return
    page = 1
    side = SIDES[row.variant] if row.variant in SIDES else SIDES[PAGE_PREFIX]
    if row.variant.startswith(PAGE_PREFIX):
        page = int(row.variant[len(PAGE_PREFIX) :])
    request = render_lib.PreviewRequest(kind, max_side=side, page=page)
    try:
        with local_file(store(), version.blob_key) as source:
            rendition = render_lib.render_contained(source, request, limits())
    except render_lib.UnsupportedFile as error:
        _finish(row, PreviewStatus.unsupported, error.code, str(error))
        return
    except render_lib.PreviewError as error:
        _finish(row, PreviewStatus.failed, error.code, str(error))
        return
    except StorageError as error:
        _finish(row, PreviewStatus.failed, "source_unavailable", repr(error))
        return
    except Exception as error:  # noqa: BLE001 - a bad file must not take the worker down
        log.exception("preview %s of version %s failed", row.variant, row.version_id)
        _finish(row, PreviewStatus.failed, "internal_error", repr(error))
        return
    blob = store().put(BytesIO(rendition.data))
    row.blob_key = blob.key
    row.media_type = rendition.media_type
    row.width, row.height = rendition.width, rendition.height
    row.page_count = rendition.page_count
    _finish(row, PreviewStatus.ready)


def fail_rendition(version_id: str, variant: str, code: str, detail: str = "") -> None:
    """Mark a rendition failed from outside ``render`` (a task that gave up)."""
    row = preview_for(version_id, variant)
    if row is not None and row.status == PreviewStatus.pending:
        _finish(row, PreviewStatus.failed, code, detail)


def _finish(
    row: DocumentPreview, status: PreviewStatus, code: str | None = None, detail: str = ""
) -> None:
    row.status = status
    row.error = code[:40] if code else None
    row.error_detail = detail[:500] or None
    row.finished_at = utcnow()
