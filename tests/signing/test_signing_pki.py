"""The internal CA, its revocation services and the internal TSA."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing import Pki, PkiError, WrongPassword, create_pki, load_pki


def test_create_pki_is_idempotent_and_keys_are_encrypted_at_rest(tmp_path: Path) -> None:
    first = create_pki(tmp_path, b"secret", organisation="Firma", base_url="https://x.test/")
    second = create_pki(tmp_path, b"secret", organisation="Other", base_url="https://y.test")

    assert second.ca_certificate == first.ca_certificate
    assert second.tsa_certificate == first.tsa_certificate
    assert second.crl_url == "https://x.test/pki/crl.der"
    for name in ("ca-key.pem", "tsa-key.pem"):
        key_file = tmp_path / name
        assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(key_file.read_bytes(), None)
    with pytest.raises(WrongPassword):
        load_pki(tmp_path, b"not the passphrase")
    assert load_pki(tmp_path, b"secret").ca_certificate == first.ca_certificate


def test_load_pki_without_one_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PkiError):
        load_pki(tmp_path, b"secret")


def test_a_missing_tsa_is_recreated_under_the_same_ca(tmp_path: Path) -> None:
    first = create_pki(tmp_path, b"secret", organisation="Firma", base_url="https://x.test")
    (tmp_path / "tsa-cert.pem").unlink()
    again = create_pki(tmp_path, b"secret", organisation="Firma", base_url="https://x.test")
    assert again.ca_certificate == first.ca_certificate
    assert again.tsa_certificate != first.tsa_certificate


def test_tsa_certificate_is_for_time_stamping_only(pki: Pki) -> None:
    extension = pki.tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert extension.critical
    assert list(extension.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    pki.tsa_certificate.verify_directly_issued_by(pki.ca_certificate)


def test_signer_certificate_profile(pki: Pki) -> None:
    issued = pki.issue_signer_certificate("Ana García", "ana@cliente.test", serial=424242)
    certificate = issued.certificate

    assert issued.serial == 424242 == certificate.serial_number
    assert issued.fingerprint_sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    assert issued.key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == f"{pki.base_url}/pki/crl.der"
    access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    assert f"{pki.base_url}/pki/ocsp" in [item.access_location.value for item in access.value]
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["ana@cliente.test"]
    certificate.verify_directly_issued_by(pki.ca_certificate)


def test_signer_keys_are_decrypted_once_per_process(pki: Pki, pki_passphrase: bytes) -> None:
    issued = pki.issue_signer_certificate("Luis Pérez", "luis@cliente.test")
    reloaded = load_pki(pki.directory, pki_passphrase)

    key = reloaded.signer_key(issued.key_pem)
    assert reloaded.signer_key(issued.key_pem) is key
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == issued.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_revocation_is_persisted_and_published_in_a_signed_crl(
    pki: Pki, pki_passphrase: bytes
) -> None:
    issued = pki.issue_signer_certificate("Revocada", "revocada@cliente.test")
    before = x509.load_der_x509_crl(pki.current_crl())
    assert before.get_revoked_certificate_by_serial_number(issued.serial) is None

    pki.revoke(issued.serial, "key_compromise")
    pki.revoke(issued.serial, "superseded")  # the first reason stands

    crl = x509.load_der_x509_crl(load_pki(pki.directory, pki_passphrase).current_crl())
    assert crl.is_signature_valid(pki.ca_certificate.public_key())  # type: ignore[arg-type]
    assert crl.next_update_utc is not None and crl.next_update_utc > datetime.now(UTC)
    entry = crl.get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert pki.is_revoked(issued.serial)
    with pytest.raises(ValueError, match="Unknown revocation reason"):
        pki.revoke(issued.serial, "because")


def _ocsp_request(pki: Pki, certificate: x509.Certificate, nonce: bytes) -> bytes:
    builder = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, pki.ca_certificate, hashes.SHA256())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_ocsp_responder_reports_good_and_revoked(pki: Pki) -> None:
    good = pki.issue_signer_certificate("Buena", "buena@cliente.test")
    bad = pki.issue_signer_certificate("Mala", "mala@cliente.test")
    pki.revoke(bad.serial, "cessation_of_operation")

    good_response = ocsp.load_der_ocsp_response(
        pki.respond_ocsp(_ocsp_request(pki, good.certificate, b"nonce-1234567890"))
    )
    bad_response = ocsp.load_der_ocsp_response(
        pki.respond_ocsp(_ocsp_request(pki, bad.certificate, b"nonce-0987654321"))
    )

    assert good_response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert bad_response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert bad_response.revocation_reason == x509.ReasonFlags.cessation_of_operation
    nonce = good_response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert nonce == b"nonce-1234567890"
    pki.ca_certificate.public_key().verify(  # type: ignore[call-arg]
        good_response.signature,
        good_response.tbs_response_bytes,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    garbage = ocsp.load_der_ocsp_response(pki.respond_ocsp(b"not an OCSP request"))
    assert garbage.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def _timestamp_request(digest: bytes, *, nonce: int = 12345) -> bytes:
    return tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def test_tsa_answers_rfc3161_requests(pki: Pki) -> None:
    digest = hashlib.sha256(b"annual accounts").digest()
    response = tsp.TimeStampResp.load(pki.timestamp_response(_timestamp_request(digest)))

    assert response["status"]["status"].native == "granted"
    signed_data = response["time_stamp_token"]["content"]
    info = signed_data["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == 12345
    assert abs((info["gen_time"].native - datetime.now(UTC)).total_seconds()) < 60
    assert len(signed_data["certificates"]) == 2


def _status(response_der: bytes) -> dict[str, object]:
    first = core.Sequence.load(response_der)[0]
    return tsp.PKIStatusInfo.load(first.dump()).native  # type: ignore[no-any-return]


def test_tsa_rejects_malformed_and_unsupported_requests(pki: Pki) -> None:
    garbage = _status(pki.timestamp_response(b"\x30\x03garbage"))
    assert garbage["status"] == "rejection"
    assert "bad_data_format" in garbage["fail_info"]  # type: ignore[operator]

    short = _status(pki.timestamp_response(_timestamp_request(b"short")))
    assert short["status"] == "rejection"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI is not installed")
def test_openssl_verifies_the_tsa_response(pki: Pki, tmp_path: Path) -> None:
    data = tmp_path / "accounts.txt"
    data.write_bytes(b"annual accounts 2024")
    request = _timestamp_request(hashlib.sha256(data.read_bytes()).digest())
    (tmp_path / "reply.tsr").write_bytes(pki.timestamp_response(request))
    (tmp_path / "ca.pem").write_bytes(pki.ca_certificate.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(tmp_path / "reply.tsr"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Verification: OK" in result.stdout, result.stdout + result.stderr


def test_organisation_names_the_ca(pki: Pki) -> None:
    assert pki.organisation in pki.ca_certificate.subject.rfc4514_string()
