"""Signing: authorise with a second factor, sign (now or as a job), validate, store, move on.

Each signature produces a new version (source "signature") that the next signer signs
in turn; a signed PDF is validated before it is stored, so a document is never marked
signed without a signature that validates. Signing with the internal CA or the firm's
seal runs as a job (``portal.sign_document``); a PKCS#12 file uploaded by the signer is
used within the request and never stored or queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    DocumentVersion,
    SignatureLevel,
    SignatureMethod,
    SignatureRequest,
    SignatureRequestSigner,
    SignatureRequestStatus,
    SignerCertificate,
    SignerStatus,
    User,
)
from app.services import audit, documents, events, pki, signature_reports
from app.services.errors import (
    AccessDenied,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from app.services.mail import queue_mail
from app.services.runtime import enqueue_after_commit, request_ip, setting
from app.services.signatures.codes import _check_second_factor
from app.services.signatures.requests import (
    LEVELS,
    MAX_PDF_SIZE,
    _link,
    _notify_turn,
    _now,
    _turn_signer,
    get_request,
    pdf_problem,
    target_of,
)
from signing import (
    CertificateNotTrusted,
    CertificateRevoked,
    InvalidCredentials,
    InvalidPdf,
    SignerUnavailable,
    SigningError,
    TimestampUnavailable,
    WrongPassword,
    stamp_box,
)

if TYPE_CHECKING:
    from signing import (
        BoxLayout,
        FieldSpec,
        Pkcs12Signer,
        SignatureReport,
        SignerSource,
        SignOptions,
        ValidationReport,
    )

SIGN_TASK = "portal.sign_document"
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
MAX_PKCS12_SIZE = 1024 * 1024
ARCHIVE_MARGIN = timedelta(days=180)


class TimestampNotYet(Exception):
    """The time-stamping authority did not answer: the signature waits and is tried again.

    Nothing is stored and the signer stays ``signing``: a B-T or higher signature is never
    made, nor marked signed, without its timestamp.
    """


class SigningFailed(ValidationFailed):
    """The signature could not be made; nothing was stored (HTTP 422, field ``signature``)."""

    def __init__(self, message: str) -> None:
        super().__init__({"signature": message}, message)


def job_status(signer: SignatureRequestSigner) -> str:
    """The signing job of a signer as docs/api.md's job status: queued, done or failed."""
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
    except SigningFailed as exc:
        if isinstance(exc.__cause__, TimestampUnavailable):
            raise TimestampNotYet(exc.detail) from exc
        signing_failed(signer.id, exc.detail)
        return False
    except DomainError as exc:
        signing_failed(signer.id, exc.detail)
        return False
    return True


def waiting_for_timestamp(signer_id: str, message: str) -> None:
    """Say why the signature is not made yet; it stays ``signing`` and its job is tried again."""
    signer = db.session.get(SignatureRequestSigner, str(signer_id))
    if signer is None or signer.status != SignerStatus.signing:
        return
    signer.last_error = message[:500]
    db.session.flush()


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


def _sign_options(request: SignatureRequest, signer: SignatureRequestSigner) -> SignOptions:
    from signing import FieldSpec, SignOptions, StampSpec

    first_signature = not any(s.status == SignerStatus.signed for s in request.signers)
    certify = request.certify and first_signature
    fields_exist = request.certify and not first_signature

    def box_of(other: SignatureRequestSigner) -> BoxLayout:
        # Placed by the signing library on the page it reads anyway: no second parse here.
        return partial(stamp_box, position=request.stamp_position, index=other.order - 1)

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
        events.signature_request_completed.send(request)
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


def signer_after_job(signer_id: str) -> SignatureRequestSigner:
    """A signer as its signing job left it (read again: the job may have run elsewhere)."""
    found = db.session.get(SignatureRequestSigner, signer_id)
    if found is None:
        raise NotFound()
    db.session.refresh(found)
    return found
