"""PAdES signing (B-B to B-LTA), certification, pre-created fields and document timestamps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import (
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
    enumerate_sig_fields,
)
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, PdfTimeStamper
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes, Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.errors import (
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from signing._pdfio import PdfInput, open_reader, open_writer, read_input
from signing.errors import (
    CertificateNotTrusted,
    CertificateRevoked,
    FieldAlreadySigned,
    FieldNotFound,
    InvalidPdf,
    SigningError,
    TimestampUnavailable,
)
from signing.material import ValidationMaterial, build_validation_context
from signing.sources import SignerSource

__all__ = [
    "DEFAULT_STAMP_TEXT",
    "BoxLayout",
    "FieldSpec",
    "Level",
    "PageBox",
    "SignOptions",
    "StampSpec",
    "add_document_timestamp",
    "last_timestamp_expiry",
    "sign_pdf",
]

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
Box = tuple[int, int, int, int]
PageBox = tuple[float, float, float, float]
"""A page's MediaBox: left, bottom, right, top in PDF points."""
BoxLayout = Callable[[PageBox], Box]
"""Where to put a box once the page's size is known (the page is read while signing)."""
_DEFAULT_PAGE_BOX: PageBox = (0.0, 0.0, 595.0, 842.0)  # A4, when a page has no usable MediaBox

DEFAULT_STAMP_TEXT = "Signed by %(signer)s\nDate: %(ts)s\nReason: %(reason)s"
"""Stamp template: ``%(signer)s``, ``%(ts)s``, ``%(reason)s`` and ``%(location)s`` are filled in."""


@dataclass(frozen=True)
class FieldSpec:
    """An empty signature field to create; ``page`` counts from 0 (negative from the end).

    ``box`` is in PDF points, or a :data:`BoxLayout` that places it on the page's MediaBox.
    """

    name: str
    page: int = 0
    box: Box | BoxLayout | None = None


@dataclass(frozen=True)
class StampSpec:
    """A visible stamp: page (from 0, negative from the end), box, text template.

    ``box`` is in PDF points, or a :data:`BoxLayout` that places it on the page's MediaBox
    (so that callers need not parse the PDF to learn the page size).
    """

    page: int = 0
    box: Box | BoxLayout = (50, 50, 300, 110)
    text: str = DEFAULT_STAMP_TEXT


@dataclass(frozen=True)
class SignOptions:
    """How to sign: level, field, certification, stamp, TSA and validation material."""

    level: Level = "B-B"
    field_name: str = "Signature1"
    reason: str | None = None
    location: str | None = None
    contact_info: str | None = None
    certify: bool = False
    new_fields: tuple[FieldSpec, ...] = ()
    stamp: StampSpec | None = None
    require_existing_field: bool = False
    timestamper: TimeStamper | str | None = None
    validation: ValidationMaterial | None = None


_MAX_PAGE_TREE_DEPTH = 64
_LEVELS: tuple[str, ...] = get_args(Level)
_LEVEL_NEEDS_TIMESTAMP = {"B-T", "B-LT", "B-LTA"}
_LEVEL_NEEDS_VALIDATION = {"B-LT", "B-LTA"}

_http_timestampers: dict[str, HTTPTimeStamper] = {}
_http_lock = threading.Lock()


def _resolve_timestamper(timestamper: TimeStamper | str | None) -> TimeStamper | None:
    if timestamper is None or isinstance(timestamper, TimeStamper):
        return timestamper
    # One client per URL keeps pyHanko's size-estimate response cached.
    with _http_lock:
        client = _http_timestampers.get(timestamper)
        if client is None:
            client = _http_timestampers[timestamper] = HTTPTimeStamper(timestamper)
        return client


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def _translate(exc: BaseException) -> SigningError:
    causes = list(_causes(exc))
    if any(isinstance(cause, RevokedError) for cause in causes):
        return CertificateRevoked("The signer's certificate has been revoked.")
    if any(isinstance(cause, TimestampRequestError | OSError) for cause in causes):
        return TimestampUnavailable(f"The time-stamping authority failed: {exc}")
    for cause in causes:
        if isinstance(cause, PathBuildingError | PathValidationError):
            return CertificateNotTrusted(f"A certificate does not validate: {cause}")
    return SigningError(str(exc) or type(exc).__name__)


