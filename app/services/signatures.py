"""Signature requests: ordered signers, a fresh second factor, PAdES signing, decline, alerts.

A request is made on the current PDF version of a document. Each signature
produces a new version (source "signature") that the next signer signs in turn;
a signed PDF is validated before it is stored, so a document is never marked
signed without a signature that validates. Signing with the internal CA or the
firm's seal runs as a job (``portal.sign_document``); a PKCS#12 file uploaded by
the signer is used within the request and never stored or queued.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Document,
    DocumentVersion,
    Permission,
    SignatureCode,
    SignatureLevel,
    SignatureMethod,
    SignatureRequest,
    SignatureRequestSigner,
    SignatureRequestStatus,
    SignerCertificate,
    SignerStatus,
    SpaceMember,
    User,
)
from app.services import accounts, alerts, audit, documents, pki, signature_reports
from app.services.access import can_see_document, get_document, require_staff
from app.services.errors import (
    AccessDenied,
    DomainError,
    InvalidTransition,
    NotFound,
    Throttled,
    ValidationFailed,
)
from app.services.mail import queue_mail
from app.services.runtime import enqueue_after_commit, request_ip, setting
from signing import (
    CertificateNotTrusted,
    CertificateRevoked,
    EmptyPdf,
    EncryptedPdf,
    InvalidCredentials,
    InvalidPdf,
    SignerUnavailable,
    SigningError,
    TimestampUnavailable,
    WrongPassword,
)
from workflows.schedule import escalation_level_for_request

if TYPE_CHECKING:
    from signing import (
        BoxLayout,
        FieldSpec,
        PageBox,
        Pkcs12Signer,
        SignatureReport,
        SignerSource,
        SignOptions,
        ValidationReport,
    )

SIGN_TASK = "portal.sign_document"
LEVELS = tuple(level.value for level in SignatureLevel)
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
OPEN = (SignatureRequestStatus.pending, SignatureRequestStatus.in_progress)
MAX_SIGNERS = 10
MAX_PDF_SIZE = 200 * 1024 * 1024
MAX_PKCS12_SIZE = 1024 * 1024
CODE_LIFETIME = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(seconds=30)
CODE_MAX_ATTEMPTS = 5
# A job that has not finished by then was lost (worker crash): the signer may try again.
SIGNING_STALE_AFTER = timedelta(minutes=10)
ARCHIVE_MARGIN = timedelta(days=180)
_ANNUAL_ACCOUNTS = ("cuentas anuales", "annual accounts", "comptes anuals", "contas anuais")

# Visible stamps: one box per signer along the bottom (or top) of the chosen page.
_STAMP_WIDTH, _STAMP_HEIGHT, _STAMP_MARGIN, _STAMP_GAP = 170, 62, 36, 10


class SigningFailed(ValidationFailed):
    """The signature could not be made; nothing was stored (HTTP 422, field ``signature``)."""

    def __init__(self, message: str) -> None:
        super().__init__({"signature": message}, message)


class SecondFactorRejected(ValidationFailed):
    """Wrong, expired or replayed code. Views commit before answering: the attempt counts."""

    def __init__(self, message: str) -> None:
        super().__init__({"otp": message}, message)


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


def list_requests(actor: User, document_id: str) -> list[SignatureRequest]:
    document = get_document(actor, document_id)
    query = (
        select(SignatureRequest)
        .where(SignatureRequest.document_id == document.id)
        .order_by(SignatureRequest.created_at.desc())
    )
    return list(db.session.execute(query).scalars())


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


def job_status(signer: SignatureRequestSigner) -> str:
    """The signing job of a signer as API.md's job status: queued, done or failed."""
    if signer.status == SignerStatus.signing:
        return "queued"
    if signer.status == SignerStatus.signed:
        return "done"
    return "failed" if signer.last_error else "queued"


