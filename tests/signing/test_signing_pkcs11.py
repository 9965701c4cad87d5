"""The firm's seal on a PKCS#11 token (SoftHSM2 in a temporary directory)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from signing import (
    FieldSpec,
    InternalCaSigner,
    IssuedSigner,
    Pkcs11Signer,
    Pki,
    SignerUnavailable,
    SignOptions,
    ValidationMaterial,
    WrongPassword,
    sign_pdf,
    validate_pdf,
)

TOKEN = "portal-seal"
PIN = "246810"


@pytest.fixture(scope="module")
def seal_token(
    tmp_path_factory: pytest.TempPathFactory,
    pki: Pki,
    pki_passphrase: bytes,
    softhsm_module: str | None,
) -> Iterator[tuple[str, IssuedSigner]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _seal_token(
            tmp_path_factory.mktemp("softhsm"), monkeypatch, pki, pki_passphrase, softhsm_module
        )


def _seal_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pki: Pki,
    pki_passphrase: bytes,
    softhsm_module: str | None,
) -> Iterator[tuple[str, IssuedSigner]]:
    """A fresh token holding the seal's key (imported encrypted) and certificate."""
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed (Debian package softhsm2)")
    module = softhsm_module
    if module is None:
        pytest.skip("the SoftHSM2 PKCS#11 module (libsofthsm2.so) was not found")
    (tmp_path / "tokens").mkdir()
    config = tmp_path / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(config))

    def util(*arguments: str) -> None:
        subprocess.run(["softhsm2-util", *arguments], check=True, capture_output=True)

    util("--init-token", "--free", "--label", TOKEN, "--so-pin", "13579", "--pin", PIN)
    issued = pki.issue_signer_certificate(
        "Asesoría Ejemplo SL", None, organisation=pki.organisation
    )
    key_file = tmp_path / "seal-key.pem"
    key_file.write_bytes(issued.key_pem)  # still encrypted; softhsm2-util decrypts it
    util(
        "--import",
        str(key_file),
        "--file-pin",
        pki_passphrase.decode(),
        "--token",
        TOKEN,
        "--label",
        "seal",
        "--id",
        "5e41",
        "--pin",
        PIN,
    )

    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    certificate = issued.certificate
    token = pkcs11.lib(module).get_token(token_label=TOKEN)
    with token.open(rw=True, user_pin=PIN) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "seal",
                Attribute.ID: bytes.fromhex("5e41"),
                Attribute.SUBJECT: certificate.subject.public_bytes(),
                Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
            }
        )
    yield module, issued


def test_firm_seal_on_a_token_certifies_and_the_client_signs(
    seal_token: tuple[str, IssuedSigner],
    pdf: bytes,
    pki: Pki,
    client: InternalCaSigner,
    material: ValidationMaterial,
) -> None:
    module, issued = seal_token
    with Pkcs11Signer(module, TOKEN, PIN, "seal") as seal:
        assert seal.certificate.sha256.hex() == issued.fingerprint_sha256
        certified = sign_pdf(
            pdf,
            seal,
            SignOptions(
                level="B-LTA",
                field_name="Firm",
                certify=True,
                new_fields=(FieldSpec("Client"),),
                timestamper=pki.timestamper(),
                validation=material,
            ),
        )
    signed = sign_pdf(
        certified,
        client,
        SignOptions(
            level="B-LTA",
            field_name="Client",
            require_existing_field=True,
            timestamper=pki.timestamper(),
            validation=material,
        ),
    )

    report = validate_pdf(signed, trust_roots=material.trust_roots, crls=material.crls)
    assert report.valid, report.reason
    assert [item.signer for item in report.signatures] == [
        "Asesoría Ejemplo SL",
        "María Núñez Ortega",
    ]
    assert report.signatures[0].certification
    assert [item.level for item in report.signatures] == ["B-LTA", "B-LTA"]


def test_token_errors_are_clear(seal_token: tuple[str, IssuedSigner], pdf: bytes) -> None:
    module, _issued = seal_token
    with pytest.raises(WrongPassword):
        Pkcs11Signer(module, TOKEN, "000000", "seal").pyhanko_signer()
    with pytest.raises(SignerUnavailable):
        Pkcs11Signer(module, "no-such-token", PIN, "seal").pyhanko_signer()
    with pytest.raises(SignerUnavailable), Pkcs11Signer(module, TOKEN, PIN, "missing") as source:
        sign_pdf(pdf, source, SignOptions())
