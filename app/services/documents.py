"""Documents and versions: upload, history, download, restore, soft delete."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db
from app.models import (
    Document,
    DocumentVersion,
    Folder,
    Permission,
    SignatureRequest,
    SignatureRequestStatus,
    Space,
    User,
    VersionSource,
    Visibility,
)
from app.models.base import utcnow
from app.services import audit, file_types, integrity, quotas, review, search
from app.services import compare as compare_service
from app.services import ocr as ocr_service
from app.services import previews as preview_service
from app.services.access import get_document, get_space, require_staff
from app.services.errors import (
    InvalidTransition,
    NotFound,
    StorageUnavailable,
    TemporarilyUnavailable,
    TooLarge,
    ValidationFailed,
)
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import setting, store
from app.services.text import checked_text
from storage import BlobNotFound, BlobTooLarge, StorageError, StorageFull, StoredBlob

_BIDI_AND_CONTROL = re.compile("[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_filename(raw: str | None) -> str:
    """A display name from whatever the browser sent; never used as a storage path."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = _BIDI_AND_CONTROL.sub("", name).strip().strip(".") or "archivo"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot and len(ext) <= 20 else ""
        name = (stem if dot else name)[: 200 - len(ext) - 1] + ("." + ext if ext else "")
    return name


def guess_content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _store_blob(stream: BinaryIO):  # type: ignore[no-untyped-def]
    try:
        return store().put(stream, max_size=int(setting("MAX_UPLOAD_SIZE")))
    except BlobTooLarge as exc:
        raise TooLarge(
            _("El archivo supera el tamaño máximo permitido (%(limit)s bytes).", limit=exc.limit)
        ) from exc
    except StorageFull as exc:
        raise StorageUnavailable(
            _("No queda espacio en el almacenamiento. No se ha guardado nada.")
        ) from exc
    except StorageError as exc:
        raise TemporarilyUnavailable(
            _(
                "El almacenamiento no responde ahora mismo. No se ha guardado nada; "
                "vuelva a intentarlo en unos segundos."
            )
        ) from exc


def _content_not_now() -> str:
    """The store did not answer (restarting, unreachable): worth trying again shortly."""
    return _(
        "El contenido de esta versión no está disponible ahora mismo; "
        "vuelva a intentarlo en unos segundos."
    )


def store_blob(stream: BinaryIO) -> StoredBlob:
    """A blob for a document made later (a signature campaign's PDFs, filed by its job)."""
    return _store_blob(stream)  # type: ignore[no-any-return]


