"""Per-client storage quotas: what a client's spaces hold, and what an upload may add."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Client, Document, DocumentVersion, Space, Upload, User
from app.services import audit
from app.services.access import get_client, require_admin
from app.services.errors import TooLarge, ValidationFailed


def human_size(size: int) -> str:
    """1536 -> '1,5 KB' in Spanish, '1.5 KB' in English (binary multiples)."""
    value = Decimal(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            pattern = "0" if unit == "B" else "#,##0" if value >= 100 else "#,##0.#"
            return f"{format_decimal(value, format=pattern)} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def client_usage(client_id: str) -> int:
    """Bytes stored for the client: each blob once (restored versions share theirs)."""
    blobs = (
        select(DocumentVersion.blob_key, func.max(DocumentVersion.size).label("size"))
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(Space, Space.id == Document.space_id)
        .where(Space.client_id == client_id)
        .group_by(DocumentVersion.blob_key)
        .subquery()
    )
    return int(db.session.execute(select(func.coalesce(func.sum(blobs.c.size), 0))).scalar_one())


def client_reserved(client_id: str, *, exclude_upload: str | None = None) -> int:
    """Bytes announced by resumable uploads still under way into the client's spaces."""
    query = (
        select(func.coalesce(func.sum(Upload.length), 0))
        .join(Space, Space.id == Upload.space_id)
        .where(
            Space.client_id == client_id,
            Upload.completed_at.is_(None),
            Upload.expires_at > datetime.now(UTC),
        )
    )
    if exclude_upload is not None:
        query = query.where(Upload.id != exclude_upload)
    # COALESCE already turns "no upload" into 0, but SQLAlchemy types the sum of a nullable
    # column as possibly NULL.
    return int(db.session.execute(query).scalar_one() or 0)


def check_quota(space: Space, adding: int, *, exclude_upload: str | None = None) -> None:
    """TooLarge (413) when `adding` more bytes would take the space's client over its quota."""
    client = space.client
    quota = client.storage_quota
    if quota is None:
        return
    used = client_usage(client.id) + client_reserved(client.id, exclude_upload=exclude_upload)
    if used + adding > quota:
        raise TooLarge(
            _(
                "Este archivo (%(size)s) no cabe en la cuota de almacenamiento del cliente "
                "(%(quota)s; en uso %(used)s). No se ha guardado nada.",
                size=human_size(adding),
                quota=human_size(quota),
                used=human_size(used),
            ),
            quota=quota,
            used=used,
        )


def set_quota(actor: User, client_id: str, quota: int | None) -> Client:
    """An administrator sets (or removes, with None) a client's storage quota in bytes."""
    require_admin(actor)
    client = get_client(actor, client_id)
    if quota is not None and quota < 0:
        raise ValidationFailed({"quota": _("La cuota no puede ser negativa.")})
    before = client.storage_quota
    client.storage_quota = quota
    db.session.flush()
    audit.record("quota_changed", actor, f"client:{client.id}", before=before, after=quota)
    return client
