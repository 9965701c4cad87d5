"""Fixtures for the signing library: one test PKI per session and generated PDFs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

# tests/ is on sys.path (pytest's pythonpath setting); there, tests/signing would
# shadow the signing package as an empty namespace package unless the project
# root comes first.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)
if "signing" in sys.modules and getattr(sys.modules["signing"], "__file__", None) is None:
    del sys.modules["signing"]

import pytest  # noqa: E402
from pyhanko.pdf_utils import generic  # noqa: E402
from pyhanko.pdf_utils.generic import pdf_name  # noqa: E402
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter  # noqa: E402

from signing import (  # noqa: E402
    InternalCaSigner,
    IssuedSigner,
    Pki,
    ValidationMaterial,
    create_pki,
)

PASSPHRASE = b"correct horse battery staple"
ORGANISATION = "Asesoría Ejemplo SL"
BASE_URL = "https://portal.test"

MakePdf = Callable[..., bytes]


def build_pdf(pages: int = 1, text: str = "Annual accounts 2024") -> bytes:
    """A PDF with uncompressed page contents, so tests can find and tamper with the text."""
    writer = PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    for number in range(1, pages + 1):
        content = f"BT /F1 18 Tf 72 720 Td ({text} - page {number}) Tj ET".encode()
        stream = writer.add_object(generic.StreamObject(stream_data=content))
        writer.insert_page(
            PageObject(contents=stream, media_box=(0, 0, 595, 842), resources=resources)
        )
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return create_pki(
        tmp_path_factory.mktemp("pki"),
        PASSPHRASE,
        organisation=ORGANISATION,
        base_url=BASE_URL,
        with_ocsp=True,
    )


@pytest.fixture(scope="session")
def pki_passphrase() -> bytes:
    return PASSPHRASE


@pytest.fixture(scope="session")
def client_cert(pki: Pki) -> IssuedSigner:
    return pki.issue_signer_certificate("María Núñez Ortega", "maria@cliente.test")


@pytest.fixture(scope="session")
def firm_cert(pki: Pki) -> IssuedSigner:
    return pki.issue_signer_certificate(
        "Asesoría Ejemplo SL (seal)", None, organisation=ORGANISATION
    )


@pytest.fixture
def client(pki: Pki, client_cert: IssuedSigner) -> InternalCaSigner:
    return InternalCaSigner(pki, client_cert)


@pytest.fixture
def firm(pki: Pki, firm_cert: IssuedSigner) -> InternalCaSigner:
    return InternalCaSigner(pki, firm_cert)


@pytest.fixture
def material(pki: Pki) -> ValidationMaterial:
    return pki.validation_material()


@pytest.fixture(scope="session")
def pdf() -> bytes:
    return build_pdf(3)


@pytest.fixture
def make_pdf() -> MakePdf:
    return build_pdf


def run_pdfsig(path: Path) -> str:
    """poppler's verdict on each signature's digest (no certificate checks)."""
    result = subprocess.run(
        ["pdfsig", "-nocert", "-no-ocsp", str(path)], capture_output=True, text=True, check=False
    )
    return result.stdout + result.stderr


@pytest.fixture
def pdfsig(tmp_path: Path) -> Callable[[bytes], str]:
    if shutil.which("pdfsig") is None:
        message = "poppler's pdfsig is not installed (make test installs poppler-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI never skips the second opinion
        pytest.skip(message)

    def check(data: bytes) -> str:
        path = tmp_path / "checked.pdf"
        path.write_bytes(data)
        return run_pdfsig(path)

    return check


_SOFTHSM_PATTERNS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


def find_softhsm_module() -> str | None:
    """The SoftHSM2 PKCS#11 module: $SOFTHSM2_MODULE, else the usual library directories."""
    configured = os.environ.get("SOFTHSM2_MODULE")
    if configured and os.path.exists(configured):
        return configured
    for pattern in _SOFTHSM_PATTERNS:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[0]
    return None


@pytest.fixture(scope="session")
def softhsm_module() -> str | None:
    return find_softhsm_module()
