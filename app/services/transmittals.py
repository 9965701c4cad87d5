"""Transmittals: a set of versions sent to people for review, and who opened what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Document,
    DocumentVersion,
    Permission,
    Transmittal,
    TransmittalItem,
    TransmittalRecipient,
    User,
    VersionAccess,
)
from app.services import audit
from app.services.access import can_see_document, get_space, require_staff, space_permission
from app.services.errors import NotFound, ValidationFailed
from app.services.notifications import notify
from app.services.text import checked_text


def _ids(errors: dict[str, str], field: str, value: object) -> list[str]:
    """A list of ids as sent; anything else (a number, a list of objects) is an invalid field."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[field] = _("Envíe una lista de ids.")
        return []
    return list(value)


def create_transmittal(
    actor: User,
    space_id: str,
    *,
    document_ids: object,
    recipient_ids: object,
    due_date: date | None,
    message: object,
    today: date | None = None,
) -> Transmittal:
    space = get_space(actor, space_id, Permission.contribute)
    require_staff(actor)
    errors: dict[str, str] = {}
    text = checked_text(errors, "message", message, max_length=5000, multiline=True)
    asked_documents = _ids(errors, "document_ids", document_ids)
    asked_recipients = _ids(errors, "recipient_ids", recipient_ids)
    if errors:
        raise ValidationFailed(errors)
    found_documents = [db.session.get(Document, d) for d in dict.fromkeys(asked_documents)]
    documents = [
        d for d in found_documents if d is not None and d.space_id == space.id and not d.deleted_at
    ]
    if not documents or len(documents) < len(found_documents):
        errors["document_ids"] = _("Elija documentos de este espacio.")
    found_recipients = [db.session.get(User, u) for u in dict.fromkeys(asked_recipients)]
    recipients = [
        u for u in found_recipients if u is not None and space_permission(u, space) is not None
    ]
    if not recipients or len(recipients) < len(found_recipients):
        errors["recipient_ids"] = _("Elija destinatarios con acceso a este espacio.")
    elif not errors:
        for user in recipients:
            for document in documents:
                if not can_see_document(user, document):
                    errors["document_ids"] = (
                        f"«{document.title}» es interno: no se puede remitir a {user.name}."
                    )
    if due_date is not None and today is not None and due_date < today:
        errors["due_date"] = _("La fecha límite no puede estar en el pasado.")
    if errors:
        raise ValidationFailed(errors)
    versions: list[DocumentVersion] = []
    for document in documents:
        version = document.current_version
        if version is None:  # every document is created with its first version
            raise NotFound()
        versions.append(version)
    number = (
        db.session.execute(
            select(func.count(Transmittal.id)).where(Transmittal.space_id == space.id)
        ).scalar_one()
        + 1
    )
    transmittal = Transmittal(
        space_id=space.id,
        number=number,
        created_by_id=actor.id,
        message=text,
        due_date=due_date,
    )
    db.session.add(transmittal)
    db.session.flush()
    for version in versions:
        db.session.add(TransmittalItem(transmittal_id=transmittal.id, version_id=version.id))
    for user in recipients:
        db.session.add(TransmittalRecipient(transmittal_id=transmittal.id, user_id=user.id))
    db.session.flush()
    audit.record(
        "transmittal_sent",
        actor,
        f"space:{space.id}",
        transmittal_id=transmittal.id,
        versions=[f"{d.id}:v{d.current_version_number}" for d in documents],
        recipients=[u.id for u in recipients],
    )
    notify(
        recipients,
        "transmittal",
        link=f"/transmittals/{transmittal.id}",
        number=f"{space.name} #{number}",
        count=len(documents),
        due=due_date.isoformat() if due_date else "—",
    )
    return transmittal


def get_transmittal(actor: User, transmittal_id: str) -> Transmittal:
    transmittal = db.session.get(Transmittal, str(transmittal_id))
    if transmittal is None:
        raise NotFound()
    get_space(actor, transmittal.space_id)
    is_recipient = any(r.user_id == actor.id for r in transmittal.recipients)
    if not (actor.is_staff or is_recipient):
        raise NotFound()
    for item in transmittal.items:
        if not can_see_document(actor, item.version.document):
            raise NotFound()
    return transmittal


@dataclass(frozen=True)
class AccessCell:
    opened_at: object
    downloaded_at: object
    downloads: int


def access_table(transmittal: Transmittal) -> dict[tuple[str, str], AccessCell]:
    """(version id, user id) → when first opened and downloaded."""
    version_ids = [i.version_id for i in transmittal.items]
    user_ids = [r.user_id for r in transmittal.recipients]
    rows = db.session.execute(
        select(VersionAccess).where(
            VersionAccess.version_id.in_(version_ids), VersionAccess.user_id.in_(user_ids)
        )
    ).scalars()
    return {
        (r.version_id, r.user_id): AccessCell(r.first_opened_at, r.first_downloaded_at, r.downloads)
        for r in rows
    }


def list_transmittals(actor: User, space_id: str) -> list[Transmittal]:
    space = get_space(actor, space_id)
    query = (
        select(Transmittal)
        .where(Transmittal.space_id == space.id)
        .order_by(Transmittal.number.desc())
    )
    found = list(db.session.execute(query).scalars())
    if actor.is_staff:
        return found
    return [t for t in found if any(r.user_id == actor.id for r in t.recipients)]


def version_of(item: TransmittalItem) -> DocumentVersion:
    return item.version
