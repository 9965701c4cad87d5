"""Signature requests: asking for signatures, reading them, whose turn it is, declining.

A request is made on the current PDF version of a document, with ordered signers (or
any order). The PDF is checked before anyone is asked: broken, encrypted or empty files
are refused with a clear message.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Document,
    DocumentVersion,
    Permission,
    SignatureLevel,
    SignatureRequest,
    SignatureRequestSigner,
    SignatureRequestStatus,
    SignerStatus,
    SpaceMember,
    User,
)
from app.services import audit, documents, pki
from app.services.access import can_see_document, get_document, require_staff
from app.services.errors import AccessDenied, InvalidTransition, NotFound, ValidationFailed
from app.services.mail import queue_mail
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import request_ip, setting
from app.services.text import checked_text
from signing import EmptyPdf, EncryptedPdf, InvalidPdf, SigningError, page_boxes

LEVELS = tuple(level.value for level in SignatureLevel)
OPEN = (SignatureRequestStatus.pending, SignatureRequestStatus.in_progress)
MAX_SIGNERS = 10
MAX_PDF_SIZE = 200 * 1024 * 1024
# A job that has not finished by then was lost (worker crash): the signer may try again.
SIGNING_STALE_AFTER = timedelta(minutes=10)
_ANNUAL_ACCOUNTS = ("cuentas anuales", "annual accounts", "comptes anuals", "contas anuais")


def _now() -> datetime:
    return datetime.now(UTC)


def target_of(request: SignatureRequest) -> str:
    return f"signature_request:{request.id}"


# ------------------------------------------------------------------ reading


def get_request(actor: User, request_id: str) -> SignatureRequest:
    """A request, for anyone who can see its document (404 otherwise)."""
    request = db.session.get(SignatureRequest, str(request_id))
    if request is None:
        raise NotFound()
    get_document(actor, request.document_id)
    return request


def list_requests(
    actor: User, document_id: str, page: PageArgs | None = None
) -> Page[SignatureRequest]:
    """A document's signature requests, newest first."""
    document = get_document(actor, document_id)
    query = select(SignatureRequest).where(SignatureRequest.document_id == document.id)
    order = (Key(SignatureRequest.created_at, desc=True), Key(SignatureRequest.id, desc=True))
    return keyset(query, order, page, scope=f"signature-requests:{document.id}")


def signer_of(request: SignatureRequest, user: User) -> SignatureRequestSigner | None:
    return next((s for s in request.signers if s.user_id == user.id), None)


def whose_turn(request: SignatureRequest) -> list[SignatureRequestSigner]:
    """The signers who may sign now (one in ordered requests)."""
    if request.status not in OPEN:
        return []
    return [s for s in request.signers if s.status in (SignerStatus.pending, SignerStatus.signing)]


def is_pdf(version: DocumentVersion) -> bool:
    return version.content_type == "application/pdf" or version.filename.lower().endswith(".pdf")


def default_level(document: Document) -> str:
    """B-LTA for annual accounts (they must stay verifiable for years), else B-T."""
    described = _plain_text(document.category or document.title or "")
    if any(marker in described for marker in _ANNUAL_ACCOUNTS):
        return SignatureLevel.b_lta.value
    return SignatureLevel.b_t.value


def _plain_text(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def signer_candidates(actor: User, document: Document) -> list[User]:
    """Active people who can see the document: the space's members and the administrators."""
    members = select(SpaceMember.user_id).where(SpaceMember.space_id == document.space_id)
    query = (
        select(User)
        .where(User.active.is_(True), (User.id.in_(members)) | (User.role == "admin"))
        .order_by(User.name)
    )
    return [
        user for user in db.session.execute(query).scalars() if can_see_document(user, document)
    ]


# ------------------------------------------------------------------ creating


def pdf_problem(exc: SigningError) -> str:
    if isinstance(exc, EncryptedPdf):
        return "El PDF está protegido con contraseña; súbalo sin cifrar."
    if isinstance(exc, EmptyPdf):
        return "El PDF no tiene páginas."
    if isinstance(exc, InvalidPdf):
        return "El archivo no es un PDF válido o está dañado."
    return _("No se puede leer el PDF: %(error)s", error=exc)


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    signatures: int
    page_boxes: tuple[tuple[float, float, float, float], ...]


def inspect_pdf(data: bytes) -> PdfFacts:
    """Refuse what cannot be signed (broken, encrypted, no pages) and read the page sizes."""
    try:
        report = pki.validate(data)
    except InvalidPdf as exc:
        raise ValidationFailed({"document": pdf_problem(exc)}) from exc
    except SigningError as exc:
        raise ValidationFailed({"document": pdf_problem(exc)}) from exc
    boxes = page_boxes(data)
    return PdfFacts(pages=len(boxes) or 1, signatures=len(report.signatures), page_boxes=boxes)


def _parse_due(value: date | str | None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed({"due_date": _("Use una fecha AAAA-MM-DD.")}) from None


def _stamp_page(value: int | str | None, pages: int) -> int:
    """People count pages from 1 (negative from the end); the signing library from 0."""
    if value in (None, ""):
        return -1
    try:
        page = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"stamp_page": _("La página del sello debe ser un número.")}
        ) from None
    if page == 0 or page > pages or page < -pages:
        raise ValidationFailed(
            {
                "stamp_page": _(
                    "Elija una página entre 1 y %(pages)s (o -1 para la última).", pages=pages
                )
            }
        )
    return page - 1 if page > 0 else page


