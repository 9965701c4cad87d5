"""Fixtures for the portal's signing: one internal CA/TSA per test session, handed to each app.

Creating a CA costs about a second and loading one a third of a second, so the
session's PKI is put straight into the apps' cache (``app.extensions``); apps
that are built later (the live server) load a copy from the test's data dir.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask

from signing import create_pki, load_pki

PKI_PASSPHRASE = "test-pki-passphrase"


@pytest.fixture(scope="session")
def portal_pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("portal-pki") / "pki"
    create_pki(
        directory,
        PKI_PASSPHRASE.encode(),
        organisation="Despacho de Pruebas SLP",
        base_url="http://localhost",
        with_ocsp=True,
    )
    return directory


@pytest.fixture(scope="session")
def portal_pki(portal_pki_dir: Path) -> Any:
    return load_pki(portal_pki_dir, PKI_PASSPHRASE.encode())


def seed_pki(data_dir: Path, pki_dir: Path) -> None:
    """Copy the session's PKI into a data dir, with the passphrase file the app would create."""
    shutil.copytree(pki_dir, data_dir / "pki", dirs_exist_ok=True)
    (data_dir / "pki_passphrase").write_text(PKI_PASSPHRASE)
    (data_dir / "pki_passphrase").chmod(0o600)


@pytest.fixture
def signing_ready(
    tmp_path: Path, app: Flask, web_app: Flask, portal_pki: Any, portal_pki_dir: Path
) -> Any:
    """Both test apps share the session PKI; later apps load its copy from the data dir."""
    from app.services.pki import PKI_EXTENSION

    seed_pki(tmp_path, portal_pki_dir)
    for application in (app, web_app):
        application.extensions[PKI_EXTENSION] = portal_pki
    return portal_pki


def annual_accounts_pdf(pages: int = 2, text: str = "Cuentas anuales 2025") -> bytes:
    """A real PDF of a few pages (the signing library needs more than a header)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 20 Tf 72 760 Td ({text} - {number}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def next_totp(secret: str, steps: int = 1) -> str:
    """A TOTP code of a later time step: accepted (clock drift) and never used before."""
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


# ------------------------------------------------------------------ objects for the access matrix


def signable_document(world: Any) -> Any:
    """The world's shared contract, with a real PDF as its current version (made once)."""
    cached = getattr(world, "_signable", None)
    if cached is not None:
        return cached
    from app.extensions import db
    from app.services import documents

    documents.upload_version(
        world.staff,
        world.shared.id,
        io.BytesIO(annual_accounts_pdf(1, "Contrato")),
        filename="contrato.pdf",
    )
    db.session.commit()
    world._signable = world.shared
    return world.shared


def signature_request(world: Any) -> Any:
    """A request on the shared contract: the firm's staff signs first, then client A."""
    cached = getattr(world, "_signature_request", None)
    if cached is not None:
        return cached
    from app.extensions import db
    from app.services import signatures

    document = signable_document(world)
    request = signatures.request_signatures(
        world.staff, document.id, signer_ids=[world.staff.id, world.client_a.id]
    )
    db.session.commit()
    world._signature_request = request
    return request


def signing_job(world: Any) -> Any:
    """The staff signer's job, as after a signing attempt that failed."""
    from datetime import UTC, datetime

    from app.extensions import db

    signer = signature_request(world).signers[0]
    signer.authorised_at = datetime.now(UTC)
    signer.last_error = "El servicio de sellado de tiempo no responde; inténtelo más tarde."
    db.session.commit()
    return signer


def pkcs12_bundle(pki: Any, name: str, email: str, password: str) -> tuple[bytes, Any]:
    """A .p12 file holding a certificate of the test CA (as a signer's own certificate)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    issued = pki.issue_signer_certificate(name, email)
    key = serialization.load_pem_private_key(issued.key_pem, PKI_PASSPHRASE.encode())
    data = pkcs12.serialize_key_and_certificates(
        name.encode(),
        key,  # type: ignore[arg-type]
        issued.certificate,
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    return data, issued


def encrypted_pdf(password: str = "secreto") -> bytes:  # noqa: S107 - test data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(annual_accounts_pdf(1))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_without_pages() -> bytes:
    from pypdf import PdfWriter

    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()
