"""Self-activation: a new client goes from an invitation to active spaces with no staff typing.

Staff start an onboarding (the person, the services); the person sets a password from the
invitation, sends photos of their identity document, confirms what was read; staff approve
(two of them when the firm asks for four eyes); the engagement letter is made from the
services' templates and signed, by the client first and then the firm; the moment the last
signature is in, the services' spaces and document requests open. Each step is a transition
of ``workflows.onboarding``; every step is audited.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie

from app.extensions import db
from app.models import (
    Client,
    Document,
    Onboarding,
    Permission,
    Service,
    SignatureRequest,
    Space,
    SpaceMember,
    User,
)
from app.models.base import as_utc
from app.services import alerts, audit, clients, documents, events, requests, signatures
from app.services.access import require_staff
from app.services.accounts import (
    EMAIL_RE,
    create_user,
    end_links,
    find_user_by_email,
    issue_api_token,
    normalise_email,
)
from app.services.accounts import accept_invitation as accept_account_invitation
from app.services.alerts import LateThing
from app.services.catalogue import ensure_catalogue, get_service
from app.services.errors import (
    AccessDenied,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from app.services.identity_photos import (
    IDENTITY_MAX_BYTES,
    IdentityFile,
    images_of,
    read_limited,
)
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import setting
from app.services.settings import get_setting
from app.services.text import checked_text
from ocr.identity import IDENTITY_FIELDS, MIN_SIDE, IdentityReading, read_identity
from signing.letter import Letter, render_letter
from workflows import onboarding as rules
from workflows.onboarding import OnboardingAction, OnboardingStatus

INTAKE_SPACE_NAME = "Documentación de alta"
ENGAGEMENT_LEVEL = "B-LT"
#: Problems that stop an approval: the firm cannot take an expired or someone else's document.
BLOCKING_PROBLEMS = ("expired_document", "document_already_used")
PROBLEM_TEXT = {
    "expired_document": _l("El documento está caducado: envíe uno en vigor."),
    "mrz_check_failed": _l(
        "Los dígitos de control de la zona de lectura mecánica no cuadran: compruebe los datos "
        "o haga otra foto."
    ),
    "unreadable": _l("No hemos podido leer el documento."),
    "name_mismatch": _l("El nombre del documento no coincide con el de la invitación."),
    "document_already_used": _l("Ese documento ya figura en otro cliente del despacho."),
}
HINT_TEXT = {
    "blur": _l("La foto sale movida o desenfocada: apoye el móvil y enfoque de cerca."),
    "glare": _l("Hay un reflejo sobre el documento: evite la luz directa o el flash."),
    "crop": _l("Falta parte del documento: encuadre la tarjeta entera, con sus cuatro esquinas."),
}


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- access


def get_onboarding(actor: User, onboarding_id: str) -> Onboarding:
    """Staff see every onboarding; a person only their own (anything else is not found)."""
    found = db.session.get(Onboarding, str(onboarding_id or ""))
    if found is None or not (actor.is_staff or found.user_id == actor.id):
        raise NotFound()
    return found


def list_onboardings(
    actor: User, *, status: str | None = None, page: PageArgs | None = None
) -> Page[Onboarding]:
    """Newest first: every one for the firm, a person's own for them."""
    query = select(Onboarding)
    if not actor.is_staff:
        query = query.where(Onboarding.user_id == actor.id)
    if status:
        if status not in {s.value for s in OnboardingStatus}:
            raise ValidationFailed({"status": _("Ese estado no existe.")})
        query = query.where(Onboarding.status == status)
    order = (Key(Onboarding.created_at, desc=True), Key(Onboarding.id, desc=True))
    return keyset(query, order, page, scope="onboardings")


