"""Validation of every signature and document timestamp in a PDF, with pyHanko's verdict.

A signature counts as valid only if pyHanko's bottom line holds (intact,
cryptographically valid, trusted, timestamp trusted, DocMDP respected), its
coverage is the entire revision (or file) and later modifications are at most
form filling. Revocation is hard-fail: a revoked certificate is never valid, and
missing revocation data means "not trusted".

Long term (B-LTA): when a signature fails only because certificates have since
expired or revocation data went stale, pyHanko validates it again at the time of
its signature timestamp, using the revocation data in the DSS, provided a later
document timestamp that is valid now protects both. Likewise a document timestamp
whose TSA certificate expired stands if a later one, valid now, covers it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
)
from pyhanko_certvalidator import ValidationContext

from signing._pdfio import PdfInput, open_reader, read_input
from signing._textpdf import Line, render_text_pdf
from signing.errors import EmptyPdf, EncryptedPdf, InvalidPdf
from signing.material import CertificateLike, ValidationMaterial, build_validation_context

__all__ = [
    "PROBLEM_CODES",
    "Coverage",
    "ModificationLevelName",
    "Problem",
    "ReportText",
    "SignatureReport",
    "TimestampReport",
    "ValidationReport",
    "render_report_pdf",
    "validate_pdf",
]

Coverage = Literal["entire_file", "entire_revision", "contiguous_block_from_start", "unclear"]
ModificationLevelName = Literal["none", "lta_updates", "form_filling", "annotations", "other"]
ReachedLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]

_ACCEPTED_COVERAGE = {SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION}
_ACCEPTED_MODIFICATIONS = {
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
}


PROBLEM_CODES = (
    "no_signatures",
    "unreadable",
    "digest_mismatch",
    "signature_invalid",
    "timestamp_invalid",
    "certificate_revoked",
    "certificate_untrusted",
    "docmdp_violated",
    "seed_value_violated",
    "coverage_incomplete",
    "changes_not_analysed",
    "changes_beyond_form_filling",
    "rejected",
)
"""Every :attr:`Problem.code`; a code and its detail keys never change meaning."""


@dataclass(frozen=True)
class Problem:
    """Why a signature, timestamp or document is not valid: a stable code for machines and
    translations, its details, and the English sentence used in ``reason``.

    Details by code: ``certificate_revoked`` has ``whose`` (``signer`` or
    ``timestamp_authority``), ``date`` (ISO 8601) and ``revocation_reason`` (RFC 5280
    name, e.g. ``key_compromise``); ``certificate_untrusted`` has ``whose`` and
    ``indication`` (ETSI EN 319 102-1 sub-indication in lower case, or ``no_path``);
    ``unreadable`` and ``changes_beyond_form_filling`` may have ``error``.
    """

    code: str
    text: str
    details: Mapping[str, str] = field(default_factory=dict)


def _reason(problems: Sequence[Problem]) -> str | None:
    return ("Not valid: " + "; ".join(p.text for p in problems) + ".") if problems else None


@dataclass(frozen=True)
class SignatureReport:
    """One signature: ``valid`` is the cryptographic check, ``bottom_line`` the verdict."""

    field: str
    signer: str | None
    signer_certificate_sha256: str | None
    signed_at: datetime | None
    level: ReachedLevel | None
    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    timestamp: datetime | None
    coverage: Coverage
    modification_level: ModificationLevelName | None
    certification: bool
    bottom_line: bool
    long_term_validation: bool
    reason: str | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class TimestampReport:
    """One document timestamp (the B-LTA chain)."""

    field: str
    authority: str | None
    time: datetime | None
    expires: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: Coverage
    modification_level: ModificationLevelName | None
    bottom_line: bool
    long_term_validation: bool
    reason: str | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ValidationReport:
    """Verdict on a whole PDF: ``valid`` only if it has signatures and every one holds."""

    valid: bool
    signatures: tuple[SignatureReport, ...]
    document_timestamps: tuple[TimestampReport, ...]
    reason: str | None
    document_sha256: str
    validated_at: datetime
    problems: tuple[Problem, ...] = ()  # about the document as a whole (no signatures)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (datetimes as ISO 8601 strings)."""
        jsonable: dict[str, Any] = _jsonable(asdict(self))
        return jsonable


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _common_name(certificate: asn1_x509.Certificate | None) -> str | None:
    if certificate is None:
        return None
    subject = certificate.subject
    name = subject.native.get("common_name")
    return str(name) if name else subject.human_friendly


