"""Evidence package: the signed PDF, its validation report, the audit trail and their hashes."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from io import BytesIO
from pathlib import PurePosixPath
from typing import Any

from signing.errors import SigningError
from signing.validate import ReportText, ValidationReport, render_report_pdf

__all__ = ["HASHES_NAME", "build_evidence_zip"]

SIGNED_PDF_NAME = "signed.pdf"
REPORT_JSON_NAME = "validation-report.json"
REPORT_PDF_NAME = "validation-report.pdf"
AUDIT_TRAIL_NAME = "audit-trail.json"
HASHES_NAME = "SHA256SUMS"
_RESERVED = {SIGNED_PDF_NAME, REPORT_JSON_NAME, REPORT_PDF_NAME, AUDIT_TRAIL_NAME, HASHES_NAME}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise SigningError(f"Unsafe file name in evidence package: {name!r}")
    if name in _RESERVED:
        raise SigningError(f"{name!r} is reserved in the evidence package.")
    return str(path)


def build_evidence_zip(
    signed_pdf: bytes,
    report: ValidationReport,
    audit_trail: Sequence[Mapping[str, Any]],
    extra_files: Mapping[str, bytes] | None = None,
    report_text: ReportText | None = None,
) -> bytes:
    """A ZIP with the signed PDF, report (JSON and PDF), audit trail and a ``SHA256SUMS`` file.

    The JSON report keeps the machine codes; ``report_text`` words the PDF report in the
    reader's language (English by default).
    """
    files: dict[str, bytes] = {
        SIGNED_PDF_NAME: signed_pdf,
        REPORT_JSON_NAME: json.dumps(report.to_dict(), indent=2, ensure_ascii=False).encode(),
        REPORT_PDF_NAME: render_report_pdf(report, report_text),
        AUDIT_TRAIL_NAME: json.dumps(
            list(audit_trail), indent=2, ensure_ascii=False, default=_json_default
        ).encode(),
    }
    for name, content in (extra_files or {}).items():
        files[_safe_name(name)] = content
    sums = "".join(
        f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in files.items()
    )
    files[HASHES_NAME] = sums.encode()

    # Entries carry the validation time rather than the moment the ZIP was packed.
    stamp = report.validated_at.timetuple()[:6]
    output = BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return output.getvalue()