def open_onboarding_for(user: User) -> Onboarding | None:
    """The person's onboarding still in progress, if any (where their login leads them)."""
    return db.session.execute(
        select(Onboarding)
        .where(
            Onboarding.user_id == user.id,
            Onboarding.status.in_([s.value for s in OnboardingStatus if not s.is_terminal]),
        )
        .order_by(Onboarding.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _move(item: Onboarding, action: OnboardingAction) -> None:
    try:
        new = rules.apply(item.status, action)
    except rules.InvalidTransition as exc:
        raise InvalidTransition(
            _("No se puede: el alta está en el paso «%(status)s».", status=item.status)
        ) from exc
    values: dict[str, Any] = {"status": new.value, "status_since": _now()}
    if new in (OnboardingStatus.REJECTED, OnboardingStatus.EXPIRED):
        values["reached"] = item.status
    # Only from the status this request read: of two requests that move one onboarding at
    # once (two approvals, an approval and a rejection), the second finds it moved and stops.
    moved = db.session.execute(
        update(Onboarding)
        .where(Onboarding.id == item.id, Onboarding.status == item.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(_("Esta alta acaba de cambiar de paso: vuelva a cargarla."))
    for name, value in values.items():
        set_committed_value(item, name, value)


# ---------------------------------------------------------------- starting


def _services_from(keys: Any) -> list[Service]:
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise ValidationFailed({"services": _("Elija al menos un servicio del catálogo.")})
    chosen = []
    for key in dict.fromkeys(keys):
        service = db.session.execute(
            select(Service).where(Service.key == key, Service.active.is_(True))
        ).scalar_one_or_none()
        if service is None:
            raise ValidationFailed({"services": _("El servicio «%(key)s» no existe.", key=key)})
        chosen.append(service)
    return chosen


def start_onboarding(
    actor: User,
    *,
    email: Any,
    name: Any,
    kind: Any,
    services: Any,
    client_name: Any = None,
    tax_id: Any = None,
) -> Onboarding:
    """Invite a new client: the client, an intake space and the person's account are made now."""
    require_staff(actor)
    ensure_catalogue()
    errors: dict[str, str] = {}
    person = checked_text(errors, "name", name, max_length=200, required=True)
    company = checked_text(errors, "client_name", client_name, max_length=200)
    tax = checked_text(errors, "tax_id", tax_id, max_length=32)
    if kind not in ("person", "company"):
        errors["kind"] = _("El tipo debe ser person o company.")
    elif kind == "company" and not company:
        errors["client_name"] = _("Indique el nombre de la sociedad.")
    if not isinstance(email, str) or not EMAIL_RE.match(normalise_email(email)):
        errors["email"] = _("Introduzca un e-mail válido.")
    elif find_user_by_email(email):
        errors["email"] = _("Ya existe un usuario con este e-mail.")
    try:
        chosen = _services_from(services)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        chosen = []
    if errors:
        raise ValidationFailed(errors)
    client = clients.create_client(
        actor,
        name=company if kind == "company" and company else person or "",
        tax_id=tax,
        kind=kind,
    )
    intake = clients.create_space(actor, client.id, name=INTAKE_SPACE_NAME, kind="general")
    user = create_user(
        actor,
        email=email,
        name=person or "",
        role="client",
        client_id=client.id,
        invitation_template="onboarding_invitation",
        invitation_context={"services": [s.name for s in chosen]},
    )
    clients.add_member(actor, intake.id, user_id=user.id, permission=Permission.contribute)
    item = Onboarding(
        status=OnboardingStatus.INVITED.value,
        email=user.email,
        name=user.name,
        kind=kind,
        client_name=company,
        tax_id=tax,
        services=[s.key for s in chosen],
        addendum=False,
        client_id=client.id,
        user_id=user.id,
        intake_space_id=intake.id,
        owner_id=actor.id,
        identity_documents=[],
        approvals=[],
        spaces=[],
        reminders_sent=0,
    )
    db.session.add(item)
    db.session.flush()
    audit.record("onboarding_started", actor, f"onboarding:{item.id}", services=item.services)
    return item


def accept_invitation(token: Any, password: Any) -> tuple[User, str, datetime]:
    """The person sets a password from the invitation link; an API token signs them in."""
    errors = {}
    if not isinstance(token, str) or not token:
        errors["token"] = _("Indique el código del enlace de invitación.")
    if not isinstance(password, str):
        errors["password"] = _("Elija una contraseña.")
    if errors:
        raise ValidationFailed(errors)
    user = accept_account_invitation(token, password)
    invitation_accepted(user)
    api_token, expires = issue_api_token(user)
    return user, api_token, expires


def invitation_accepted(user: User) -> None:
    """Move the person's onboarding on once they have a password (web or API)."""
    item = open_onboarding_for(user)
    if item is not None and item.status == OnboardingStatus.INVITED:
        _move(item, OnboardingAction.ACCEPT_INVITATION)
        audit.record("onboarding_invitation_accepted", user, f"onboarding:{item.id}")


# ---------------------------------------------------------------- identity


def submit_identity(
    actor: User,
    onboarding_id: str,
    *,
    front: IdentityFile | None,
    back: IdentityFile | None = None,
    today: date,
) -> Onboarding:
    """Read the identity photos, store them for staff only, and propose the fields."""
    item = get_onboarding(actor, onboarding_id)
    if actor.id != item.user_id:
        raise AccessDenied(_("Solo la persona invitada envía su documento."))
    if item.status != OnboardingStatus.IDENTITY:
        raise InvalidTransition(
            _("No se puede enviar el documento en el paso «%(status)s».", status=item.status)
        )
    if front is None:
        raise ValidationFailed({"front": _("Envíe la foto de la cara delantera.")})
    sent = [("front", front)] + ([("back", back)] if back is not None else [])
    contents = [(field, upload, read_limited(upload, field)) for field, upload in sent]
    images: list[Image.Image] = []
    for field, _upload, data in contents:
        images.extend(images_of(data, field))
    reading = read_identity(images[:3], today=today)
    stored = []
    for field, upload, data in contents:
        document = documents.add_internal_document(
            actor,
            item.intake_space_id,
            io.BytesIO(data),
            filename=upload.filename or f"{field}.jpg",
            title=_("Documento de identidad (%(side)s)", side=field),
            category="identidad",
        )
        stored.append(document.id)
    item.identity_documents = [*item.identity_documents, *stored]
    item.identity = {**_identity_record(item, reading, today), "documents": stored}
    audit.record(
        "onboarding_identity_read",
        actor,
        f"onboarding:{item.id}",
        documents=stored,
        problems=item.identity["problems"],
        mrz_valid=reading.mrz_valid,
    )
    return item


def _identity_record(item: Onboarding, reading: IdentityReading, today: date) -> dict[str, Any]:
    problems = list(reading.problems)
    values = reading.values()
    if "unreadable" not in problems and not _names_match(item.name, values):
        problems.append("name_mismatch")
    number = values.get("document_number")
    if number and _number_used_elsewhere(item, number):
        problems.append("document_already_used")
    return {
        "fields": {
            name: {
                "value": found.value,
                "confidence": found.confidence,
                "source": found.source,
                "image": found.image,
                "box": list(found.box),
            }
            for name, found in reading.fields.items()
        },
        "mrz_valid": reading.mrz_valid,
        "problems": problems,
        "hints": list(reading.hints),
        "read_at": _now().isoformat(),
        "read_on": today.isoformat(),
    }


def _fold_words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return {word for word in re.split(r"[^A-Z]+", plain) if len(word) > 1}


def _names_match(invited: str, values: dict[str, str]) -> bool:
    """The invitation's name is the document's: every given name and a surname in common."""
    given = _fold_words(values.get("given_names", ""))
    surnames = _fold_words(values.get("surnames", ""))
    words = _fold_words(invited)
    if not given or not surnames:
        return True  # nothing read to compare: "unreadable" says it already
    return given <= words and bool(surnames & words)


def _number_used_elsewhere(item: Onboarding, number: str) -> bool:
    other_onboarding = db.session.execute(
        select(Onboarding.id).where(
            Onboarding.document_number == number,
            Onboarding.client_id != item.client_id,
            Onboarding.status != OnboardingStatus.REJECTED.value,
        )
    ).first()
    other_person = db.session.execute(
        select(User.id).where(User.national_id == number, User.client_id != item.client_id)
    ).first()
    other_client = db.session.execute(
        select(Client.id).where(Client.tax_id == number, Client.id != item.client_id)
    ).first()
    return bool(other_onboarding or other_person or other_client)


_DATE_FIELDS = ("birth_date", "expiry_date")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _checked_fields(raw: Any, base: dict[str, str], today: date) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationFailed({"fields": _("Envíe los campos como un objeto {nombre: valor}.")})
    errors: dict[str, str] = {}
    merged = dict(base)
    for name, value in raw.items():
        if name not in IDENTITY_FIELDS:
            errors[str(name)[:60]] = _("Ese campo no existe.")
            continue
        text = checked_text(errors, name, value, max_length=100, required=True)
        if text is not None:
            merged[name] = text.upper() if name in ("document_number", "nationality") else text
    for name in IDENTITY_FIELDS:
        if not merged.get(name) and name not in errors:
            errors[name] = _("Falta este dato.")
    for name in _DATE_FIELDS:
        if merged.get(name) and name not in errors:
            try:
                # fromisoformat also takes 19800101 or 1980-W01-1: only the contract's form
                written = (
                    date.fromisoformat(merged[name]) if _ISO_DATE.match(merged[name]) else None
                )
            except ValueError:
                written = None
            if written is None:
                errors[name] = _("Escriba la fecha como AAAA-MM-DD.")
            elif name == "birth_date" and written > today:
                errors[name] = _("La fecha de nacimiento no puede ser posterior a hoy.")
    kind = merged.get("document_type")
    if kind not in (None, "dni", "nie", "passport"):
        errors["document_type"] = _("El tipo debe ser dni, nie o passport.")
    number = merged.get("document_number", "")
    if kind == "dni" and number and not stdnum_dni.is_valid(number):
        errors.setdefault("document_number", _("La letra de ese DNI no es la que corresponde."))
    if kind == "nie" and number and not stdnum_nie.is_valid(number):
        errors.setdefault("document_number", _("La letra de ese NIE no es la que corresponde."))
    if errors:
        raise ValidationFailed(errors)
    return merged


def confirm_identity(actor: User, onboarding_id: str, *, fields: Any, today: date) -> Onboarding:
    """The person confirms (or corrects) what was read; staff review it next."""
    item = get_onboarding(actor, onboarding_id)
    if actor.id != item.user_id:
        raise AccessDenied(_("Solo la persona invitada confirma sus datos."))
    if item.status != OnboardingStatus.IDENTITY:
        raise InvalidTransition(
            _("No se puede confirmar en el paso «%(status)s».", status=item.status)
        )
    if not item.identity:
        raise InvalidTransition(_("Envíe primero las fotos de su documento."))
    read = {name: found["value"] for name, found in item.identity["fields"].items()}
    confirmed = _checked_fields(fields, read, today)
    _recheck(item, confirmed, today)
    item.confirmed_fields = confirmed
    item.document_number = confirmed["document_number"]
    _move(item, OnboardingAction.CONFIRM_IDENTITY)
    corrected = sorted(name for name in confirmed if read.get(name) != confirmed[name])
    audit.record(
        "onboarding_identity_confirmed", actor, f"onboarding:{item.id}", corrected=corrected
    )
    staff = [item.owner] if item.owner is not None else []
    notify(staff, "onboarding_review", link=f"/onboarding/{item.id}", title=item.name)
    return item


def _recheck(item: Onboarding, confirmed: dict[str, str], today: date) -> None:
    """The flags again, on the values as confirmed (a correction may clear or raise one)."""
    assert item.identity is not None
    problems = [p for p in item.identity["problems"] if p in ("mrz_check_failed",)]
    if date.fromisoformat(confirmed["expiry_date"]) < today:
        problems.append("expired_document")
    if not _names_match(item.name, confirmed):
        problems.append("name_mismatch")
    if _number_used_elsewhere(item, confirmed["document_number"]):
        problems.append("document_already_used")
    item.identity = {**item.identity, "problems": problems}


def identity_image(actor: User, onboarding_id: str, index: int) -> bytes:
    """Image ``index`` of the last reading, as a JPEG with the fields' boxes drawn on it.

    The person and staff see where each value was read, as on the forms page; the photos
    themselves stay internal documents that a client cannot list or download.
    """
    item = get_onboarding(actor, onboarding_id)
    record = item.identity or {}
    images: list[Image.Image] = []
    for document_id in record.get("documents", []):
        document = db.session.get(Document, document_id)
        if document is None or document.current_version is None:
            continue
        data = documents.read_version_bytes(document.current_version, max_size=IDENTITY_MAX_BYTES)
        images.extend(images_of(data, "front"))
    if not 0 <= index < len(images):
        raise NotFound()
    image = ImageOps.exif_transpose(images[index]) or images[index]
    image = image.convert("RGB")
    scale = 1.0
    if min(image.size) < MIN_SIDE:
        scale = MIN_SIDE / min(image.size)
    draw = ImageDraw.Draw(image)
    for found in record.get("fields", {}).values():
        if found.get("image") != index or not any(found.get("box", [])):
            continue
        x0, y0, x1, y1 = (round(v / scale) for v in found["box"])
        colour = (22, 120, 60) if found.get("confidence", 0) >= 80 else (200, 120, 0)
        draw.rectangle((x0 - 4, y0 - 4, x1 + 4, y1 + 4), outline=colour, width=4)
    image.thumbnail((1600, 1600))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# ---------------------------------------------------------------- staff decide


def approve(actor: User, onboarding_id: str, *, fields: Any = None, today: date) -> Onboarding:
    """Approve the identity; with four eyes, a second staff member's approval makes it count."""
    item = get_onboarding(actor, onboarding_id)  # not found before not allowed
    require_staff(actor)
    _read_for_change(item)
    if item.status != OnboardingStatus.REVIEW:
        raise InvalidTransition(
            _("Solo se aprueba un alta en revisión (está en «%(status)s»).", status=item.status)
        )
    if fields:
        item.confirmed_fields = _checked_fields(fields, item.confirmed_fields or {}, today)
        item.document_number = item.confirmed_fields["document_number"]
        _recheck(item, item.confirmed_fields, today)
    problems = (item.identity or {}).get("problems", [])
    blocking = [p for p in problems if p in BLOCKING_PROBLEMS]
    if blocking:
        raise InvalidTransition(" ".join(str(PROBLEM_TEXT[p]) for p in blocking), problems=blocking)
    if actor.id in item.approvals:
        raise InvalidTransition(_("Ya aprobó esta alta: falta la aprobación de otra persona."))
    item.approvals = [*item.approvals, actor.id]
    audit.record(
        "onboarding_approved", actor, f"onboarding:{item.id}", approvals=len(item.approvals)
    )
    needed = 2 if get_setting("onboarding_four_eyes") else 1
    if len(item.approvals) < needed:
        return item
    _move(item, OnboardingAction.APPROVE)
    _apply_identity(item)
    _send_engagement(actor, item, today)
    return item


def _read_for_change(item: Onboarding) -> None:
    """Wait until no other request is changing this onboarding, then read it as stored now.

    Its list of approvals is written whole: two staff approving at once would each keep only
    their own. An update of nothing takes the row (PostgreSQL) or the database's write lock
    (SQLite) until this request ends.
    """
    db.session.execute(
        update(Onboarding)
        .where(Onboarding.id == item.id)
        .values(status=Onboarding.status)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(item)


def _apply_identity(item: Onboarding) -> None:
    confirmed = item.confirmed_fields or {}
    user = item.user
    if confirmed.get("document_type") in ("dni", "nie"):
        user.national_id = confirmed["document_number"]
        if item.kind == "person" and not item.client.tax_id:
            item.client.tax_id = confirmed["document_number"]
    full = f"{confirmed.get('given_names', '')} {confirmed.get('surnames', '')}".strip()
    if full:
        user.name = full.title()
        if item.kind == "person":
            item.client.name = user.name


def reject(actor: User, onboarding_id: str, *, reason: Any) -> Onboarding:
    item = get_onboarding(actor, onboarding_id)
    require_staff(actor)
    errors: dict[str, str] = {}
    text = checked_text(errors, "reason", reason, max_length=2000, required=True, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    _move(item, OnboardingAction.REJECT)
    _end_open_steps(actor, item)
    item.reason = text
    audit.record("onboarding_rejected", actor, f"onboarding:{item.id}", reason=text)
    notify([item.user], "onboarding_rejected", link=f"/onboarding/{item.id}", title=text or "")
    return item


def _end_open_steps(actor: User | None, item: Onboarding) -> None:
    """A rejected or expired onboarding takes its letter to sign and its invitation link
    with it: nobody signs for services the firm will not give, or signs in to start over."""
    request_id = item.engagement_signature_request_id
    request = db.session.get(SignatureRequest, request_id) if request_id else None
    if request is not None and request.status in signatures.OPEN:
        # An expiry has no actor: the request is withdrawn in the name of whoever sent it.
        withdrawing = actor if actor is not None else request.created_by
        signatures.cancel_checked(withdrawing, request)  # 409 while it is being signed now
    if item.user is not None:
        end_links(item.user, "invite")


# ---------------------------------------------------------------- the engagement letter


def _letter_for(item: Onboarding, today: date) -> Letter:
    confirmed = item.confirmed_fields or {}
    chosen = [get_service(key) for key in item.services]
    firm = str(setting("FIRM_NAME"))
    paragraphs: list[str] = []
    for service in chosen:
        text = service.engagement_template
        values = {
            "client_name": item.client.name,
            "tax_id": item.client.tax_id or confirmed.get("document_number", ""),
            "address": confirmed.get("address", "el que consta en el portal"),
            "service": service.name,
            "fees": service.fees or "según presupuesto",
            "date": today.strftime("%d/%m/%Y"),
            "firm": firm,
            "city": "Madrid",
        }
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        paragraphs.extend(text.split("\n\n"))
    title = _("Adenda a la hoja de encargo") if item.addendum else _("Hoja de encargo profesional")
    return Letter(
        title=f"{title}: {item.client.name}",
        paragraphs=paragraphs,
        issuer=firm,
        subject=", ".join(s.name for s in chosen),
    )


def _send_engagement(actor: User, item: Onboarding, today: date) -> None:
    """Make the letter (PDF/A), store it in the intake space and ask both sides to sign it."""
    pdf = render_letter(_letter_for(item, today))
    _ensure_member(item.intake_space_id, actor, Permission.manage)
    document = documents.upload_document(
        actor,
        item.intake_space_id,
        io.BytesIO(pdf),
        filename="hoja-de-encargo.pdf",
        title=_("Hoja de encargo") if not item.addendum else _("Adenda a la hoja de encargo"),
        visibility="shared",
        category="encargo",
    )
    signature = signatures.request_signatures(
        actor,
        document.id,
        signer_ids=[item.user_id, actor.id],
        level=ENGAGEMENT_LEVEL,
        message=_("Firme la hoja de encargo para activar sus servicios."),
        stamp_page=-1,
    )
    item.engagement_document_id = document.id
    item.engagement_signature_request_id = signature.id
    audit.record(
        "onboarding_engagement_sent",
        actor,
        f"onboarding:{item.id}",
        document=document.id,
        signature_request=signature.id,
    )


def _ensure_member(space_id: str, user: User, permission: Permission) -> None:
    if user.is_admin:
        return
    found = db.session.execute(
        select(SpaceMember).where(SpaceMember.space_id == space_id, SpaceMember.user_id == user.id)
    ).scalar_one_or_none()
    if found is None:
        db.session.add(SpaceMember(space_id=space_id, user_id=user.id, permission=permission))
        db.session.flush()


# ---------------------------------------------------------------- activation


def _on_signature_completed(request: SignatureRequest) -> None:
    item = db.session.execute(
        select(Onboarding).where(Onboarding.engagement_signature_request_id == request.id)
    ).scalar_one_or_none()
    if item is not None and item.status == OnboardingStatus.ENGAGEMENT:
        activate(item, today=_now().date())


events.signature_request_completed.connect(_on_signature_completed)


def activate(item: Onboarding, *, today: date) -> Onboarding:
    """Open the services' spaces and requests; safe to call again (nothing is made twice)."""
    if item.status == OnboardingStatus.ACTIVE:
        return item
    _move(item, OnboardingAction.ACTIVATE)
    owner = item.owner
    acting = owner if owner is not None and owner.active else _any_admin()
    opened: list[str] = list(item.spaces)
    for key in item.services:
        service = get_service(key)
        name = service.space_name.replace("{year}", str(today.year)).replace(
            "{client}", item.client.name
        )
        space = db.session.execute(
            select(Space).where(Space.client_id == item.client_id, Space.name == name)
        ).scalar_one_or_none()
        if space is None:
            space = clients.create_space(acting, item.client_id, name=name, kind=service.space_kind)
        _ensure_member(space.id, item.user, Permission.contribute)
        if owner is not None:
            _ensure_member(space.id, owner, Permission.manage)
        if space.id not in opened:
            opened.append(space.id)
        if service.request_template and not _has_request(space.id, service.request_template):
            requests.create_request(
                acting,
                space.id,
                title=None,
                due_date=today + timedelta(days=30),
                template=service.request_template,
                today=today,
            )
    item.spaces = opened
    item.activated_at = _now()
    audit.record("onboarding_activated", None, f"onboarding:{item.id}", spaces=opened)
    notify(
        [item.user],
        "onboarding_active",
        link=f"/spaces/{opened[0]}" if opened else "/",
        title=", ".join(item.services),
    )
    return item


def _has_request(space_id: str, template_key: str) -> bool:
    from app.models import DocumentRequest

    return (
        db.session.execute(
            select(DocumentRequest.id).where(
                DocumentRequest.space_id == space_id, DocumentRequest.template_key == template_key
            )
        ).first()
        is not None
    )


def _any_admin() -> User:
    admin = db.session.execute(
        select(User).where(User.role == "admin", User.active.is_(True)).limit(1)
    ).scalar_one_or_none()
    if admin is None:
        raise NotFound(_("No hay ningún administrador activo."))
    return admin


# ---------------------------------------------------------------- one more service


def subscribe(actor: User, key: str, *, today: date) -> Onboarding:
    """An active client takes one more service: only the addendum is signed."""
    if not actor.is_client or actor.client_id is None:
        raise AccessDenied(_("Solo un cliente puede contratar un servicio."))
    service = get_service(key)
    if not service.active:
        raise NotFound(_("Ese servicio no existe."))
    previous = db.session.execute(
        select(Onboarding)
        .where(Onboarding.user_id == actor.id, Onboarding.status == OnboardingStatus.ACTIVE.value)
        .order_by(Onboarding.activated_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous is None:
        raise InvalidTransition(_("Termine primero su alta en el despacho."))
    if key in _active_services(actor):
        raise InvalidTransition(_("Ya tiene contratado ese servicio."))
    waiting = db.session.execute(
        select(Onboarding.id).where(
            Onboarding.user_id == actor.id,
            Onboarding.addendum.is_(True),
            Onboarding.status == OnboardingStatus.ENGAGEMENT.value,
        )
    ).all()
    for (other_id,) in waiting:
        other = db.session.get(Onboarding, other_id)
        if other is not None and key in other.services:
            raise InvalidTransition(_("Ya hay una adenda de ese servicio pendiente de firma."))
    item = Onboarding(
        status=rules.initial_status(existing_client=True).value,
        email=actor.email,
        name=actor.name,
        kind=previous.kind,
        client_name=previous.client_name,
        tax_id=previous.tax_id,
        services=[service.key],
        addendum=True,
        client_id=actor.client_id,
        user_id=actor.id,
        intake_space_id=previous.intake_space_id,
        owner_id=previous.owner_id,
        identity=None,
        identity_documents=[],
        confirmed_fields=previous.confirmed_fields,
        approvals=[],
        spaces=[],
        reminders_sent=0,
    )
    db.session.add(item)
    db.session.flush()
    owner = previous.owner if previous.owner is not None and previous.owner.active else None
    _send_engagement(owner or _any_admin(), item, today)
    audit.record("onboarding_subscribed", actor, f"onboarding:{item.id}", service=service.key)
    return item


def _active_services(user: User) -> set[str]:
    rows = db.session.execute(
        select(Onboarding.services).where(
            Onboarding.client_id == user.client_id,
            Onboarding.status == OnboardingStatus.ACTIVE.value,
        )
    ).scalars()
    return {key for keys in rows for key in keys}


# ---------------------------------------------------------------- what the API shows


def steps_of(item: Onboarding) -> list[dict[str, str]]:
    return [
        {"name": name, "status": state.value}
        for name, state in rules.steps(item.status, reached=item.reached, addendum=item.addendum)
    ]


def waiting_on(item: Onboarding) -> str | None:
    side = rules.waits_on(item.status)
    if item.status == OnboardingStatus.ENGAGEMENT and item.engagement_signature_request_id:
        request = db.session.get(SignatureRequest, item.engagement_signature_request_id)
        if request is not None:
            turn = signatures.whose_turn(request)
            if turn and all(signer.user_id != item.user_id for signer in turn):
                return "firm"
    return side


def engagement_document(item: Onboarding) -> Document | None:
    return (
        db.session.get(Document, item.engagement_document_id)
        if item.engagement_document_id
        else None
    )


def describe(item: Onboarding) -> dict[str, Any]:
    """The onboarding as the API and the pages show it."""
    identity = None
    if item.identity:
        record = item.identity
        problems = list(record.get("problems", []))
        identity = {
            "fields": {name: found["value"] for name, found in record["fields"].items()},
            "details": record["fields"],
            "mrz_valid": bool(record.get("mrz_valid")),
            "problems": problems,
            "messages": [str(PROBLEM_TEXT[p]) for p in problems if p in PROBLEM_TEXT],
            "hints": list(record.get("hints", [])),
            "confirmed": item.confirmed_fields,
        }
    spaces = [db.session.get(Space, space_id) for space_id in item.spaces]
    return {
        "id": item.id,
        "status": item.status,
        "steps": steps_of(item),
        "waiting_on": waiting_on(item),
        "email": item.email,
        "name": item.name,
        "kind": item.kind,
        "services": list(item.services),
        "addendum": item.addendum,
        "client_id": item.client_id,
        "user_id": item.user_id,
        "spaces": [{"id": s.id, "name": s.name, "kind": s.kind} for s in spaces if s is not None],
        "identity": identity,
        "approvals": len(item.approvals),
        "engagement_document_id": item.engagement_document_id,
        "engagement_signature_request_id": item.engagement_signature_request_id,
        "reason": item.reason,
        "created_at": item.created_at,
        "status_since": item.status_since,
        "activated_at": item.activated_at,
    }


# ---------------------------------------------------------------- stalls


def remind_after() -> timedelta:
    """How long an onboarding may wait on one side before it counts as stalled."""
    return timedelta(days=int(get_setting("onboarding_remind_days")))


def stall_policy() -> rules.StallPolicy:
    """How long an onboarding may wait on one side before reminders, escalation, expiry."""
    return rules.StallPolicy(
        remind_after=remind_after(),
        escalate_after=timedelta(days=int(get_setting("onboarding_escalate_days"))),
        expire_after=timedelta(days=int(get_setting("onboarding_expire_days"))),
    )


def _open_onboardings() -> list[Onboarding]:
    open_statuses = [s.value for s in OnboardingStatus if not s.is_terminal]
    return list(
        db.session.execute(select(Onboarding).where(Onboarding.status.in_(open_statuses))).scalars()
    )


def _since(item: Onboarding) -> datetime:
    since = item.status_since
    return as_utc(since)


def _stalled(now: datetime) -> list[LateThing]:
    """Onboardings waiting too long, for the one alert engine: whose turn it is, then the owner."""
    policy = stall_policy()
    late = []
    for item in _open_onboardings():
        verdict = rules.stall(item.status, _since(item), now, policy)
        if verdict not in (rules.Stall.REMIND, rules.Stall.ESCALATE):
            continue

        def recipients(level: int, item: Onboarding = item) -> list[User]:
            side = waiting_on(item)
            first = [item.user] if side == "client" else ([item.owner] if item.owner else [])
            if level >= 2 and item.owner is not None:
                return [*first, item.owner]
            return first

        late.append(
            LateThing(
                kind="onboarding",
                target_type="onboarding",
                target_id=item.id,
                space_id=item.intake_space_id,
                level=2 if verdict is rules.Stall.ESCALATE else 1,
                due=(_since(item) + policy.remind_after).date(),
                summary=item.client_name or item.name,
                link=f"/onboarding/{item.id}",
                recipients=recipients,
            )
        )
    return late


alerts.register_finder(_stalled)


def expire_stalled(now: datetime | None = None) -> int:
    """Onboardings left waiting past the firm's limit expire (their link and steps end)."""
    now = now or _now()
    policy = stall_policy()
    expired = 0
    for item in _open_onboardings():
        if rules.stall(item.status, _since(item), now, policy) is rules.Stall.EXPIRE:
            try:
                _end_open_steps(None, item)
            except InvalidTransition:
                continue  # its letter is being signed right now: the next sweep decides
            _move(item, OnboardingAction.EXPIRE)
            audit.record("onboarding_expired", None, f"onboarding:{item.id}")
            expired += 1
    db.session.flush()
    return expired


__all__ = [
    "BLOCKING_PROBLEMS",
    "HINT_TEXT",
    "PROBLEM_TEXT",
    "IdentityFile",
    "accept_invitation",
    "activate",
    "approve",
    "confirm_identity",
    "get_onboarding",
    "describe",
    "identity_image",
    "invitation_accepted",
    "list_onboardings",
    "open_onboarding_for",
    "reject",
    "start_onboarding",
    "steps_of",
    "submit_identity",
    "subscribe",
    "expire_stalled",
    "waiting_on",
]
