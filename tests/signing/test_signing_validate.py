"""Validation verdicts, the attacks they must catch, the report PDF and the evidence ZIP."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from signing import (
    EncryptedPdf,
    InternalCaSigner,
    InvalidPdf,
    Pki,
    SignOptions,
    ValidationMaterial,
    ValidationReport,
    build_evidence_zip,
    create_pki,
    render_report_pdf,
    sign_pdf,
    validate_pdf,
)
from signing.validate import PROBLEM_CODES, ReportText


def _validate(data: bytes, material: ValidationMaterial) -> ValidationReport:
    return validate_pdf(data, trust_roots=material.trust_roots, crls=material.crls)


@pytest.fixture
def signed(pdf: bytes, client: InternalCaSigner, pki: Pki, material: ValidationMaterial) -> bytes:
    return sign_pdf(
        pdf,
        client,
        SignOptions(
            level="B-T", reason="Approval", timestamper=pki.timestamper(), validation=material
        ),
    )


def test_a_byte_flipped_inside_the_signed_range_is_not_valid(
    signed: bytes, material: ValidationMaterial, pdfsig: Callable[[bytes], str]
) -> None:
    position = signed.index(b"Annual accounts 2024 - page 2") + len(b"Annual accounts 202")
    tampered = bytearray(signed)
    tampered[position] = ord("5")  # 2024 -> 2025, same length, structure untouched

    report = _validate(bytes(tampered), material)

    assert not report.valid
    (signature,) = report.signatures
    assert not signature.intact and not signature.bottom_line
    assert "altered" in (signature.reason or "")
    assert [problem.code for problem in signature.problems] == ["digest_mismatch"]
    assert "Digest Mismatch" in pdfsig(bytes(tampered))


def _rewrite_first_page(data: bytes, text: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, _resources = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET")
    )
    writer.update_container(page)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def test_an_incremental_update_rewriting_a_signed_page_is_not_valid(
    signed: bytes, material: ValidationMaterial, tmp_path: Path
) -> None:
    tampered = _rewrite_first_page(signed, b"Annual accounts 2024 - LOSS OF 2,000,000 EUR")

    report = _validate(tampered, material)

    assert not report.valid
    (signature,) = report.signatures
    assert signature.intact  # the signed bytes are untouched ...
    assert signature.modification_level == "other"  # ... but what was signed no longer shows
    assert not signature.bottom_line
    assert "changed after signing" in (signature.reason or "")
    assert "changes_beyond_form_filling" in [problem.code for problem in signature.problems]


def test_pdfsig_alone_misses_the_page_rewrite(
    signed: bytes, material: ValidationMaterial, pdfsig: Callable[[bytes], str]
) -> None:
    tampered = _rewrite_first_page(signed, b"Annual accounts 2024 - LOSS OF 2,000,000 EUR")

    poppler = pdfsig(tampered)

    assert "Signature Validation: Signature is Valid." in poppler, poppler
    assert "Digest Mismatch" not in poppler
    assert not _validate(tampered, material).valid


def test_a_pdf_without_signatures_is_not_valid(pdf: bytes, material: ValidationMaterial) -> None:
    report = _validate(pdf, material)
    assert not report.valid
    assert report.signatures == ()
    assert report.reason == "The document has no signatures."
    assert [problem.code for problem in report.problems] == ["no_signatures"]
    assert report.document_sha256 == hashlib.sha256(pdf).hexdigest()


def test_a_signature_from_an_untrusted_ca_is_not_valid(signed: bytes, tmp_path: Path) -> None:
    stranger = create_pki(tmp_path, b"other", organisation="Otra", base_url="https://otra.test")
    report = _validate(signed, stranger.validation_material())
    assert not report.valid
    (signature,) = report.signatures
    assert signature.intact and signature.valid and not signature.trusted
    assert "not trusted" in (signature.reason or "")
    # neither the signer's nor the TSA's certificate comes from a CA this validator trusts
    assert [(p.code, p.details["whose"]) for p in signature.problems] == [
        ("certificate_untrusted", "signer"),
        ("certificate_untrusted", "timestamp_authority"),
    ]
    assert {p.code for p in signature.problems} <= set(PROBLEM_CODES)


def test_validation_refuses_unreadable_input(
    make_pdf: Callable[..., bytes], material: ValidationMaterial
) -> None:
    with pytest.raises(InvalidPdf):
        _validate(b"GIF89a", material)
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=BytesIO(make_pdf(1)))
    writer.encrypt(user_password="u", owner_password="o", algorithm="AES-256")
    encrypted = BytesIO()
    writer.write(encrypted)
    with pytest.raises(EncryptedPdf):
        _validate(encrypted.getvalue(), material)


def test_report_serialises_to_json_and_renders_as_pdf(
    signed: bytes, material: ValidationMaterial
) -> None:
    report = _validate(signed, material)

    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["valid"] is True
    (signature,) = as_dict["signatures"]
    assert {
        "field",
        "signer",
        "signed_at",
        "level",
        "intact",
        "valid",
        "trusted",
        "timestamp",
        "coverage",
        "modification_level",
        "bottom_line",
        "revoked",
        "reason",
    } <= set(signature)
    assert signature["level"] == "B-T" and signature["coverage"] == "entire_file"

    rendered = PdfReader(BytesIO(render_report_pdf(report)))
    text = "\n".join(page.extract_text() for page in rendered.pages)
    assert len(rendered.pages) <= 2
    assert "Verdict: VALID" in text
    assert "María Núñez Ortega" in text
    assert "Level reached: B-T" in text


def test_evidence_zip_holds_every_file_and_their_hashes(
    signed: bytes, material: ValidationMaterial
) -> None:
    report = _validate(signed, material)
    audit = [
        {
            "event": "signed",
            "user": "maria@cliente.test",
            "ip": "203.0.113.7",
            "at": report.validated_at,
            "sha256": hashlib.sha256(signed).hexdigest(),
        }
    ]

    package = build_evidence_zip(signed, report, audit, {"original.pdf": b"%PDF-original"})

    with zipfile.ZipFile(BytesIO(package)) as archive:
        names = set(archive.namelist())
        assert names == {
            "signed.pdf",
            "validation-report.json",
            "validation-report.pdf",
            "audit-trail.json",
            "original.pdf",
            "SHA256SUMS",
        }
        assert archive.read("signed.pdf") == signed
        assert json.loads(archive.read("validation-report.json"))["valid"] is True
        assert archive.read("validation-report.pdf").startswith(b"%PDF-")
        assert json.loads(archive.read("audit-trail.json"))[0]["ip"] == "203.0.113.7"
        sums = dict(
            reversed(line.split("  ", 1))  # type: ignore[misc]
            for line in archive.read("SHA256SUMS").decode().splitlines()
        )
        assert set(sums) == names - {"SHA256SUMS"}
        for name, digest in sums.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest


def test_evidence_zip_refuses_unsafe_names(signed: bytes, material: ValidationMaterial) -> None:
    report = _validate(signed, material)
    from signing import SigningError

    for name in ("../escape.txt", "/etc/passwd", "SHA256SUMS"):
        with pytest.raises(SigningError):
            build_evidence_zip(signed, report, [], {name: b"x"})


def test_the_report_pdf_speaks_the_readers_language_and_the_json_keeps_the_codes(
    signed: bytes, material: ValidationMaterial
) -> None:
    tampered = bytearray(signed)
    position = signed.index(b"Annual accounts 2024 - page 2") + len(b"Annual accounts 202")
    tampered[position] = ord("5")
    report = _validate(bytes(tampered), material)
    words = ReportText(
        title="Informe de validación",
        verdict="Resultado: %(verdict)s",
        not_valid="NO VÁLIDO",
        page_footer="%(title)s - página %(number)s de %(total)s",
        problems=lambda problems: "Motivo: " + ", ".join(p.code.upper() for p in problems),
    )

    text = "\n".join(
        page.extract_text() for page in PdfReader(BytesIO(render_report_pdf(report, words))).pages
    )

    assert "Informe de validación" in text and "Resultado: NO VÁLIDO" in text
    assert "Motivo: DIGEST_MISMATCH" in text and "página 1 de 1" in text
    assert "altered" not in text  # the English sentence is left to the JSON
    package = build_evidence_zip(bytes(tampered), report, [], report_text=words)
    with zipfile.ZipFile(BytesIO(package)) as archive:
        (signature,) = json.loads(archive.read("validation-report.json"))["signatures"]
        assert signature["problems"] == [
            {
                "code": "digest_mismatch",
                "text": "the signed bytes were altered (digest mismatch)",
                "details": {},
            }
        ]
        rendered = PdfReader(BytesIO(archive.read("validation-report.pdf")))
        assert "Resultado: NO VÁLIDO" in rendered.pages[0].extract_text()