def described(
    *, title: object = None, category: object = None, note: object = None
) -> tuple[str | None, str | None, str | None]:
    """Title, category and note as typed, or ``ValidationFailed`` naming each bad one.

    Checked before the file is stored, so that a refused title never costs an upload.
    """
    errors: dict[str, str] = {}
    clean_title = checked_text(errors, "title", title, max_length=300)
    clean_category = checked_text(errors, "category", category, max_length=100)
    clean_note = checked_text(errors, "note", note, max_length=2000, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    return clean_title, clean_category, clean_note


def _new_version(
    actor: User,
    document: Document,
    *,
    blob_key: str,
    sha256: str,
    size: int,
    filename: str,
    note: str | None,
    source: str,
    restored_from: int | None = None,
) -> DocumentVersion:
    _title, _category, clean_note = described(note=note)
    version = DocumentVersion(
        document_id=document.id,
        number=document.current_version_number + 1,
        blob_key=blob_key,
        sha256=sha256,
        size=size,
        filename=filename,
        content_type=guess_content_type(filename),
        uploaded_by_id=actor.id,
        note=clean_note,
        source=source,
        restored_from=restored_from,
        review_state="received",
    )
    db.session.add(version)
    document.current_version_number = version.number
    document.updated_at = utcnow()
    db.session.flush()
    review.version_started(document, version)
    ocr_service.version_added(document, version)  # index for search, queue OCR
    preview_service.version_added(version)  # thumbnails in the background
    compare_service.version_added(document, version)  # what changed, in the background
    return version


def document_target(
    actor: User, space_id: str, *, visibility: str | None, folder_id: str | None
) -> tuple[Space, str]:
    """The space a new document goes into and its visibility, once the caller may add it there."""
    space = get_space(actor, space_id, Permission.contribute)
    if actor.is_client:
        visibility = Visibility.shared  # clients never choose visibility
    visibility = visibility or Visibility.shared
    if visibility not in {v.value for v in Visibility}:
        raise ValidationFailed({"visibility": _("La visibilidad debe ser shared o internal.")})
    if folder_id:
        folder = db.session.get(Folder, folder_id)
        if folder is None or folder.space_id != space.id:
            raise ValidationFailed({"folder_id": _("Esa carpeta no existe en este espacio.")})
    return space, visibility


def upload_document(
    actor: User,
    space_id: str,
    stream: BinaryIO,
    *,
    filename: str | None,
    title: str | None = None,
    visibility: str | None = None,
    category: str | None = None,
    folder_id: str | None = None,
    note: str | None = None,
) -> Document:
    """A new document with its first version; the blob is written before any row is visible."""
    document_target(actor, space_id, visibility=visibility, folder_id=folder_id)
    described(title=title, category=category, note=note)
    name = clean_filename(filename)
    blob = _store_blob(file_types.checked_stream(stream, name))
    try:
        return add_document_from_blob(
            actor,
            space_id,
            blob,
            filename=name,
            title=title,
            visibility=visibility,
            category=category,
            folder_id=folder_id,
            note=note,
        )
    except Exception:
        store().delete(blob.key)
        raise


def add_internal_document(
    actor: User,
    space_id: str,
    stream: BinaryIO,
    *,
    filename: str | None,
    title: str | None = None,
    category: str | None = None,
) -> Document:
    """A document only staff see, sent by ``actor`` (who may be a client): identity photos.

    A client never chooses visibility; this is for what the portal itself files away
    from a client's upload, with the client as its author in the versions and the audit.
    """
    space = get_space(actor, space_id, Permission.contribute)
    clean_title, clean_category, _note = described(title=title, category=category)
    name = clean_filename(filename)
    blob = _store_blob(file_types.checked_stream(stream, name))
    try:
        quotas.check_quota(space, blob.size)
        document = Document(
            space_id=space.id,
            title=clean_title or name,
            category=clean_category,
            visibility=Visibility.internal,
            created_by_id=actor.id,
        )
        db.session.add(document)
        db.session.flush()
        _version_from_blob(
            actor,
            document,
            blob,
            filename=name,
            note=None,
            source=VersionSource.upload,
            action="upload",
            visibility=Visibility.internal,
        )
    except Exception:
        store().delete(blob.key)
        raise
    return document


def add_document_from_blob(
    actor: User,
    space_id: str,
    blob: StoredBlob,
    *,
    filename: str | None,
    title: str | None = None,
    visibility: str | None = None,
    category: str | None = None,
    folder_id: str | None = None,
    note: str | None = None,
) -> Document:
    """A new document whose first version is a blob already stored (e.g. a finished tus upload).

    Access, visibility and the client's quota are checked here; the caller removes
    the blob if this raises, since no row points at it then.
    """
    space, visibility = document_target(actor, space_id, visibility=visibility, folder_id=folder_id)
    clean_title, clean_category, _note = described(title=title, category=category, note=note)
    quotas.check_quota(space, blob.size)
    name = clean_filename(filename)
    document = Document(
        space_id=space.id,
        folder_id=folder_id or None,
        title=clean_title or name,
        category=clean_category,
        visibility=visibility,
        created_by_id=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    _version_from_blob(
        actor,
        document,
        blob,
        filename=name,
        note=note,
        source=VersionSource.upload,
        action="upload",
        visibility=visibility,
    )
    return document


def _version_from_blob(
    actor: User,
    document: Document,
    blob: StoredBlob,
    *,
    filename: str,
    note: str | None,
    source: str,
    action: str,
    **details: Any,
) -> DocumentVersion:
    """A new version holding an already stored blob, with its audit event."""
    version = _new_version(
        actor,
        document,
        blob_key=blob.key,
        sha256=blob.sha256,
        size=blob.size,
        filename=filename,
        note=note,
        source=source,
    )
    audit.record(
        action,
        actor,
        f"document:{document.id}",
        version=version.number,
        sha256=blob.sha256,
        size=blob.size,
        **details,
    )
    return version


def upload_version(
    actor: User,
    document_id: str,
    stream: BinaryIO,
    *,
    filename: str | None,
    note: str | None = None,
) -> DocumentVersion:
    get_document(actor, document_id, Permission.contribute)
    described(note=note)
    name = clean_filename(filename)
    blob = _store_blob(file_types.checked_stream(stream, name))
    try:
        return add_version_from_blob(actor, document_id, blob, filename=name, note=note)
    except Exception:
        store().delete(blob.key)
        raise


def add_version_from_blob(
    actor: User,
    document_id: str,
    blob: StoredBlob,
    *,
    filename: str | None,
    note: str | None = None,
) -> DocumentVersion:
    """A new version whose content is a blob already stored; the caller removes it if this raises."""
    document = get_document(actor, document_id, Permission.contribute)
    quotas.check_quota(document.space, blob.size)
    return _version_from_blob(
        actor,
        document,
        blob,
        filename=clean_filename(filename),
        note=note,
        source=VersionSource.upload,
        action="upload",
    )


def restore_version(actor: User, document_id: str, number: int) -> DocumentVersion:
    """Restore makes a new version pointing at the old, untouched blob."""
    document = get_document(actor, document_id, Permission.contribute)
    old = get_version(actor, document.id, number)
    version = _new_version(
        actor,
        document,
        blob_key=old.blob_key,
        sha256=old.sha256,
        size=old.size,
        filename=old.filename,
        note=f"Restaurada desde la versión {old.number}",
        source=VersionSource.restore,
        restored_from=old.number,
    )
    audit.record(
        "restore",
        actor,
        f"document:{document.id}",
        version=version.number,
        restored_from=old.number,
    )
    return version


def add_signed_version(
    actor: User, document: Document, data: bytes, *, filename: str, note: str | None = None
) -> DocumentVersion:
    """A signed (or re-timestamped) PDF as a new version, source "signature".

    The signing service has already checked access and validated the PDF.
    """
    import io

    blob = _store_blob(io.BytesIO(data))
    try:
        version = _version_from_blob(
            actor,
            document,
            blob,
            filename=filename,
            note=note,
            source=VersionSource.signature,
            action="signed_version",
        )
    except Exception:
        store().delete(blob.key)
        raise
    return version


def read_version_bytes(version: DocumentVersion, *, max_size: int) -> bytes:
    """The whole content of a version, refused when too large or when its hash no longer matches."""
    import hashlib

    if version.size > max_size:
        raise TooLarge(
            _("El archivo supera el tamaño máximo para firmar (%(limit)s bytes).", limit=max_size)
        )
    try:
        data = b"".join(store().open_range(version.blob_key, 0, version.size))
    except (BlobNotFound, StorageError) as exc:
        raise StorageUnavailable(_("El contenido de esta versión no está disponible.")) from exc
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise StorageUnavailable(
            _("El contenido de esta versión no coincide con su huella SHA-256.")
        )
    return data


def get_version(actor: User, document_id: str, number: int) -> DocumentVersion:
    document = get_document(actor, document_id)
    version = db.session.execute(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == int(number)
        )
    ).scalar_one_or_none()
    if version is None:
        raise NotFound()
    return version


def list_versions(
    actor: User, document_id: str, page: PageArgs | None = None
) -> Page[DocumentVersion]:
    """A document's versions, newest first."""
    document = get_document(actor, document_id)
    audit.record("view", actor, f"document:{document.id}")
    query = select(DocumentVersion).where(DocumentVersion.document_id == document.id)
    order = (Key(DocumentVersion.number, desc=True), Key(DocumentVersion.id, desc=True))
    return keyset(query, order, page, scope=f"versions:{document.id}")


def _documents_query(
    actor: User,
    space: Space,
    *,
    state: str | None = None,
    q: str | None = None,
    category: str | None = None,
    folder_id: str | None = None,
) -> Select[Document]:
    query = select(Document).where(Document.space_id == space.id, Document.deleted_at.is_(None))
    if actor.is_client:
        query = query.where(Document.visibility == Visibility.shared)
    if category:
        query = query.where(Document.category == category)
    if folder_id:
        query = query.where(Document.folder_id == folder_id)
    if q:
        query = query.where(Document.title.ilike(f"%{q.strip()}%"))
    if state:
        query = query.join(
            DocumentVersion,
            (DocumentVersion.document_id == Document.id)
            & (DocumentVersion.number == Document.current_version_number),
        ).where(DocumentVersion.review_state == state)
    return query


def list_documents(
    actor: User,
    space_id: str,
    *,
    state: str | None = None,
    q: str | None = None,
    category: str | None = None,
    folder_id: str | None = None,
    page: PageArgs | None = None,
) -> Page[Document]:
    """A space's documents by title; filters narrow the list, a cursor keeps its place."""
    space = get_space(actor, space_id)
    query = _documents_query(actor, space, state=state, q=q, category=category, folder_id=folder_id)
    order = (Key(Document.title), Key(Document.id))
    return keyset(
        query.options(selectinload(Document.versions)), order, page, scope=f"documents:{space.id}"
    )


#: Orders a space's list of documents can take (the first is the default).
DOCUMENT_SORTS = {
    "title": (Document.title, Document.id),
    "recent": (Document.updated_at.desc(), Document.id),
}
PAGE_SIZE = 25
#: A document's current version, joined beside it (built once: aliasing costs per call).
_CURRENT_VERSION = aliased(DocumentVersion, name="current_version")


@dataclass(frozen=True)
class DocumentPage:
    """One page of a space's documents, with what the page links need."""

    #: Each document of the page with its current version (None before the first upload).
    rows: list[tuple[Document, DocumentVersion | None]]
    total: int
    page: int
    per_page: int
    sort: str

    @property
    def documents(self) -> list[Document]:
        return [document for document, _version in self.rows]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def page_of_documents(
    actor: User,
    space_id: str,
    *,
    state: str | None = None,
    q: str | None = None,
    folder_id: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> DocumentPage:
    """The documents of ``list_documents``, one page at a time, counted in SQL."""
    space = get_space(actor, space_id)
    query = _documents_query(actor, space, state=state, q=q, folder_id=folder_id)
    total = db.session.execute(query.with_only_columns(func.count(Document.id))).scalar_one()
    sort = sort if sort in DOCUMENT_SORTS else next(iter(DOCUMENT_SORTS))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    # Each document with its current version in the same query: a page shows only that one,
    # and loading every version of every listed document cost more than the rest of the page.
    current = _CURRENT_VERSION
    found = db.session.execute(
        query.add_columns(current)
        .outerjoin(
            current,
            (current.document_id == Document.id)
            & (current.number == Document.current_version_number),
        )
        .order_by(*DOCUMENT_SORTS[sort])
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return DocumentPage([(row[0], row[1]) for row in found], total, page, per_page, sort)


@dataclass(frozen=True)
class Download:
    version: DocumentVersion
    start: int
    length: int

    def chunks(self) -> Iterator[bytes]:
        return store().open_range(self.version.blob_key, self.start, self.length)

    def open_file(self) -> BinaryIO | None:
        """The requested bytes as a seekable file the web server can send itself, or None.

        Only stores with local files (the filesystem store) have one; the caller closes it.
        """
        try:
            return store().open_file(self.version.blob_key, self.start, self.length)
        except StorageError as exc:
            raise TemporarilyUnavailable(_content_not_now()) from exc

    def presigned_url(self) -> str | None:
        """A short-lived direct URL to the blob (MinIO), or None when the app must stream it.

        Issued only after open_version's access check; never logged nor audited.
        """
        try:
            return store().presigned_url(
                self.version.blob_key, filename=self.version.filename, expires_seconds=60
            )
        except StorageError as exc:
            raise TemporarilyUnavailable(_content_not_now()) from exc


def open_version(
    actor: User, document_id: str, number: int, *, start: int = 0, length: int | None = None
) -> Download:
    """Access check, audit, and a lazy byte stream of a version (or a range of it)."""
    version = get_version(actor, document_id, number)
    integrity.ensure_intact(version)
    try:
        present = store().exists(version.blob_key)
    except StorageError as exc:
        raise TemporarilyUnavailable(_content_not_now()) from exc
    if not present:
        raise StorageUnavailable(_("El contenido de esta versión no está disponible."))
    if length is None:
        length = version.size - start
    review.record_open(actor, version.document, version, downloaded=True)
    audit.record(
        "download",
        actor,
        f"document:{version.document_id}",
        version=version.number,
        range=f"{start}-{start + length - 1}" if (start or length != version.size) else None,
    )
    return Download(version=version, start=start, length=length)


def delete_document(actor: User, document_id: str) -> None:
    """Soft delete by staff: hidden everywhere, blobs and rows kept. Not while people are
    asked to sign it: the request would be left with nothing to sign (an onboarding waiting
    on its engagement letter, for good); it is cancelled first."""
    document = get_document(actor, document_id, Permission.contribute)
    require_staff(actor)
    signing = db.session.execute(
        select(SignatureRequest.id)
        .where(
            SignatureRequest.document_id == document.id,
            SignatureRequest.status.in_(
                (SignatureRequestStatus.pending, SignatureRequestStatus.in_progress)
            ),
        )
        .limit(1)
    ).first()
    if signing is not None:
        raise InvalidTransition(
            _(
                "Este documento tiene una solicitud de firma en curso: cancélela antes de "
                "eliminarlo."
            )
        )
    document.deleted_at = utcnow()
    document.deleted_by_id = actor.id
    search.index_document(document)  # the index says who may find it: nobody now
    audit.record("delete", actor, f"document:{document.id}")


def rename_document(actor: User, document_id: str, title: str | None) -> Document:
    """Give a document a new title (staff), which search then finds instead of the old one."""
    document = get_document(actor, document_id, Permission.contribute)
    require_staff(actor)
    if isinstance(title, str | None) and not " ".join((title or "").split()):
        raise ValidationFailed({"title": _("Escriba un título.")})
    errors: dict[str, str] = {}
    typed = checked_text(errors, "title", title, max_length=300, required=True)
    if errors or typed is None:
        raise ValidationFailed(errors or {"title": _("Escriba un título.")})
    cleaned = " ".join(typed.split())
    before = document.title
    if cleaned == before:
        return document
    document.title = cleaned
    document.updated_at = utcnow()
    search.index_document(document)  # the title only: the indexed text stays
    audit.record("rename", actor, f"document:{document.id}", before=before, after=cleaned)
    return document


def set_visibility(actor: User, document_id: str, visibility: str) -> Document:
    document = get_document(actor, document_id, Permission.contribute)
    require_staff(actor)
    if visibility not in {v.value for v in Visibility}:
        raise ValidationFailed({"visibility": _("La visibilidad debe ser shared o internal.")})
    before = document.visibility
    document.visibility = visibility
    search.index_document(document)  # the index says who may find it
    audit.record(
        "visibility_changed", actor, f"document:{document.id}", before=before, after=visibility
    )
    return document


def get_blob_missing(version: DocumentVersion) -> bool:
    try:
        return not store().exists(version.blob_key)
    except BlobNotFound:
        return True
