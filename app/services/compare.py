"""What changed between two versions of a document, computed in the background and kept.

A compare is a ``DocumentPreview`` row of the newer version with the variant
``compare-N`` (N: the older version's number), like any other derived rendition: its
blob is a JSON manifest (``previews.compare``'s result, plus the blob keys of the
overlay and page images, each a blob of its own). The job runs the compare in a
contained child process with the preview limits of time and memory.

After each new version the compare with the previous one is queued (the previews'
upload switch turns it off in tests); any other pair is queued when someone asks, and
the answer says ``queued``, ``running``, ``done`` or ``failed`` meanwhile.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import previews as render_lib
from app.extensions import db
from app.models import (
    Comment,
    Document,
    DocumentPreview,
    DocumentVersion,
    PreviewStatus,
    ReviewEvent,
    User,
)
from app.models.base import utcnow
from app.services import integrity
from app.services import previews as preview_service
from app.services.access import get_document, require_staff
from app.services.errors import NotFound, StorageUnavailable, ValidationFailed
from app.services.runtime import enqueue_after_commit, store
from previews import PreviewError, PreviewKind, TooLarge, UnsupportedFile
from previews.compare import CompareLimits, CompareResult, compare_contained
from storage import StorageError, local_file

log = logging.getLogger(__name__)

TASK = "portal.compare_versions"
PREFIX = "compare-"
MAX_ATTEMPTS = 3
#: kinds compared page by page (with each other: a scanned page against a PDF), and DXF
RASTER = frozenset({PreviewKind.pdf, PreviewKind.image})
#: what the API says for each stored status
STATUS = {
    PreviewStatus.ready: "done",
    PreviewStatus.failed: "failed",
    PreviewStatus.unsupported: "failed",
}
IMAGE_NAME = re.compile(r"^(overlay|from|to)-\d{1,6}(-on-\d{1,6})?\.jpg$")


def variant(from_number: int) -> str:
    return f"{PREFIX}{int(from_number)}"


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def limits() -> CompareLimits:
    rendering = preview_service.limits()
    defaults = CompareLimits()
    return CompareLimits(
        dpi=_config("COMPARE_DPI", defaults.dpi),
        max_pages=int(_config("COMPARE_MAX_PAGES", defaults.max_pages)),
        max_source_pixels=rendering.max_source_pixels,
        max_dxf_entities=rendering.max_dxf_entities,
        timeout_seconds=_config("COMPARE_TIMEOUT", defaults.timeout_seconds),
        memory_bytes=rendering.memory_bytes,
    )


def comparable(older: DocumentVersion, newer: DocumentVersion) -> bool:
    a, b = preview_service.kind_of(older), preview_service.kind_of(newer)
    return (a in RASTER and b in RASTER) or (a == b == PreviewKind.dxf)


def _on_upload() -> bool:
    configured = current_app.config.get("COMPARE_ON_UPLOAD")
    if configured is None:
        configured = current_app.config.get("PREVIEWS_ON_UPLOAD")
    # Unset: on, except in test apps, where only the tests about compares turn it on.
    return bool(configured) if configured is not None else not current_app.testing


# ------------------------------------------------------------------ asking for compares


def version_added(document: Document, version: DocumentVersion) -> None:
    """Hook of every new version: queue its compare with the one before (after the commit)."""
    if version.number < 2 or not _on_upload():
        return
    previous = next((v for v in document.versions if v.number == version.number - 1), None)
    if previous is not None and comparable(previous, version):
        ensure(previous, version)


def compare_row(newer_id: str, from_number: int) -> DocumentPreview | None:
    return db.session.scalars(
        select(DocumentPreview).where(
            DocumentPreview.version_id == newer_id,
            DocumentPreview.variant == variant(from_number),
        )
    ).first()


def ensure(older: DocumentVersion, newer: DocumentVersion) -> DocumentPreview:
    """The compare's row, made once; its job is (re)sent after the commit while pending."""
    row = compare_row(newer.id, older.number)
    if row is None:
        candidate = DocumentPreview(
            version_id=newer.id,
            variant=variant(older.number),
            status=PreviewStatus.pending,
            attempts=0,
        )
        if not comparable(older, newer):
            _finish(candidate, PreviewStatus.unsupported, UnsupportedFile.code)
        try:
            with db.session.begin_nested():
                db.session.add(candidate)
            row = candidate
        except IntegrityError:  # another request made it first
            row = compare_row(newer.id, older.number)
            if row is None:
                raise
    if row.status == PreviewStatus.pending:
        stale = utcnow() - timedelta(seconds=_config("PREVIEW_REQUEUE_AFTER", 600))
        if row.queued_at is None or row.queued_at < stale:
            row.queued_at = utcnow()
            enqueue_after_commit(TASK, newer.id, older.number)
    db.session.flush()
    return row