def _is_certification(embedded: EmbeddedPdfSignature) -> bool:
    """Whether the signature dictionary carries a DocMDP transform (an author signature)."""
    try:
        references = embedded.sig_object.get("/Reference", ())
        return any(
            reference.get_object().get("/TransformMethod") == "/DocMDP" for reference in references
        )
    except (KeyError, AttributeError, TypeError):
        return False


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    if level is None:
        return "unclear"
    return level.name.lower()  # type: ignore[return-value]


def _modification(level: ModificationLevel | None) -> ModificationLevelName | None:
    return None if level is None else level.name.lower()  # type: ignore[return-value]


def _modification_problem(status: PdfSignatureStatus | DocumentTimestampStatus) -> Problem | None:
    if status.coverage not in _ACCEPTED_COVERAGE:
        return Problem(
            "coverage_incomplete", "the signature does not cover the whole revision it belongs to"
        )
    level = status.modification_level
    if level is None:
        return Problem(
            "changes_not_analysed", "the changes made after signing could not be analysed"
        )
    if level not in _ACCEPTED_MODIFICATIONS:
        error = str(status.diff_result) if isinstance(status.diff_result, Exception) else ""
        return Problem(
            "changes_beyond_form_filling",
            "the document was changed after signing beyond form filling"
            + (f" ({error})" if error else ""),
            {"error": error} if error else {},
        )
    return None


_WHOSE = {"signer's": "signer", "timestamp authority's": "timestamp_authority"}


def _trust_problem(status: Any, what: str) -> Problem:
    if status.revoked:
        details = status.revocation_details
        date = details.revocation_date.isoformat()
        reason = str(details.revocation_reason.native)
        return Problem(
            "certificate_revoked",
            f"the {what} certificate was revoked on {date} ({reason})",
            {"whose": _WHOSE[what], "date": date, "revocation_reason": reason},
        )
    indication = status.trust_problem_indic
    label = indication.name.replace("_", " ").lower() if indication is not None else "no path"
    return Problem(
        "certificate_untrusted",
        f"the {what} certificate is not trusted ({label})",
        {"whose": _WHOSE[what], "indication": label.replace(" ", "_")},
    )


@dataclass(frozen=True)
class _RevocationIndex:
    """Which certificates the document's own revocation data (DSS) speaks for."""

    crl_issuers: frozenset[bytes]
    ocsp_serials: frozenset[int]

    def covers(self, certificate: asn1_x509.Certificate) -> bool:
        return (
            certificate.issuer.dump() in self.crl_issuers
            or certificate.serial_number in self.ocsp_serials
        )