def _refuse_revoked(certificate: asn1_x509.Certificate, material: ValidationMaterial) -> None:
    """Check the given CRLs and OCSP responses, which the caller vouches for."""
    parsed = x509.load_der_x509_certificate(certificate.dump())
    for data in material.crls:
        try:
            crl = (
                x509.load_pem_x509_crl(data)
                if data.lstrip().startswith(b"-----")
                else x509.load_der_x509_crl(data)
            )
        except ValueError as exc:
            raise SigningError(f"Unreadable CRL: {exc}") from exc
        if crl.issuer != parsed.issuer:
            continue
        if crl.get_revoked_certificate_by_serial_number(parsed.serial_number) is not None:
            raise CertificateRevoked(
                f"The certificate of {_common_name(certificate)} has been revoked."
            )
    for data in material.ocsp_responses:
        try:
            response = ocsp.load_der_ocsp_response(data)
        except ValueError as exc:
            raise SigningError(f"Unreadable OCSP response: {exc}") from exc
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            continue
        for single in response.responses:
            issuer_hash = hashes.Hash(single.hash_algorithm)
            issuer_hash.update(parsed.issuer.public_bytes())
            if (
                single.serial_number == parsed.serial_number
                and single.issuer_name_hash == issuer_hash.finalize()
                and single.certificate_status == ocsp.OCSPCertStatus.REVOKED
            ):
                raise CertificateRevoked(
                    f"The certificate of {_common_name(certificate)} has been revoked."
                )


def _common_name(certificate: asn1_x509.Certificate) -> str:
    name: str = certificate.subject.native.get("common_name") or certificate.subject.human_friendly
    return name


def _check_fields(reader: PdfFileReader, options: SignOptions) -> bool:
    """Refuse impossible field requests; return whether the target field already exists."""
    try:
        existing = {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}
    except Exception as exc:  # noqa: BLE001 - a malformed form tree fails in many ways
        raise InvalidPdf(f"The PDF form fields cannot be read: {exc}") from exc
    if existing.get(options.field_name):
        raise FieldAlreadySigned(f"The field {options.field_name!r} is already signed.")
    field_exists = options.field_name in existing
    if options.require_existing_field and not field_exists:
        raise FieldNotFound(f"The document has no signature field {options.field_name!r}.")
    for spec in options.new_fields:
        if spec.name in existing or spec.name == options.field_name:
            raise SigningError(f"The signature field {spec.name!r} already exists.")
    return field_exists


def _page_box(writer: IncrementalPdfFileWriter, page: int) -> PageBox:
    """The page's MediaBox (inherited from the page tree if need be), A4 when unusable."""
    try:
        node = writer.find_page_for_modification(page)[0].get_object()
        for _depth in range(_MAX_PAGE_TREE_DEPTH):
            if "/MediaBox" in node:
                x0, y0, x1, y1 = (float(value) for value in node["/MediaBox"])
                if x0 == x1 or y0 == y1:
                    return _DEFAULT_PAGE_BOX
                return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            if "/Parent" not in node:
                break
            node = node["/Parent"]
    except Exception:  # noqa: BLE001 - a broken page dictionary gets the default size
        return _DEFAULT_PAGE_BOX
    return _DEFAULT_PAGE_BOX


def _placed(writer: IncrementalPdfFileWriter, page: int, box: Box | BoxLayout | None) -> Box | None:
    if box is None or not callable(box):
        return box
    return box(_page_box(writer, page))


#: Room to reserve for a signature container, by signer certificate, level and TSA.
_RESERVED: dict[tuple[object, ...], int] = {}
_RESERVED_LOCK = threading.Lock()
_RESERVED_MAX = 256


def _timestamper_key(timestamper: TimeStamper | None) -> object:
    if timestamper is None:
        return None
    url = getattr(timestamper, "url", None)
    return (type(timestamper).__qualname__, url if url is not None else id(timestamper))