def _number(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 9:
        number = int(value)
    else:
        raise ValidationFailed({name: _("El número de versión debe ser un entero a partir de 1.")})
    if number < 1:
        raise ValidationFailed({name: _("El número de versión debe ser un entero a partir de 1.")})
    return number


@dataclass
class Comparison:
    """A compare as a caller sees it: the two versions, the status and, when done, the result."""

    document: Document
    older: DocumentVersion
    newer: DocumentVersion
    row: DocumentPreview
    result: CompareResult | None = None
    images: dict[str, str] | None = None

    @property
    def status(self) -> str:
        if self.row.status == PreviewStatus.pending:
            return "running" if (self.row.attempts or 0) > 0 else "queued"
        return STATUS.get(PreviewStatus(self.row.status), "failed")


def versions_to_compare(
    document: Document, from_value: Any = None, to_value: Any = None, actor: User | None = None
) -> tuple[DocumentVersion, DocumentVersion]:
    """The two versions: ``to`` defaults to the current one; ``from`` to the last version
    before it that ``actor`` reviewed (checked, validated, asked changes on), else the one
    just before it."""
    by_number = {v.number: v for v in document.versions}
    to_number = _number(to_value, "to") or document.current_version_number
    from_number = _number(from_value, "from")
    if from_number is None:
        from_number = _last_reviewed(document, to_number, actor) or to_number - 1
        if from_number < 1:
            raise ValidationFailed({"from": _("No hay una versión anterior con la que comparar.")})
    if from_number not in by_number or to_number not in by_number:
        raise NotFound()
    return by_number[from_number], by_number[to_number]


def _last_reviewed(document: Document, before: int, actor: User | None) -> int | None:
    if actor is None:
        return None
    earlier = {v.id: v.number for v in document.versions if v.number < before}
    if not earlier:
        return None
    reviewed = db.session.scalars(
        select(ReviewEvent.version_id).where(
            ReviewEvent.actor_id == actor.id,
            ReviewEvent.version_id.in_(list(earlier)),
            ReviewEvent.action != "open",
        )
    ).all()
    return max((earlier[v] for v in reviewed), default=None)


def request_compare(
    actor: User, document_id: str, from_value: Any = None, to_value: Any = None
) -> Comparison:
    """The compare of two versions the caller may open (404 otherwise), queued if not made."""
    document = get_document(actor, document_id)
    older, newer = versions_to_compare(document, from_value, to_value, actor)
    integrity.ensure_intact(older)
    integrity.ensure_intact(newer)
    row = ensure(older, newer)
    comparison = Comparison(document, older, newer, row)
    if row.status == PreviewStatus.ready:
        manifest = _manifest(row)
        comparison.result = CompareResult.from_dict(manifest["result"])
        comparison.images = dict(manifest.get("images") or {})
    return comparison


def image_chunks(comparison: Comparison, name: str) -> Iterator[bytes]:
    """One overlay or page image of a finished compare."""
    if comparison.images is None or name not in comparison.images or not IMAGE_NAME.match(name):
        raise NotFound()
    try:
        return store().open_range(comparison.images[name])
    except StorageError as exc:
        raise StorageUnavailable(_("La comparación no está disponible.")) from exc


def _manifest(row: DocumentPreview) -> dict[str, Any]:
    try:
        data = b"".join(store().open_range(row.blob_key or ""))
    except StorageError as exc:
        raise StorageUnavailable(_("La comparación no está disponible.")) from exc
    found: dict[str, Any] = json.loads(data)
    return found


@dataclass(frozen=True)
class CarriedPin:
    """A pinned comment of the older version, where it falls on the newer one."""

    comment: Comment
    page: int | None
    x: float
    y: float
    resolved: bool


def carried_pins(comparison: Comparison) -> list[CarriedPin]:
    """The older version's pinned comments placed on the newer version's pages.

    A pin goes through its page's alignment; on a page dropped from the newer version it
    keeps no page (``page`` None) and is listed apart.
    """
    comments = db.session.scalars(
        select(Comment)
        .where(
            Comment.document_id == comparison.document.id,
            Comment.version_number == comparison.older.number,
            Comment.page.is_not(None),
            Comment.x.is_not(None),
        )
        .order_by(Comment.created_at)
    ).all()
    pages = comparison.result.pages if comparison.result is not None else []
    carried: list[CarriedPin] = []
    for comment in comments:
        pair = next((p for p in pages if p.from_page == comment.page), None)
        x, y = float(comment.x or 0), float(comment.y or 0)
        page: int | None = comment.page if comparison.result is None else None
        if pair is not None and pair.to_page is not None:
            page = pair.to_page
            if pair.transform:
                x, y = _inverse(pair.transform, x, y)
        carried.append(CarriedPin(comment, page, x, y, comment.resolved_at is not None))
    return carried


def _inverse(transform: list[list[float]], x: float, y: float) -> tuple[float, float]:
    """A point of the old page (fractions) on the new page: the transform maps new to old."""
    (a, b, c), (d, e, f) = transform
    det = a * e - b * d
    if abs(det) < 1e-9:
        return x, y
    u, v = x - c, y - f
    nx, ny = (e * u - b * v) / det, (a * v - d * u) / det
    return min(1.0, max(0.0, nx)), min(1.0, max(0.0, ny))


# ------------------------------------------------------------------ the job


def claim(newer_id: str, from_number: int) -> DocumentPreview | None:
    """Start (or retry after a crash) a pending compare; None when there is nothing to do."""
    newer = db.session.get(DocumentVersion, newer_id)
    if newer is None:
        return None
    older = next((v for v in newer.document.versions if v.number == from_number), None)
    if older is None:
        return None
    row = compare_row(newer_id, from_number) or ensure(older, newer)
    if row.status != PreviewStatus.pending:
        return None
    row.attempts = (row.attempts or 0) + 1
    if row.attempts > MAX_ATTEMPTS:
        _finish(row, PreviewStatus.failed, "gave_up", f"{MAX_ATTEMPTS} attempts without a result")
        db.session.flush()
        return None
    db.session.flush()
    return row


def run(row: DocumentPreview) -> None:
    """Compare the two versions and store the result; every failure ends as a status."""
    newer = row.version
    from_number = int(row.variant[len(PREFIX) :])
    older = next((v for v in newer.document.versions if v.number == from_number), None)
    if older is None or not comparable(older, newer):
        _finish(row, PreviewStatus.unsupported, UnsupportedFile.code)
        return
    biggest = int(_config("PREVIEW_MAX_SOURCE_BYTES", 8 * 1024**3))
    if max(older.size, newer.size) > biggest:
        _finish(row, PreviewStatus.failed, TooLarge.code, "a file is over the size limit")
        return
    folder = Path(tempfile.mkdtemp(prefix="portal-compare-"))
    sources = ExitStack()
    try:
        old_path = sources.enter_context(local_file(store(), older.blob_key))
        new_path = sources.enter_context(local_file(store(), newer.blob_key))
        output = folder / "out"
        result = compare_contained(
            old_path,
            preview_service.kind_of(older) or PreviewKind.pdf,
            new_path,
            preview_service.kind_of(newer) or PreviewKind.pdf,
            output,
            limits(),
        )
        images: dict[str, str] = {}
        for page in result.pages:
            for name in page.images.values():
                if name not in images:
                    with (output / name).open("rb") as handle:
                        images[name] = store().put(handle).key
        manifest = {"result": result.to_dict(), "images": images}
        blob = store().put(BytesIO(json.dumps(manifest).encode("utf-8")))
    except UnsupportedFile as error:
        _finish(row, PreviewStatus.unsupported, error.code, str(error))
        return
    except PreviewError as error:
        _finish(row, PreviewStatus.failed, error.code, str(error))
        return
    except StorageError as error:
        _finish(row, PreviewStatus.failed, "source_unavailable", repr(error))
        return
    except Exception as error:  # noqa: BLE001 - a bad file must not take the worker down
        log.exception("compare %s of version %s failed", row.variant, row.version_id)
        _finish(row, PreviewStatus.failed, "internal_error", repr(error))
        return
    finally:
        sources.close()
        shutil.rmtree(folder, ignore_errors=True)
    row.blob_key = blob.key
    row.media_type = "application/json"
    row.page_count = len(result.pages)
    _finish(row, PreviewStatus.ready)


def _finish(
    row: DocumentPreview, status: PreviewStatus, code: str | None = None, detail: str = ""
) -> None:
    row.status = status
    row.error = code[:40] if code else None
    row.error_detail = detail[:500] or None
    row.finished_at = utcnow()


# ------------------------------------------------------------------ two files, not stored

#: an ad hoc compare runs while the page waits: smaller caps than a version's
ADHOC_MAX_BYTES = 50 * 1024 * 1024
ADHOC_MAX_PAGES = 20


@dataclass
class FileComparison:
    """A compare of two files sent by staff: nothing is stored; images kept in memory."""

    result: CompareResult
    images: dict[str, bytes]


def compare_files(
    actor: User, before: tuple[BinaryIO, str | None], after: tuple[BinaryIO, str | None]
) -> FileComparison:
    """Compare two files not in the portal (staff only), in the contained child process."""
    require_staff(actor)
    kinds = []
    errors: dict[str, str] = {}
    for field, (_stream, name) in (("before", before), ("after", after)):
        kind = render_lib.kind_for(None, name)
        if kind is None and name:
            kind = render_lib.kind_for(mimetypes.guess_type(name)[0], name)
        if kind not in RASTER and kind != PreviewKind.dxf:
            errors[field] = _("Elija un PDF, una imagen o un plano DXF.")
        kinds.append(kind)
    if not errors and (kinds[0] == PreviewKind.dxf) != (kinds[1] == PreviewKind.dxf):
        errors["after"] = _("Un plano DXF solo se compara con otro plano DXF.")
    if errors:
        raise ValidationFailed(errors)
    folder = Path(tempfile.mkdtemp(prefix="portal-compare-files-"))
    try:
        paths = []
        for field, (stream, _name) in (("before", before), ("after", after)):
            path = folder / field
            size = 0
            with path.open("wb") as handle:
                while chunk := stream.read(1024 * 1024):
                    size += len(chunk)
                    if size > ADHOC_MAX_BYTES:
                        raise ValidationFailed(
                            {
                                field: _(
                                    "El archivo pasa de 50 MB: súbalo al portal para compararlo."
                                )
                            }
                        )
                    handle.write(chunk)
            if size == 0:
                raise ValidationFailed({field: _("El archivo está vacío.")})
            paths.append(path)
        base = limits()
        caps = CompareLimits(
            dpi=base.dpi,
            max_pages=ADHOC_MAX_PAGES,
            max_source_pixels=base.max_source_pixels,
            max_dxf_entities=base.max_dxf_entities,
            image_side=1200,
            timeout_seconds=min(base.timeout_seconds, 120),
            memory_bytes=base.memory_bytes,
        )
        output = folder / "out"
        try:
            result = compare_contained(
                paths[0],
                kinds[0] or PreviewKind.pdf,
                paths[1],
                kinds[1] or PreviewKind.pdf,
                output,
                caps,
            )
        except TooLarge:
            raise ValidationFailed(
                {
                    "after": _(
                        "Los archivos son demasiado grandes para compararlos aquí (hasta %(n)s páginas).",
                        n=ADHOC_MAX_PAGES,
                    )
                }
            ) from None
        except PreviewError:
            raise ValidationFailed(
                {"after": _("No se pudieron leer los archivos para compararlos.")}
            ) from None
        images = {
            name: (output / name).read_bytes()
            for page in result.pages
            for name in page.images.values()
        }
        return FileComparison(result, images)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