def _read_dss(
    reader: PdfFileReader,
) -> tuple[
    list[asn1_x509.Certificate], list[asn1_crl.CertificateList], list[asn1_ocsp.OCSPResponse]
]:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        crls = [
            asn1_crl.CertificateList.load(item.get_object().read_data(DecodePurpose.CRL))
            for item in dss.crls
        ]
        ocsps = [
            asn1_ocsp.OCSPResponse.load(item.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
            for item in dss.ocsps
        ]
        return list(dss.load_certs()), crls, ocsps
    except NoDSSFoundError:
        return [], [], []
    except Exception:  # noqa: BLE001 - a broken DSS simply provides no revocation data
        return [], [], []


def _index(
    crls: Iterable[asn1_crl.CertificateList], ocsps: Iterable[asn1_ocsp.OCSPResponse]
) -> _RevocationIndex:
    serials: set[int] = set()
    for response in ocsps:
        try:
            basic = response.basic_ocsp_response
            for single in basic["tbs_response_data"]["responses"]:
                serials.add(single["cert_id"]["serial_number"].native)
        except (ValueError, KeyError, TypeError):
            continue
    return _RevocationIndex(
        crl_issuers=frozenset(crl["tbs_cert_list"]["issuer"].dump() for crl in crls),
        ocsp_serials=frozenset(serials),
    )


def _signature_problems(status: PdfSignatureStatus) -> tuple[list[Problem], bool]:
    """The problems, and whether they are all about trust (chain, revocation data)."""
    problems: list[Problem] = []
    trust_only = True
    if not status.intact:
        problems.append(
            Problem("digest_mismatch", "the signed bytes were altered (digest mismatch)")
        )
        trust_only = False
    elif not status.valid:
        problems.append(
            Problem("signature_invalid", "the signature value is cryptographically invalid")
        )
        trust_only = False
    elif not status.trusted:
        problems.append(_trust_problem(status, "signer's"))
        trust_only = trust_only and not status.revoked
    timestamp_status = status.timestamp_validity
    if timestamp_status is not None and not _timestamp_ok(timestamp_status):
        if timestamp_status.intact and timestamp_status.valid:
            problems.append(_trust_problem(timestamp_status, "timestamp authority's"))
            trust_only = trust_only and not timestamp_status.revoked
        else:
            problems.append(Problem("timestamp_invalid", "the signature timestamp is invalid"))
            trust_only = False
    if status.intact and status.docmdp_ok is False:
        problems.append(
            Problem(
                "docmdp_violated",
                "the changes made after certification are not permitted (DocMDP)",
            )
        )
        trust_only = False
    if not status.seed_value_ok:
        problems.append(
            Problem(
                "seed_value_violated", "the signature field's seed value constraints are violated"
            )
        )
        trust_only = False
    modification = _modification_problem(status) if status.intact else None
    if modification:
        problems.append(modification)
        trust_only = False
    if not problems and not status.bottom_line:
        problems.append(Problem("rejected", "pyHanko's bottom line is negative"))
        trust_only = False
    return problems, trust_only


def _timestamp_ok(status: Any) -> bool:
    return bool(status.intact and status.valid and status.trusted)


async def _signature_report(
    embedded: EmbeddedPdfSignature,
    context: ValidationContext,
    context_at: Callable[[datetime], ValidationContext],
    revocation: _RevocationIndex,
    timestamps_after: Sequence[tuple[int, bool]],
) -> SignatureReport:
    field = str(embedded.field_name)
    certification = _is_certification(embedded)
    try:
        certificate = embedded.signer_cert
        status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as exc:  # noqa: BLE001 - an unreadable signature is reported, not raised
        return SignatureReport(
            field=field,
            signer=None,
            signer_certificate_sha256=None,
            signed_at=embedded.self_reported_timestamp,
            level=None,
            intact=False,
            valid=False,
            trusted=False,
            revoked=False,
            timestamp=None,
            coverage="unclear",
            modification_level=None,
            certification=certification,
            bottom_line=False,
            long_term_validation=False,
            reason=f"Not valid: the signature cannot be validated ({exc}).",
            problems=(
                Problem(
                    "unreadable", f"the signature cannot be validated ({exc})", {"error": str(exc)}
                ),
            ),
        )
    problems, trust_only = _signature_problems(status)
    covered_by_document_timestamp = any(
        revision > embedded.signed_revision and ok for revision, ok in timestamps_after
    )
    long_term = False
    timestamp_status = status.timestamp_validity
    if (
        problems
        and trust_only
        and timestamp_status is not None
        and revocation.covers(certificate)
        and covered_by_document_timestamp
    ):
        # B-LTA: the signature timestamp fixes when it was signed, the DSS holds the
        # revocation data of that time and a valid document timestamp protects both,
        # so expired certificates or stale CRLs are judged at the signing time instead.
        # A revocation is never excused this way (trust_only excludes it).
        then = await async_validate_pdf_signature(
            embedded, signer_validation_context=context_at(timestamp_status.timestamp)
        )
        if not _signature_problems(then)[0]:
            status, problems, long_term = then, [], True
    bottom_line = not problems

    timestamp_status = status.timestamp_validity
    level: ReachedLevel | None = None
    if bottom_line:
        level = "B-B"
        if timestamp_status is not None and _timestamp_ok(timestamp_status):
            level = "B-T"
            if revocation.covers(certificate):
                level = "B-LT"
                if covered_by_document_timestamp:
                    level = "B-LTA"
    timestamp = timestamp_status.timestamp if timestamp_status is not None else None
    return SignatureReport(
        field=field,
        signer=_common_name(certificate),
        signer_certificate_sha256=certificate.sha256.hex(),
        certification=certification,
        signed_at=timestamp or status.signer_reported_dt or embedded.self_reported_timestamp,
        level=level,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted or long_term,
        revoked=status.revoked,
        timestamp=timestamp,
        coverage=_coverage(status.coverage),
        modification_level=_modification(status.modification_level),
        bottom_line=bottom_line,
        long_term_validation=long_term,
        reason=_reason(problems),
        problems=tuple(problems),
    )


async def _timestamp_report(
    embedded: EmbeddedPdfSignature, context: ValidationContext
) -> tuple[TimestampReport, bool]:
    """The report, and whether a failure is only about trust (expired TSA, stale data)."""
    field = str(embedded.field_name)
    try:
        certificate = embedded.signer_cert
        status = await async_validate_pdf_timestamp(embedded, validation_context=context)
    except Exception as exc:  # noqa: BLE001 - an unreadable signature is reported, not raised
        return TimestampReport(
            field=field,
            authority=None,
            time=None,
            expires=None,
            intact=False,
            valid=False,
            trusted=False,
            coverage="unclear",
            modification_level=None,
            bottom_line=False,
            long_term_validation=False,
            reason=f"Not valid: the document timestamp cannot be validated ({exc}).",
            problems=(
                Problem(
                    "unreadable",
                    f"the document timestamp cannot be validated ({exc})",
                    {"error": str(exc)},
                ),
            ),
        ), False
    problems: list[Problem] = []
    trust_only = True
    if not status.intact:
        problems.append(
            Problem("digest_mismatch", "the timestamped bytes were altered (digest mismatch)")
        )
        trust_only = False
    elif not status.valid:
        problems.append(
            Problem("signature_invalid", "the timestamp signature is cryptographically invalid")
        )
        trust_only = False
    elif not status.trusted:
        problems.append(_trust_problem(status, "timestamp authority's"))
        trust_only = not status.revoked
    modification = _modification_problem(status) if status.intact else None
    if modification:
        problems.append(modification)
        trust_only = False
    return TimestampReport(
        field=field,
        authority=_common_name(certificate),
        expires=certificate["tbs_certificate"]["validity"]["not_after"].native,
        time=status.timestamp,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=_coverage(status.coverage),
        modification_level=_modification(status.modification_level),
        bottom_line=not problems,
        long_term_validation=False,
        reason=_reason(problems),
        problems=tuple(problems),
    ), bool(problems) and trust_only


async def _validate_all(
    reader: PdfFileReader, material: ValidationMaterial, now: datetime | None
) -> tuple[list[SignatureReport], list[TimestampReport]]:
    dss_certs, dss_crls, dss_ocsps = _read_dss(reader)
    context = build_validation_context(
        material, extra_certs=dss_certs, extra_crls=dss_crls, extra_ocsps=dss_ocsps, moment=now
    )
    try:
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - malformed signature dictionaries
        raise InvalidPdf(f"The signatures of this PDF cannot be read: {exc}") from exc
    timestamps = [
        (signature.signed_revision, *await _timestamp_report(signature, context))
        for signature in embedded
        if signature.sig_object_type == "/DocTimeStamp"
    ]
    timestamp_reports: list[TimestampReport] = []
    for index, (_revision, report, trust_only) in enumerate(timestamps):
        if trust_only and any(later.bottom_line for _r, later, _t in timestamps[index + 1 :]):
            # An expired TSA certificate is fine once a later timestamp, valid now, covers it.
            report = replace(
                report,
                trusted=True,
                bottom_line=True,
                long_term_validation=True,
                reason=None,
                problems=(),
            )
        timestamp_reports.append(report)
    timestamp_revisions = [
        (revision, report.bottom_line)
        for (revision, _report, _t), report in zip(timestamps, timestamp_reports, strict=True)
    ]
    revocation = _index(dss_crls, dss_ocsps)

    def context_at(moment: datetime) -> ValidationContext:
        return build_validation_context(
            material,
            extra_certs=dss_certs,
            extra_crls=dss_crls,
            extra_ocsps=dss_ocsps,
            moment=moment,
        )

    signature_reports = [
        await _signature_report(signature, context, context_at, revocation, timestamp_revisions)
        for signature in embedded
        if signature.sig_object_type != "/DocTimeStamp"
    ]
    return signature_reports, timestamp_reports


def validate_pdf(
    pdf: PdfInput,
    *,
    trust_roots: Sequence[CertificateLike],
    crls: Sequence[bytes] = (),
    ocsp_responses: Sequence[bytes] = (),
    intermediates: Sequence[CertificateLike] = (),
    allow_fetching: bool = False,
    now: datetime | None = None,
    password: bytes | None = None,
) -> ValidationReport:
    """Validate every signature and document timestamp; offline unless ``allow_fetching``."""
    data = read_input(pdf)
    try:
        reader = open_reader(data, password=password, strict=True)
    except (EncryptedPdf, EmptyPdf):
        raise
    except InvalidPdf:
        # Some producers write slightly malformed files that only lenient parsing reads.
        reader = open_reader(data, password=password, strict=False)
    material = ValidationMaterial(
        trust_roots=tuple(trust_roots),
        crls=tuple(crls),
        ocsp_responses=tuple(ocsp_responses),
        intermediates=tuple(intermediates),
        allow_fetching=allow_fetching,
    )
    signatures, timestamps = asyncio.run(_validate_all(reader, material, now))
    reason: str | None = None
    problems: tuple[Problem, ...] = ()
    if not signatures:
        reason = "The document has no signatures."
        problems = (Problem("no_signatures", reason),)
    else:
        items: list[SignatureReport | TimestampReport] = [*signatures, *timestamps]
        failures = [f"{item.field}: {item.reason}" for item in items if not item.bottom_line]
        if failures:
            reason = " ".join(failures)
    return ValidationReport(
        valid=reason is None,
        signatures=tuple(signatures),
        document_timestamps=tuple(timestamps),
        reason=reason,
        document_sha256=hashlib.sha256(data).hexdigest(),
        validated_at=now or datetime.now(UTC),
        problems=problems,
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z") if value else "-"


def _english_problems(problems: Sequence[Problem]) -> str:
    return _reason(problems) or ""


@dataclass(frozen=True)
class ReportText:
    """The words of :func:`render_report_pdf`, English by default.

    Callers that speak another language pass their own: every ``%(name)s`` placeholder
    is filled in; ``when`` writes a date and time, ``problems`` words why something is
    not valid (from :attr:`Problem.code` and its details), and the two mappings name
    coverage and modification levels (unknown keys are printed as they are).
    """

    title: str = "Signature validation report"
    verdict: str = "Verdict: %(verdict)s"
    valid: str = "VALID"
    not_valid: str = "NOT VALID"
    validated_at: str = "Validated at: %(when)s"
    document_sha256: str = "Document SHA-256: %(sha256)s"
    reason: str = "Reason: %(reason)s"
    signature: str = "Signature %(number)s: %(signer)s (%(verdict)s)"
    item_valid: str = "valid"
    item_not_valid: str = "NOT VALID"
    unknown_signer: str = "unknown signer"
    field_line: str = "Field: %(field)s"
    certification: str = "%(field)s (certification)"
    signed_at: str = "Signed at: %(when)s"
    timestamp: str = "Timestamp: %(when)s"
    level: str = "Level reached: %(level)s"
    no_level: str = "none"
    checks: str = (
        "Intact: %(intact)s   Cryptographically valid: %(valid)s   Trusted: %(trusted)s   "
        "Revoked: %(revoked)s"
    )
    yes: str = "yes"
    no: str = "no"
    coverage: str = "Coverage: %(coverage)s   Modifications: %(modifications)s"
    certificate: str = "Certificate SHA-256: %(sha256)s"
    long_term: str = (
        "Judged at the time of its timestamp, on the revocation data the document preserves "
        "(long-term validation)."
    )
    document_timestamp: str = "Document timestamp %(number)s: %(authority)s (%(verdict)s)"
    unknown_authority: str = "unknown authority"
    timestamp_times: str = "Time: %(when)s   TSA certificate expires: %(expires)s"
    page_footer: str = "%(title)s - page %(number)s of %(total)s"
    coverage_names: Mapping[str, str] = field(default_factory=dict)
    modification_names: Mapping[str, str] = field(default_factory=dict)
    when: Callable[[datetime | None], str] = _when
    problems: Callable[[Sequence[Problem]], str] = _english_problems


def render_report_pdf(report: ValidationReport, text: ReportText | None = None) -> bytes:
    """A short PDF rendering of the report, for people and for the evidence package."""
    words = text or ReportText()
    when = words.when

    def yes(flag: bool) -> str:
        return words.yes if flag else words.no

    def verdict(flag: bool) -> str:
        return words.item_valid if flag else words.item_not_valid

    lines: list[Line] = [
        (words.title, "title"),
        (words.verdict % {"verdict": words.valid if report.valid else words.not_valid}, "heading"),
        (words.validated_at % {"when": when(report.validated_at)}, "text"),
        (words.document_sha256 % {"sha256": report.document_sha256}, "text"),
    ]
    if report.problems:
        lines.append((words.reason % {"reason": words.problems(report.problems)}, "text"))
    elif report.reason and text is None:
        lines.append((words.reason % {"reason": report.reason}, "text"))
    for index, item in enumerate(report.signatures, start=1):
        field_name = (
            words.certification % {"field": item.field} if item.certification else item.field
        )
        modifications = item.modification_level
        lines += [
            ("", "text"),
            (
                words.signature
                % {
                    "number": index,
                    "signer": item.signer or words.unknown_signer,
                    "verdict": verdict(item.bottom_line),
                },
                "heading",
            ),
            (words.field_line % {"field": field_name}, "text"),
            (words.signed_at % {"when": when(item.signed_at)}, "text"),
            (words.timestamp % {"when": when(item.timestamp)}, "text"),
            (words.level % {"level": item.level or words.no_level}, "text"),
            (
                words.checks
                % {
                    "intact": yes(item.intact),
                    "valid": yes(item.valid),
                    "trusted": yes(item.trusted),
                    "revoked": yes(item.revoked),
                },
                "text",
            ),
            (
                words.coverage
                % {
                    "coverage": words.coverage_names.get(item.coverage, item.coverage),
                    "modifications": words.modification_names.get(modifications, modifications)
                    if modifications
                    else "-",
                },
                "text",
            ),
            (
                words.certificate % {"sha256": item.signer_certificate_sha256 or "-"},
                "text",
            ),
        ]
        if item.long_term_validation:
            lines.append((words.long_term, "text"))
        if item.problems:
            lines.append((words.problems(item.problems), "bold"))
        elif item.reason:
            lines.append((item.reason, "bold"))
    for index, stamp in enumerate(report.document_timestamps, start=1):
        modifications = stamp.modification_level
        lines += [
            ("", "text"),
            (
                words.document_timestamp
                % {
                    "number": index,
                    "authority": stamp.authority or words.unknown_authority,
                    "verdict": verdict(stamp.bottom_line),
                },
                "heading",
            ),
            (
                words.timestamp_times % {"when": when(stamp.time), "expires": when(stamp.expires)},
                "text",
            ),
            (
                words.coverage
                % {
                    "coverage": words.coverage_names.get(stamp.coverage, stamp.coverage),
                    "modifications": words.modification_names.get(modifications, modifications)
                    if modifications
                    else "-",
                },
                "text",
            ),
        ]
        if stamp.problems:
            lines.append((words.problems(stamp.problems), "bold"))
        elif stamp.reason:
            lines.append((stamp.reason, "bold"))
    return render_text_pdf(lines, title=words.title, page_footer=words.page_footer)