def _reserved_size(signer: Signer, timestamper: TimeStamper | None, key: tuple[object, ...]) -> int:
    """Bytes to reserve in the PDF for the signature container, estimated once per key.

    pyHanko estimates this on every signature with a dry-run signature (a whole CMS
    container, and a dummy timestamp token); the size depends only on the certificate
    chain, the digest and the timestamp authority, so a warm worker estimates it once.
    Same formula as pyHanko: the dry run's hex length plus half again for the timestamp
    token's variations. If a container ever outgrows it, the caller signs again with
    pyHanko's own estimate.
    """
    with _RESERVED_LOCK:
        known = _RESERVED.get(key)
    if known is not None:
        return known
    digest = hashes.Hash(hashes.SHA256()).finalize()
    dry_run = asyncio.run(
        signer.async_sign(
            digest,
            "sha256",
            use_pades=True,
            dry_run=True,
            timestamper=timestamper,
            signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now().astimezone()),
        )
    )
    length = len(dry_run.dump()) * 2
    reserved = length + 2 * (length // 4)
    with _RESERVED_LOCK:
        if len(_RESERVED) >= _RESERVED_MAX:
            _RESERVED.clear()
        _RESERVED[key] = reserved
    return reserved


def sign_pdf(
    pdf: PdfInput,
    source: SignerSource,
    options: SignOptions,
    *,
    password: bytes | None = None,
) -> bytes:
    """Sign the PDF as an incremental update at the requested PAdES level and return the result."""
    data = read_input(pdf)
    writer = open_writer(data, password=password)
    field_exists = _check_fields(writer.prev, options)

    level = options.level
    if level not in _LEVELS:
        raise SigningError(f"Unknown PAdES level {level!r}; use one of {', '.join(_LEVELS)}.")
    timestamper = _resolve_timestamper(options.timestamper)
    if level in _LEVEL_NEEDS_TIMESTAMP and timestamper is None:
        raise SigningError(f"{level} needs a time-stamping authority.")
    if level in _LEVEL_NEEDS_VALIDATION and options.validation is None:
        raise SigningError(f"{level} needs trust roots and revocation data.")

    signer = source.pyhanko_signer()
    if options.validation is not None:
        _refuse_revoked(source.certificate, options.validation)
    validation_context = (
        build_validation_context(options.validation)
        if level in _LEVEL_NEEDS_VALIDATION and options.validation is not None
        else None
    )

    def add_new_fields(target: IncrementalPdfFileWriter) -> None:
        for spec in options.new_fields:
            append_signature_field(
                target,
                SigFieldSpec(
                    sig_field_name=spec.name,
                    on_page=spec.page,
                    box=_placed(target, spec.page, spec.box),
                ),
            )

    try:
        add_new_fields(writer)
        metadata = PdfSignatureMetadata(
            field_name=options.field_name,
            md_algorithm="sha256",
            reason=options.reason,
            location=options.location,
            contact_info=options.contact_info,
            certify=options.certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            subfilter=SigSeedSubFilter.PADES,
            embed_validation_info=validation_context is not None,
            use_pades_lta=level == "B-LTA",
            validation_context=validation_context,
        )
        stamp = options.stamp
        new_field = None
        if not field_exists:
            new_field = SigFieldSpec(
                sig_field_name=options.field_name,
                on_page=stamp.page if stamp else 0,
                box=_placed(writer, stamp.page, stamp.box) if stamp else None,
            )
        used_timestamper = timestamper if level in _LEVEL_NEEDS_TIMESTAMP else None
        pdf_signer = PdfSigner(
            metadata,
            signer,
            timestamper=used_timestamper,
            stamp_style=TextStampStyle(
                stamp_text=stamp.text if stamp else DEFAULT_STAMP_TEXT, border_width=1
            ),
            new_field_spec=new_field,
        )
        size_key = (
            source.certificate.sha256,
            tuple(cert.sha256 for cert in signer.cert_registry),
            _timestamper_key(used_timestamper),
        )
        appearance = {"reason": options.reason or "", "location": options.location or ""}
        reserved = _reserved_size(signer, used_timestamper, size_key)
        try:
            output = pdf_signer.sign_pdf(
                writer,
                existing_fields_only=field_exists,
                bytes_reserved=reserved,
                appearance_text_params=appearance,
            )
        except PyhankoSigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # A container larger than ever before (a bigger timestamp token): forget the
            # size and sign again from the input, with pyHanko estimating it itself.
            with _RESERVED_LOCK:
                _RESERVED.pop(size_key, None)
            writer = open_writer(data, password=password)
            add_new_fields(writer)
            output = pdf_signer.sign_pdf(
                writer, existing_fields_only=field_exists, appearance_text_params=appearance
            )
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyHanko fails in many ways on odd files
        raise _translate(exc) from exc
    signed: bytes = output.getvalue()
    return signed


def add_document_timestamp(
    pdf: PdfInput,
    timestamper: TimeStamper | str,
    validation: ValidationMaterial,
) -> bytes:
    """Add revocation data for the last timestamp and a new document timestamp (B-LTA refresh)."""
    data = read_input(pdf)
    reader = open_reader(data)
    resolved = _resolve_timestamper(timestamper)
    assert resolved is not None
    try:
        output = PdfTimeStamper(resolved).update_archival_timestamp_chain(
            reader, build_validation_context(validation), in_place=False
        )
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyHanko fails in many ways on odd files
        raise _translate(exc) from exc
    signed: bytes = output.getvalue()
    return signed


def last_timestamp_expiry(pdf: PdfInput) -> datetime | None:
    """When the TSA certificate of the last document timestamp expires, or None without one."""
    reader = open_reader(read_input(pdf))
    try:
        timestamps = reader.embedded_timestamp_signatures
    except Exception as exc:  # noqa: BLE001 - malformed signature dictionaries
        raise InvalidPdf(f"Unreadable document timestamp: {exc}") from exc
    if not timestamps:
        return None
    certificate = timestamps[-1].signer_cert
    expiry: datetime = certificate["tbs_certificate"]["validity"]["not_after"].native
    return expiry