def get_job(actor: User, job_id: str) -> SignatureRequestSigner:
    """A signing job (its id is the signer's): only the signer or people who see the document."""
    signer = db.session.get(SignatureRequestSigner, str(job_id))
    if signer is None or signer.authorised_at is None:
        raise NotFound()
    get_request(actor, signer.request_id)
    return signer


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
    boxes = _page_boxes(data)
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
    if request.status not in OPEN:
        raise InvalidTransition(_("Esta solicitud de firma ya está cerrada."))
    if any(s.status == SignerStatus.signing for s in request.signers):
        raise InvalidTransition(_("Se está firmando ahora mismo; inténtelo en un momento."))
    request.status = SignatureRequestStatus.cancelled
    db.session.flush()
    audit.record("signature_request_cancelled", actor, target_of(request))
    return request


# ------------------------------------------------------------------ second factor


def _code_hash(user: User, request: SignatureRequest, code: str) -> str:
    key = str(setting("SECRET_KEY")).encode()
    message = f"{request.id}:{user.id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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


def send_signature_code(actor: User, request_id: str) -> SignatureCode:
    """E-mail a one-time code to a signer whose turn it is and who has no TOTP."""
    request = get_request(actor, request_id)
    _turn_signer(request, actor)
    if actor.mfa_enabled:
        raise ValidationFailed(
            {
                "otp": _(
                    "Use el código de su aplicación de verificación (o un código de recuperación)."
                )
            }
        )
    now = _now()
    previous = list(
        db.session.execute(
            select(SignatureCode).where(
                SignatureCode.user_id == actor.id,
                SignatureCode.request_id == request.id,
                SignatureCode.used_at.is_(None),
                SignatureCode.expires_at > now,
            )
        ).scalars()
    )
    if any(now - code.created_at < CODE_RESEND_AFTER for code in previous):
        raise Throttled(
            _("Ya le hemos enviado un código; espere unos segundos antes de pedir otro.")
        )
    for code in previous:
        code.expires_at = now  # only the newest code works
    plain = f"{secrets.randbelow(10**6):06d}"
    row = SignatureCode(
        user_id=actor.id,
        request_id=request.id,
        code_hash=_code_hash(actor, request, plain),
        expires_at=now + CODE_LIFETIME,
    )
    db.session.add(row)
    db.session.flush()
    queue_mail(
        [actor.email],
        "signature_code",
        actor.locale or "es",
        user=actor,
        code=plain,
        document=request.document,
        minutes=int(CODE_LIFETIME.total_seconds() // 60),
    )
    audit.record("signature_code_sent", actor, target_of(request))
    return row


def _use_email_code(actor: User, request: SignatureRequest, code: str) -> bool:
    now = _now()
    row = db.session.execute(
        select(SignatureCode)
        .where(
            SignatureCode.user_id == actor.id,
            SignatureCode.request_id == request.id,
            SignatureCode.used_at.is_(None),
            SignatureCode.expires_at > now,
        )
        .order_by(SignatureCode.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return False
    if hmac.compare_digest(row.code_hash, _code_hash(actor, request, code)):
        row.used_at = now
        db.session.flush()
        return True
    row.attempts += 1
    if row.attempts >= CODE_MAX_ATTEMPTS:
        row.expires_at = now
    db.session.flush()
    return False


def _check_second_factor(actor: User, request: SignatureRequest, otp: str | None) -> str:
    code = re.sub(r"\s", "", otp or "")
    if not code:
        raise ValidationFailed(
            {"otp": _("Escriba el código de su aplicación de verificación o el que le enviamos.")}
        )
    if actor.mfa_enabled and accounts.verify_second_factor(actor, code):
        return "totp"
    if _use_email_code(actor, request, code):
        return "email"
    audit.record("signature_code_rejected", actor, target_of(request))
    raise SecondFactorRejected(_("Código incorrecto, caducado o ya utilizado."))


# ------------------------------------------------------------------ signing


def _pkcs12_source(data: bytes, password: str | None) -> Pkcs12Signer:
    from signing import Pkcs12Signer

    if not data:
        raise ValidationFailed({"pkcs12": _("El archivo del certificado está vacío.")})
    if len(data) > MAX_PKCS12_SIZE:
        raise ValidationFailed({"pkcs12": _("El archivo del certificado es demasiado grande.")})
    try:
        return Pkcs12Signer(data, password.encode() if password else None)
    except WrongPassword as exc:
        raise ValidationFailed(
            {"password": _("La contraseña del certificado no es correcta.")}
        ) from exc
    except SigningError as exc:
        raise ValidationFailed(
            {"pkcs12": _("El archivo no es un certificado PKCS#12 (.p12/.pfx) válido.")}
        ) from exc


def sign(
    actor: User,
    request_id: str,
    otp: str | None,
    *,
    pkcs12: bytes | None = None,
    password: str | None = None,
    method: str | None = None,
) -> SignatureRequestSigner:
    """Authorise the caller's signature with a fresh second factor, then sign.

    With a PKCS#12 file the signature is made now, in this call; otherwise the
    signing job is queued (after the commit) and the signer's status is "signing".
    """
    request = get_request(actor, request_id)
    signer = _turn_signer(request, actor)
    source: SignerSource | None = None
    if pkcs12 is not None:
        method = SignatureMethod.pkcs12
    elif method in (None, "", SignatureMethod.internal):
        method = SignatureMethod.internal
    elif method == SignatureMethod.seal:
        if not actor.is_staff:
            raise AccessDenied(_("Solo el personal del despacho puede usar el sello del despacho."))
        if not pki.seal_configured():
            raise ValidationFailed({"method": _("El sello del despacho no está configurado.")})
    else:
        raise ValidationFailed({"method": _("El método debe ser internal, pkcs12 o seal.")})
    if pkcs12 is not None:
        source = _pkcs12_source(pkcs12, password)
    try:
        factor = _check_second_factor(actor, request, otp)
        signer.ip = request_ip()
        signer.authorised_at = _now()
        signer.method = method
        signer.last_error = None
        audit.record(
            "signature_authorised",
            actor,
            target_of(request),
            document=request.document_id,
            version=request.current_version_number,
            method=method,
            second_factor=factor,
        )
        if source is not None:
            _sign_now(signer, source)
        else:
            signer.status = SignerStatus.signing
            db.session.flush()
            enqueue_after_commit(SIGN_TASK, signer.id)
    finally:
        if source is not None:
            source.close()
    return signer


def perform_signature(signer_id: str) -> bool:
    """The signing job: sign with the internal CA or the seal; a redelivered job does nothing."""
    signer = db.session.get(SignatureRequestSigner, str(signer_id))
    if signer is None:
        return False
    # One signature at a time per request (PostgreSQL row lock; SQLite serialises writers).
    db.session.execute(
        select(SignatureRequest.id)
        .where(SignatureRequest.id == signer.request_id)
        .with_for_update()
    )
    db.session.refresh(signer)
    if signer.status != SignerStatus.signing:
        return False
    certificate: SignerCertificate | None = None
    try:
        if signer.method == SignatureMethod.seal:
            source: SignerSource = pki.seal_source()
        else:
            certificate = pki.current_certificate(signer.user)
            source = pki.internal_source(certificate)
        try:
            _sign_now(signer, source, certificate=certificate)
        finally:
            source.close()
    except DomainError as exc:
        signing_failed(signer.id, exc.detail)
        return False
    return True


def signing_failed(signer_id: str, message: str) -> None:
    """Give the turn back to the signer with the reason (nothing was stored)."""
    signer = db.session.get(SignatureRequestSigner, str(signer_id))
    if signer is None or signer.status == SignerStatus.signed:
        return
    signer.status = SignerStatus.pending
    signer.last_error = message[:500]
    db.session.flush()
    audit.record(
        "signature_failed", signer.user, target_of(signer.request), reason=signer.last_error
    )


def _stamp_box(page_box: PageBox, *, position: str, index: int) -> tuple[int, int, int, int]:
    """The ``index``-th signer's stamp on a page: boxes in a row along its bottom (or top)."""
    left, bottom, right, top = page_box
    per_row = max(
        1, int((right - left - 2 * _STAMP_MARGIN + _STAMP_GAP) // (_STAMP_WIDTH + _STAMP_GAP))
    )
    row, column = divmod(index, per_row)
    x0 = left + _STAMP_MARGIN + column * (_STAMP_WIDTH + _STAMP_GAP)
    if position == "top":
        y1 = top - _STAMP_MARGIN - row * (_STAMP_HEIGHT + _STAMP_GAP)
        y0 = y1 - _STAMP_HEIGHT
    else:
        y0 = bottom + _STAMP_MARGIN + row * (_STAMP_HEIGHT + _STAMP_GAP)
    return (int(x0), int(y0), int(x0 + _STAMP_WIDTH), int(y0 + _STAMP_HEIGHT))


def _page_boxes(data: bytes) -> tuple[tuple[float, float, float, float], ...]:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        return tuple(
            (
                float(p.mediabox.left),
                float(p.mediabox.bottom),
                float(p.mediabox.right),
                float(p.mediabox.top),
            )
            for p in reader.pages
        )
    except Exception:  # noqa: BLE001 - default page size when pypdf cannot read it
        return ()


def _sign_options(request: SignatureRequest, signer: SignatureRequestSigner) -> SignOptions:
    from signing import FieldSpec, SignOptions, StampSpec

    first_signature = not any(s.status == SignerStatus.signed for s in request.signers)
    certify = request.certify and first_signature
    fields_exist = request.certify and not first_signature

    def box_of(other: SignatureRequestSigner) -> BoxLayout:
        # Placed by the signing library on the page it reads anyway: no second parse here.
        return partial(_stamp_box, position=request.stamp_position, index=other.order - 1)

    new_fields: tuple[FieldSpec, ...] = ()
    if certify:
        # Certification allows form filling only: later signers' fields are created now.
        new_fields = tuple(
            FieldSpec(other.field_name, page=request.stamp_page, box=box_of(other))
            for other in request.signers
            if other.id != signer.id and other.status != SignerStatus.declined
        )
    with force_locale(signer.user.locale or "es"):
        reason = (
            _("Documento emitido y certificado por %(firm)s", firm=setting("FIRM_NAME"))
            if certify
            else _("Conforme")
        )
        stamp_text = (
            _("Firmado por")
            + " %(signer)s\n"
            + _("Fecha")
            + ": %(ts)s\n"
            + _("Motivo")
            + ": %(reason)s"
        )
    return SignOptions(
        level=request.level,  # type: ignore[arg-type]
        field_name=signer.field_name,
        reason=reason,
        certify=certify,
        new_fields=new_fields,
        stamp=StampSpec(page=request.stamp_page, box=box_of(signer), text=stamp_text),
        require_existing_field=fields_exist,
        timestamper=pki.timestamper(),
        validation=pki.trust_material(),
    )


def _signing_problem(exc: SigningError) -> str:
    if isinstance(exc, CertificateRevoked):
        return "El certificado del firmante está revocado: no se puede firmar con él."
    if isinstance(exc, CertificateNotTrusted):
        return "El certificado no procede de una autoridad de confianza para el portal."
    if isinstance(exc, WrongPassword):
        return "La contraseña o el PIN no es correcto."
    if isinstance(exc, InvalidCredentials):
        return "El certificado o su clave no se pueden leer."
    if isinstance(exc, SignerUnavailable):
        return "El dispositivo del sello no está disponible en este momento."
    if isinstance(exc, TimestampUnavailable):
        return "El servicio de sellado de tiempo no responde; inténtelo más tarde."
    if isinstance(exc, InvalidPdf):
        return pdf_problem(exc)
    return _("No se ha podido firmar: %(error)s", error=exc)


def _rank(level: str | None) -> int:
    return _LEVEL_RANK.get(level or "", -1)


def sign_and_validate(
    data: bytes, source: SignerSource, options: SignOptions
) -> tuple[bytes, SignatureReport]:
    """Sign, then validate the result as a whole; anything short of valid is ``SigningFailed``.

    Every PDF the portal signs goes through here: the signature must validate
    (pyHanko's verdict, whole revision, at most form filling afterwards) and reach
    the requested level, or nothing is kept.
    """
    signed, mine, _report = _sign_and_validate(data, source, options)
    return signed, mine


def _sign_and_validate(
    data: bytes, source: SignerSource, options: SignOptions
) -> tuple[bytes, SignatureReport, ValidationReport]:
    from signing import sign_pdf

    try:
        signed = sign_pdf(data, source, options)
    except SigningError as exc:
        raise SigningFailed(_signing_problem(exc)) from exc
    report = pki.validate(signed)
    mine = next((s for s in report.signatures if s.field == options.field_name), None)
    if not report.valid or mine is None or not mine.bottom_line:
        if "hybrid-reference" in (report.reason or ""):
            raise SigningFailed(
                _(
                    "Este PDF usa referencias híbridas, que no permiten validar una firma con "
                    "seguridad: guárdelo de nuevo como PDF (por ejemplo, «Imprimir en PDF») y "
                    "súbalo otra vez."
                )
            )
        raise SigningFailed(
            _(
                "La firma no se ha podido validar y no se ha guardado: %(reason)s",
                reason=signature_reports.describe_report(report)
                or _("falta la firma en el documento."),
            )
        )
    if _rank(mine.level) < _rank(options.level):
        raise SigningFailed(
            _(
                "La firma solo alcanza el nivel %(reached)s, no el %(wanted)s pedido; "
                "no se ha guardado.",
                reached=mine.level,
                wanted=options.level,
            )
        )
    return signed, mine, report


def _sign_now(
    signer: SignatureRequestSigner,
    source: SignerSource,
    *,
    certificate: SignerCertificate | None = None,
) -> DocumentVersion:
    """Sign the request's current version, validate the result, store it, move the turn on."""
    request = signer.request
    document = request.document
    if document.current_version_number != request.current_version_number:
        raise InvalidTransition(
            _("El documento tiene una versión más reciente que la enviada a firmar.")
        )
    version = document.current_version
    assert version is not None
    data = documents.read_version_bytes(version, max_size=MAX_PDF_SIZE)
    try:
        signed, mine, report = _sign_and_validate(data, source, _sign_options(request, signer))
    except SigningFailed as exc:
        if certificate is not None and isinstance(exc.__cause__, CertificateRevoked):
            pki.mark_revoked(certificate)
        raise
    new_version = documents.add_signed_version(
        signer.user,
        document,
        signed,
        filename=version.filename,
        note=f"Firmado por {signer.user.name}",
    )
    now = _now()
    signer.status = SignerStatus.signed
    signer.signed_at = now
    signer.signed_sha256 = version.sha256
    signer.result_sha256 = new_version.sha256
    signer.result_version_number = new_version.number
    signer.certificate_fingerprint = mine.signer_certificate_sha256
    signer.certificate_subject = (mine.signer or "")[:300] or None
    signer.last_error = None
    request.current_version_number = new_version.number
    db.session.flush()
    audit.record(
        "signature_signed",
        signer.user,
        target_of(request),
        document=document.id,
        signed_version=version.number,
        signed_sha256=version.sha256,
        version=new_version.number,
        sha256=new_version.sha256,
        certificate_sha256=mine.signer_certificate_sha256,
        signer=mine.signer,
        level=mine.level,
        method=signer.method,
        ip=signer.ip,
        authorised_at=signer.authorised_at.isoformat() if signer.authorised_at else None,
    )
    _advance(request, report)
    return new_version


def _advance(request: SignatureRequest, report: ValidationReport) -> None:
    remaining = [s for s in request.signers if s.status != SignerStatus.signed]
    if not remaining:
        request.status = SignatureRequestStatus.completed
        request.completed_at = _now()
        if request.level == SignatureLevel.b_lta and report.document_timestamps:
            # The TSA certificate of the last document timestamp: read from the report of the
            # validation just made, rather than by parsing the signed PDF once more.
            request.archive_expires_at = report.document_timestamps[-1].expires
        db.session.flush()
        audit.record(
            "signature_request_completed",
            None,
            target_of(request),
            document=request.document_id,
            version=request.current_version_number,
        )
        creator = request.created_by
        queue_mail(
            [creator.email],
            "signature_completed",
            creator.locale or "es",
            user=creator,
            document=request.document,
            request=request,
            link=_link(request),
        )
        return
    request.status = SignatureRequestStatus.in_progress
    if not request.any_order:
        following = remaining[0]
        if following.status == SignerStatus.waiting:
            following.status = SignerStatus.pending
            db.session.flush()
            _notify_turn(following)
    db.session.flush()


def archive_expiry(data: bytes) -> datetime | None:
    from signing import last_timestamp_expiry

    try:
        return last_timestamp_expiry(data)
    except SigningError:
        return None


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


def decline(actor: User, request_id: str, reason: str | None) -> SignatureRequest:
    """A signer refuses to sign, with a reason; the request ends and its creator is told."""
    request = get_request(actor, request_id)
    signer = signer_of(request, actor)
    if signer is None:
        raise AccessDenied(_("Usted no figura entre los firmantes de esta solicitud."))
    if request.status not in OPEN:
        raise InvalidTransition(_("Esta solicitud de firma ya está cerrada."))
    if signer.status in (SignerStatus.signed, SignerStatus.declined, SignerStatus.signing):
        raise InvalidTransition(_("Ya no puede rechazar esta firma."))
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": _("Explique por qué no firma.")})
    if len(text) > 5000:
        raise ValidationFailed(
            {"reason": _("El motivo es demasiado largo (máximo 5000 caracteres).")}
        )
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


# ------------------------------------------------------------------ alerts and long term


@dataclass(frozen=True)
class OverdueSignature:
    """A signature request past its due date, for the alert engine."""

    request: SignatureRequest
    document: Document
    due_date: date
    waiting_on: tuple[User, ...]  # the signers whose turn it is
    created_by: User


def overdue_signature_requests(today: date) -> list[OverdueSignature]:
    """Open requests whose due date is before ``today``, with whose turn it is."""
    query = (
        select(SignatureRequest)
        .where(
            SignatureRequest.status.in_(OPEN),
            SignatureRequest.due_date.is_not(None),
            SignatureRequest.due_date < today,
        )
        .order_by(SignatureRequest.due_date)
    )
    found: list[OverdueSignature] = []
    for request in db.session.execute(query).scalars():
        if request.document.deleted_at is not None:
            continue
        assert request.due_date is not None
        found.append(
            OverdueSignature(
                request=request,
                document=request.document,
                due_date=request.due_date,
                waiting_on=tuple(s.user for s in whose_turn(request)),
                created_by=request.created_by,
            )
        )
    return found


# ---------------------------------------------------------------- alerts


SIGNATURE_ESCALATE_AFTER_DAYS = 3


def _late_signatures(now: datetime) -> Iterable[alerts.LateThing]:
    """Overdue signature requests for the alert engine: the signer first, then the requester."""
    today = now.date()
    for overdue in overdue_signature_requests(today):
        level = int(
            escalation_level_for_request(
                overdue.due_date, today, escalate_after_days=SIGNATURE_ESCALATE_AFTER_DAYS
            )
        )
        if level < 1:
            continue

        def recipients(lvl: int, overdue: OverdueSignature = overdue) -> list[User]:
            if lvl >= 2:
                return [overdue.created_by]
            return [u for u in overdue.waiting_on if can_see_document(u, overdue.document)]

        yield alerts.LateThing(
            kind="signature",
            target_type="signature_request",
            target_id=overdue.request.id,
            space_id=overdue.document.space_id,
            level=level,
            due=overdue.due_date,
            summary=overdue.document.title,
            link=f"/signatures/{overdue.request.id}",
            recipients=recipients,
        )


alerts.register_finder(_late_signatures)


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