def request_signatures(
    actor: User,
    document_id: str,
    *,
    signer_ids: Iterable[str],
    level: str | None = None,
    certify: bool = False,
    due_date: date | str | None = None,
    message: str | None = None,
    any_order: bool = False,
    stamp_page: int | str | None = None,
    stamp_position: str | None = None,
) -> SignatureRequest:
    """Ask people to sign the current PDF version, in order (or in any order)."""
    document = get_document(actor, document_id, Permission.contribute)
    require_staff(actor)
    version = document.current_version
    errors: dict[str, str] = {}
    for name, value in (("level", level), ("message", message), ("stamp_position", stamp_position)):
        if value is not None and not isinstance(value, str):
            errors[name] = _("Debe ser un texto.")
    if errors:
        raise ValidationFailed(errors)
    if version is None or not is_pdf(version):
        errors["document"] = _("Solo se pueden firmar documentos PDF.")
    chosen = [str(i).strip() for i in signer_ids if str(i).strip()]
    people: list[User] = []
    if not chosen:
        errors["signers"] = _("Indique al menos una persona que deba firmar.")
    elif len(set(chosen)) != len(chosen):
        errors["signers"] = _("Cada persona solo puede firmar una vez.")
    elif len(chosen) > MAX_SIGNERS:
        errors["signers"] = _("Como máximo %(n)s firmantes.", n=MAX_SIGNERS)
    else:
        for user_id in chosen:
            user = db.session.get(User, user_id)
            if user is None or not user.active:
                errors["signers"] = _("Alguno de los firmantes no existe o está desactivado.")
                break
            if not can_see_document(user, document):
                errors["signers"] = _(
                    "%(name)s no puede ver este documento y no puede firmarlo.", name=user.name
                )
                break
            people.append(user)
    level = (level or "").strip().upper() or default_level(document)
    if level not in LEVELS:
        errors["level"] = _("El nivel debe ser uno de %(levels)s.", levels=", ".join(LEVELS))
    try:
        due = _parse_due(due_date)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        due = None
    if due is not None and due < _now().date():
        errors["due_date"] = _("La fecha límite ya ha pasado.")
    message = (message or "").strip() or None
    if message and len(message) > 5000:
        errors["message"] = _("El mensaje es demasiado largo (máximo 5000 caracteres).")
    position = (stamp_position or "bottom").strip().lower()
    if position not in ("bottom", "top"):
        errors["stamp_position"] = _("La posición del sello debe ser bottom o top.")
    if errors:
        raise ValidationFailed(errors)
    assert version is not None
    if db.session.execute(
        select(SignatureRequest.id).where(
            SignatureRequest.document_id == document.id, SignatureRequest.status.in_(OPEN)
        )
    ).first():
        raise InvalidTransition(_("Este documento ya tiene una solicitud de firma abierta."))

    facts = inspect_pdf(documents.read_version_bytes(version, max_size=MAX_PDF_SIZE))
    if certify and facts.signatures:
        raise ValidationFailed(
            {"certify": _("El PDF ya está firmado: solo la primera firma puede certificarlo.")}
        )
    page = _stamp_page(stamp_page, facts.pages)

    request = SignatureRequest(
        document_id=document.id,
        version_number=version.number,
        current_version_number=version.number,
        level=level,
        certify=bool(certify),
        any_order=bool(any_order),
        status=SignatureRequestStatus.pending,
        due_date=due,
        message=message,
        stamp_page=page,
        stamp_position=position,
        created_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    for order, user in enumerate(people, start=1):
        db.session.add(
            SignatureRequestSigner(
                request_id=request.id,
                user_id=user.id,
                order=order,
                field_name=f"Firma{order}",
                status=SignerStatus.pending if order == 1 or any_order else SignerStatus.waiting,
            )
        )
    db.session.flush()
    db.session.refresh(request)
    audit.record(
        "signature_requested",
        actor,
        target_of(request),
        document=document.id,
        version=version.number,
        sha256=version.sha256,
        level=level,
        certify=bool(certify),
        any_order=bool(any_order),
        signers=[user.id for user in people],
        due_date=due.isoformat() if due else None,
    )
    for signer in whose_turn(request):
        _notify_turn(signer)
    return request


def cancel_request(actor: User, request_id: str) -> SignatureRequest:
    request = get_request(actor, request_id)
    get_document(actor, request.document_id, Permission.contribute)
    require_staff(actor)
    return cancel_checked(actor, request)


def cancel_checked(actor: User, request: SignatureRequest) -> SignatureRequest:
    """Cancel a request the caller's rights were checked on elsewhere (a campaign closed by
    staff, who manage every campaign)."""
    if request.status not in OPEN:
        raise InvalidTransition(_("Esta solicitud de firma ya está cerrada."))
    if any(s.status == SignerStatus.signing for s in request.signers):
        raise InvalidTransition(_("Se está firmando ahora mismo; inténtelo en un momento."))
    request.status = SignatureRequestStatus.cancelled
    db.session.flush()
    audit.record("signature_request_cancelled", actor, target_of(request))
    return request


# ------------------------------------------------------------------ whose turn


def _turn_signer(request: SignatureRequest, actor: User) -> SignatureRequestSigner:
    """The caller's signer row if they may sign now; 403 if they are not a signer, else 409."""
    signer = signer_of(request, actor)
    if signer is None:
        raise AccessDenied(_("Usted no figura entre los firmantes de esta solicitud."))
    if request.status not in OPEN:
        raise InvalidTransition(_("Esta solicitud de firma ya está cerrada."))
    if signer.status == SignerStatus.signed:
        raise InvalidTransition(_("Usted ya ha firmado este documento."))
    if signer.status == SignerStatus.declined:
        raise InvalidTransition(_("Usted rechazó firmar este documento."))
    if signer.status == SignerStatus.waiting:
        raise InvalidTransition(_("Aún no es su turno: faltan firmas anteriores."))
    if signer.status == SignerStatus.signing:
        started = signer.authorised_at
        if started is not None and _now() - started < SIGNING_STALE_AFTER:
            raise InvalidTransition(_("Su firma se está procesando."))
        signer.status = SignerStatus.pending  # the job was lost; let them try again
    others_busy = any(
        s.status == SignerStatus.signing and s.id != signer.id for s in request.signers
    )
    if others_busy:
        raise InvalidTransition(
            _("Otra persona está firmando ahora mismo; inténtelo en un momento.")
        )
    if request.document.current_version_number != request.current_version_number:
        raise InvalidTransition(
            _(
                "El documento tiene una versión más reciente que la enviada a firmar; "
                "el despacho debe pedir las firmas de nuevo."
            )
        )
    return signer


def _link(request: SignatureRequest) -> str:
    return f"{setting('BASE_URL')}/signatures/{request.id}"


def _notify_turn(signer: SignatureRequestSigner) -> None:
    request = signer.request
    user = signer.user
    queue_mail(
        [user.email],
        "signature_turn",
        user.locale or "es",
        user=user,
        document=request.document,
        request=request,
        sender=request.created_by,
        link=_link(request),
    )
    signer.notified_at = _now()
    db.session.flush()


def remind_turn(request: SignatureRequest) -> int:
    """E-mail again the signers whose turn it is (a campaign's bulk reminder, sent each time
    staff ask for it); returns how many were reminded."""
    reminded = 0
    for signer in whose_turn(request):
        if signer.status == SignerStatus.pending:
            _notify_turn(signer)
            reminded += 1
    return reminded


def decline(actor: User, request_id: str, reason: Any) -> SignatureRequest:
    """A signer refuses to sign, with a reason; the request ends and its creator is told."""
    request = get_request(actor, request_id)
    signer = signer_of(request, actor)
    if signer is None:
        raise AccessDenied(_("Usted no figura entre los firmantes de esta solicitud."))
    if request.status not in OPEN:
        raise InvalidTransition(_("Esta solicitud de firma ya está cerrada."))
    if signer.status in (SignerStatus.signed, SignerStatus.declined, SignerStatus.signing):
        raise InvalidTransition(_("Ya no puede rechazar esta firma."))
    errors: dict[str, str] = {}
    text = checked_text(errors, "reason", reason, max_length=5000, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    if not text:
        raise ValidationFailed({"reason": _("Explique por qué no firma.")})
    signer.status = SignerStatus.declined
    signer.decline_reason = text
    signer.declined_at = _now()
    signer.ip = request_ip()
    request.status = SignatureRequestStatus.declined
    db.session.flush()
    audit.record("signature_declined", actor, target_of(request), reason=text)
    creator = request.created_by
    queue_mail(
        [creator.email],
        "signature_declined",
        creator.locale or "es",
        user=creator,
        signer=actor,
        reason=text,
        document=request.document,
        link=_link(request),
    )
    return request


def waiting_for(user: User) -> list[SignatureRequest]:
    """Open requests where it is this person's turn to sign."""
    rows = db.session.execute(
        select(SignatureRequest)
        .join(SignatureRequestSigner, SignatureRequestSigner.request_id == SignatureRequest.id)
        .where(
            SignatureRequestSigner.user_id == user.id,
            SignatureRequestSigner.status == SignerStatus.pending,
            SignatureRequest.status.in_(OPEN),
        )
        .order_by(SignatureRequest.due_date)
    ).scalars()
    return [r for r in rows if r.document.deleted_at is None and can_see_document(user, r.document)]
