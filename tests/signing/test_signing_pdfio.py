"""Odd encryption dictionaries are a clear InvalidPdf, never a parser exception."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter

from signing import InternalCaSigner, InvalidPdf, SignOptions, sign_pdf, validate_pdf


def _encrypted_without_id(pdf: bytes) -> bytes:
    """Encrypted with an empty user password, then the trailer's /ID blanked out (same length)."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="dueño", algorithm="RC4-128")
    output = BytesIO()
    writer.write(output)
    data = output.getvalue()
    blanked, count = re.subn(rb"/ID\s*\[[^\]]*\]", lambda m: b" " * len(m.group(0)), data)
    assert count == 1
    return blanked


def test_an_encrypted_pdf_without_an_id_is_invalid_pdf(
    pdf: bytes, client: InternalCaSigner
) -> None:
    broken = _encrypted_without_id(pdf)
    with pytest.raises(InvalidPdf, match="encryption"):
        sign_pdf(broken, client, SignOptions())
    with pytest.raises(InvalidPdf, match="encryption"):
        validate_pdf(broken, trust_roots=())
