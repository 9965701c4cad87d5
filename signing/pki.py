"""Internal certification authority, revocation (CRL, OCSP) and RFC 3161 time-stamping authority.

Keys are stored encrypted (PKCS#8) under one directory and decrypted once per
:class:`Pki` object, so a warm worker never re-decrypts them per signature.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

from signing.errors import InvalidCredentials, PkiError, WrongPassword
from signing.material import ValidationMaterial

__all__ = [
    "IssuedSigner",
    "Pki",
    "RevokedEntry",
    "create_pki",
    "load_pki",
]

_META = "pki.json"
_CA_KEY = "ca-key.pem"
_CA_CERT = "ca-cert.pem"
_TSA_KEY = "tsa-key.pem"
_TSA_CERT = "tsa-cert.pem"
_REVOKED = "revoked.json"
_LOCK = ".lock"

_CA_VALIDITY = timedelta(days=20 * 365)
_TSA_VALIDITY = timedelta(days=10 * 365)
_SIGNER_VALIDITY = timedelta(days=2 * 365)
_CRL_VALIDITY = timedelta(days=7)
_CRL_REFRESH = timedelta(hours=1)
_OCSP_VALIDITY = timedelta(days=1)
# Certificates start a little in the past so that a verifier whose clock lags
# slightly behind ours does not see them as not yet valid.
_CLOCK_SKEW = timedelta(minutes=5)
_SIGNER_KEY_CACHE_SIZE = 256
_TSA_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64, "sha3_256": 32, "sha3_512": 64}

_REASONS = {flag.value: flag for flag in x509.ReasonFlags} | {
    flag.name: flag for flag in x509.ReasonFlags
}


@dataclass(frozen=True)
class IssuedSigner:
    """A key and certificate issued by the internal CA to a person or seal, for the app to store."""

    key_pem: bytes
    certificate_pem: bytes
    fingerprint_sha256: str
    serial: int
    not_after: datetime

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate as a cryptography object."""
        return x509.load_pem_x509_certificate(self.certificate_pem)

    @classmethod
    def from_pem(cls, key_pem: bytes, certificate_pem: bytes) -> IssuedSigner:
        """Rebuild from the two PEM blobs the app stored."""
        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
        except ValueError as exc:
            raise InvalidCredentials(f"Unreadable certificate: {exc}") from exc
        return cls(
            key_pem=key_pem,
            certificate_pem=certificate_pem,
            fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
            serial=certificate.serial_number,
            not_after=certificate.not_valid_after_utc,
        )


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags


def _now() -> datetime:
    return datetime.now(UTC)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _encrypt_key(key: PrivateKeyTypes, passphrase: bytes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def _decrypt_key(pem_data: bytes, passphrase: bytes) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(pem_data, passphrase)
    except TypeError as exc:  # key not encrypted, or passphrase missing
        raise InvalidCredentials(f"Unexpected key encryption: {exc}") from exc
    except ValueError as exc:
        if b"ENCRYPTED" in pem_data:
            raise WrongPassword("The key passphrase is wrong.") from exc
        raise InvalidCredentials(f"Unreadable private key: {exc}") from exc


def _public_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _parse_reason(reason: str | x509.ReasonFlags) -> x509.ReasonFlags:
    if isinstance(reason, x509.ReasonFlags):
        flag = reason
    else:
        try:
            flag = _REASONS[reason]
        except KeyError:
            raise ValueError(f"Unknown revocation reason {reason!r}") from None
    if flag == x509.ReasonFlags.remove_from_crl:
        raise ValueError("removeFromCRL is not a revocation reason")
    return flag


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / _LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# asn1crypto has no type information: its classes are Any to the checker.
class _TimeStampRejection(core.Sequence):  # type: ignore[misc]
    """A TimeStampResp without token (asn1crypto's own class wrongly requires one)."""

    _fields = [("status", tsp.PKIStatusInfo)]


class _TimeStampingAuthority:
    """Answers RFC 3161 requests with the TSA key held in memory."""

    def __init__(
        self,
        certificate: asn1_x509.Certificate,
        key: CertificateIssuerPrivateKeyTypes,
        chain: list[asn1_x509.Certificate],
        policy: str,
    ) -> None:
        self.certificate = certificate
        self._key = key
        self._chain = chain
        self._policy = policy
        self._signing_certificate = as_signing_certificate_v2(certificate)

    @staticmethod
    def reject(fail_info: str, text: str) -> _TimeStampRejection:
        return _TimeStampRejection(
            {
                "status": {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            }
        )

    def respond(self, request: tsp.TimeStampReq) -> tsp.TimeStampResp | _TimeStampRejection:
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if algorithm not in _TSA_DIGESTS:
            return self.reject("bad_alg", f"unsupported hash algorithm {algorithm}")
        if len(imprint["hashed_message"].native) != _TSA_DIGESTS[algorithm]:
            return self.reject("bad_data_format", "digest length does not match its algorithm")
        requested_policy = request["req_policy"].native
        if requested_policy is not None and requested_policy != self._policy:
            return self.reject("unaccepted_policy", "unknown TSA policy")
        if request["extensions"].native:
            return self.reject("unaccepted_extension", "extensions are not supported")

        info: dict[str, Any] = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(127),
            "gen_time": core.GeneralizedTime(_now()),
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.certificate.subject),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_info = tsp.TSTInfo(info).dump()

        attributes = [
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("message_digest", hashlib.sha256(tst_info).digest()),
            simple_cms_attribute("signing_certificate_v2", self._signing_certificate),
        ]
        # DER requires SET OF members in encoded order; strict verifiers re-encode.
        attributes.sort(key=lambda attribute: attribute.dump())
        signed_attrs = cms.CMSAttributes(attributes)
        signature = _sign_bytes(self._key, signed_attrs.dump())
        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={
                        "issuer": self.certificate.issuer,
                        "serial_number": self.certificate.serial_number,
                    },
                ),
                "digest_algorithm": digest_algorithm,
                "signed_attrs": signed_attrs,
                "signature_algorithm": _signature_algorithm(self._key),
                "signature": signature,
            }
        )
        signed_data: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_info),
            },
            "signer_infos": [signer_info],
        }
        if request["cert_req"].native:
            signed_data["certificates"] = [self.certificate, *self._chain]
        token = cms.ContentInfo(
            {"content_type": "signed_data", "content": cms.SignedData(signed_data)}
        )
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def _sign_bytes(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise PkiError(f"Unsupported TSA key type {type(key).__name__}")


def _signature_algorithm(key: CertificateIssuerPrivateKeyTypes) -> algos.SignedDigestAlgorithm:
    name = "sha256_rsa" if isinstance(key, rsa.RSAPrivateKey) else "sha256_ecdsa"
    return algos.SignedDigestAlgorithm({"algorithm": name})


class InternalTimeStamper(TimeStamper):
    """pyHanko time stamper answered in-process by the internal TSA (no HTTP)."""

    def __init__(self, authority: _TimeStampingAuthority) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]  # pyHanko's, untyped
        self._authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Answer the request with the internal TSA."""
        response = self._authority.respond(req)
        if isinstance(response, _TimeStampRejection):
            status = response["status"]
            raise TimestampRequestError(
                f"The internal TSA refused the request: {status['status_string'].native}"
            )
        return response


class Pki:
    """The portal's CA and TSA, loaded from a directory with keys decrypted once."""

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        self.directory = directory
        self._passphrase = passphrase
        try:
            meta = json.loads((directory / _META).read_text())
            self.ca_certificate = x509.load_pem_x509_certificate(
                (directory / _CA_CERT).read_bytes()
            )
            self.tsa_certificate = x509.load_pem_x509_certificate(
                (directory / _TSA_CERT).read_bytes()
            )
            ca_key_pem = (directory / _CA_KEY).read_bytes()
            tsa_key_pem = (directory / _TSA_KEY).read_bytes()
        except (OSError, ValueError) as exc:
            raise PkiError(f"No usable PKI in {directory}: {exc}") from exc
        self.organisation: str = meta["organisation"]
        self.base_url: str = meta["base_url"]
        self.with_ocsp: bool = meta.get("with_ocsp", False)
        self.tsa_policy: str = meta["tsa_policy"]
        self._ca_key = _issuer_key(_decrypt_key(ca_key_pem, passphrase))
        tsa_key = _issuer_key(_decrypt_key(tsa_key_pem, passphrase))
        for certificate, key in (
            (self.ca_certificate, self._ca_key),
            (self.tsa_certificate, tsa_key),
        ):
            if _public_bytes(certificate.public_key()) != _public_bytes(key.public_key()):
                raise PkiError("A PKI key does not match its certificate.")
        self._ca_asn1 = asn1_x509.Certificate.load(self.ca_certificate.public_bytes(_DER))
        self._tsa = _TimeStampingAuthority(
            asn1_x509.Certificate.load(self.tsa_certificate.public_bytes(_DER)),
            tsa_key,
            [self._ca_asn1],
            self.tsa_policy,
        )
        self._timestamper = InternalTimeStamper(self._tsa)
        self._lock = threading.Lock()
        self._signer_keys: OrderedDict[bytes, PrivateKeyTypes] = OrderedDict()
        self._crl: tuple[tuple[int, int], datetime, bytes] | None = None

    # -- URLs and public material ------------------------------------------------

    @property
    def crl_url(self) -> str:
        """Where the app publishes :meth:`current_crl`."""
        return f"{self.base_url}/pki/crl.der"

    @property
    def ocsp_url(self) -> str:
        """Where the app serves :meth:`respond_ocsp` (only named in certificates if enabled)."""
        return f"{self.base_url}/pki/ocsp"

    @property
    def ca_url(self) -> str:
        """Where the app publishes the CA certificate (DER)."""
        return f"{self.base_url}/pki/ca.der"

    @property
    def tsa_url(self) -> str:
        """Where the app serves :meth:`timestamp_response`."""
        return f"{self.base_url}/pki/tsa"

    @property
    def ca_certificate_der(self) -> bytes:
        """The CA certificate, DER-encoded."""
        return self.ca_certificate.public_bytes(_DER)

    def validation_material(self) -> ValidationMaterial:
        """Trust root and current CRL of this PKI, for signing at B-LT/B-LTA and for validating."""
        return ValidationMaterial(
            trust_roots=(self.ca_certificate_der,), crls=(self.current_crl(),)
        )

    # -- issuing -----------------------------------------------------------------

    def issue_signer_certificate(
        self,
        common_name: str,
        email: str | None,
        *,
        serial: int | None = None,
        organisation: str | None = None,
        validity: timedelta = _SIGNER_VALIDITY,
        national_id: str | None = None,
    ) -> IssuedSigner:
        """Create a key pair and a signing certificate (digitalSignature, nonRepudiation).

        ``national_id`` (a checked DNI/NIE) goes into the subject's serialNumber as ETSI EN
        319 412-1 writes it (``IDCES-12345678Z``), as Spanish qualified certificates carry it.
        """
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if national_id:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IDCES-{national_id}"))
        if organisation:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        if email:
            attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
        now = _now()
        not_after = min(now + validity, self.ca_certificate.not_valid_after_utc)
        builder = self._end_entity_builder(x509.Name(attributes), key, now, not_after, serial)
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
            )
        certificate = builder.sign(self._ca_key, hashes.SHA256())
        key_pem = _encrypt_key(key, self._passphrase)
        with self._lock:
            self._remember_signer_key(key_pem, key)
        return IssuedSigner(
            key_pem=key_pem,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
            serial=certificate.serial_number,
            not_after=certificate.not_valid_after_utc,
        )

    def signer_key(self, key_pem: bytes) -> PrivateKeyTypes:
        """Decrypt a key from :meth:`issue_signer_certificate`, once per process (LRU cache)."""
        digest = hashlib.sha256(key_pem).digest()
        with self._lock:
            key = self._signer_keys.get(digest)
            if key is not None:
                self._signer_keys.move_to_end(digest)
                return key
        key = _decrypt_key(key_pem, self._passphrase)
        with self._lock:
            self._remember_signer_key(key_pem, key)
        return key

    def _remember_signer_key(self, key_pem: bytes, key: PrivateKeyTypes) -> None:
        self._signer_keys[hashlib.sha256(key_pem).digest()] = key
        while len(self._signer_keys) > _SIGNER_KEY_CACHE_SIZE:
            self._signer_keys.popitem(last=False)

    def _end_entity_builder(
        self,
        subject: x509.Name,
        key: PrivateKeyTypes,
        not_before: datetime,
        not_after: datetime,
        serial: int | None,
    ) -> x509.CertificateBuilder:
        public_key = key.public_key()
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(self.ca_url),
            )
        ]
        if self.with_ocsp:
            access.insert(
                0,
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(self.ocsp_url),
                ),
            )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_certificate.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(not_before - _CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(self.crl_url)], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.AuthorityInformationAccess(access), critical=False)
        )

    # -- revocation --------------------------------------------------------------

    def revoke(
        self,
        serial: int,
        reason: str | x509.ReasonFlags = "unspecified",
        *,
        when: datetime | None = None,
    ) -> None:
        """Revoke a certificate by serial number; revoking twice keeps the first entry."""
        flag = _parse_reason(reason)
        with _locked(self.directory):
            entries = self._read_revoked()
            if serial not in entries:
                entries[serial] = RevokedEntry(serial, when or _now(), flag)
                payload = [
                    {
                        "serial": format(entry.serial, "x"),
                        "revoked_at": entry.revoked_at.isoformat(),
                        "reason": entry.reason.value,
                    }
                    for entry in entries.values()
                ]
                _write_private(self.directory / _REVOKED, json.dumps(payload, indent=1).encode())
        with self._lock:
            self._crl = None

    def revoked(self) -> Mapping[int, RevokedEntry]:
        """Revoked certificates by serial number, as persisted."""
        return self._read_revoked()

    def is_revoked(self, serial: int) -> bool:
        """Whether the certificate with this serial has been revoked."""
        return serial in self._read_revoked()

    def _read_revoked(self) -> dict[int, RevokedEntry]:
        try:
            payload = json.loads((self.directory / _REVOKED).read_text())
        except FileNotFoundError:
            return {}
        entries = (
            RevokedEntry(
                int(item["serial"], 16),
                datetime.fromisoformat(item["revoked_at"]),
                _parse_reason(item["reason"]),
            )
            for item in payload
        )
        return {entry.serial: entry for entry in entries}

    def _revoked_version(self) -> tuple[int, int]:
        try:
            stat = (self.directory / _REVOKED).stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def current_crl(self) -> bytes:
        """The CA's CRL (DER), regenerated when revocations change or it is an hour old."""
        version = self._revoked_version()
        now = _now()
        with self._lock:
            if self._crl is not None:
                cached_version, issued_at, data = self._crl
                if cached_version == version and now - issued_at < _CRL_REFRESH:
                    return data
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca_certificate.subject)
            .last_update(now)
            .next_update(now + _CRL_VALIDITY)
            .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
        )
        for entry in self._read_revoked().values():
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
            )
            if entry.reason != x509.ReasonFlags.unspecified:
                revoked = revoked.add_extension(x509.CRLReason(entry.reason), critical=False)
            builder = builder.add_revoked_certificate(revoked.build())
        data = builder.sign(self._ca_key, hashes.SHA256()).public_bytes(_DER)
        with self._lock:
            self._crl = (version, now, data)
        return data

    def respond_ocsp(self, request_der: bytes) -> bytes:
        """Answer a DER OCSP request for a certificate of this CA (signed by the CA itself)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algorithm = request.hash_algorithm
            expected_name_hash, expected_key_hash = self._issuer_hashes(algorithm)
        except (ValueError, x509.UnsupportedGeneralNameType) as exc:
            del exc
            return _ocsp_failure(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if (request.issuer_name_hash, request.issuer_key_hash) != (
            expected_name_hash,
            expected_key_hash,
        ):
            return _ocsp_failure(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        entry = self._read_revoked().get(request.serial_number)
        now = _now()
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=expected_name_hash,
                issuer_key_hash=expected_key_hash,
                serial_number=request.serial_number,
                algorithm=algorithm,
                # A CRL-backed responder: anything not revoked is "good".
                cert_status=ocsp.OCSPCertStatus.REVOKED if entry else ocsp.OCSPCertStatus.GOOD,
                this_update=now,
                next_update=now + _OCSP_VALIDITY,
                revocation_time=entry.revoked_at if entry else None,
                revocation_reason=entry.reason if entry else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca_certificate)
        )
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        return builder.sign(self._ca_key, hashes.SHA256()).public_bytes(_DER)

    def _issuer_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        name_hash = hashes.Hash(algorithm)
        name_hash.update(self.ca_certificate.subject.public_bytes())
        key_hash = hashes.Hash(algorithm)
        key_hash.update(self._ca_asn1.public_key["public_key"].contents[1:])
        return name_hash.finalize(), key_hash.finalize()

    # -- time stamping -------------------------------------------------------------

    def timestamp_response(self, request_der: bytes) -> bytes:
        """Answer a DER RFC 3161 request with a DER response (``application/timestamp-reply``)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            request.native  # noqa: B018 - forces a full parse so garbage is rejected here
        except (ValueError, TypeError):
            rejection: bytes = _TimeStampingAuthority.reject(
                "bad_data_format", "malformed request"
            ).dump()
            return rejection
        response: bytes = self._tsa.respond(request).dump()
        return response

    def timestamper(self) -> TimeStamper:
        """The in-process pyHanko time stamper of the internal TSA (one per Pki, reused)."""
        return self._timestamper

    def renew_tsa(self) -> None:
        """Give the TSA a new key and certificate before the old one expires.

        The old certificate is kept as ``tsa-cert-<serial>.pem``; its key is deleted.
        Other processes keep the old TSA until they load the PKI again.
        """
        with _locked(self.directory):
            old_serial = format(self.tsa_certificate.serial_number, "x")
            os.replace(self.directory / _TSA_CERT, self.directory / f"tsa-cert-{old_serial}.pem")
            (self.directory / _TSA_KEY).unlink()
            _create_tsa(self.directory, self._passphrase)
        self.tsa_certificate = x509.load_pem_x509_certificate(
            (self.directory / _TSA_CERT).read_bytes()
        )
        tsa_key = _issuer_key(
            _decrypt_key((self.directory / _TSA_KEY).read_bytes(), self._passphrase)
        )
        self._tsa = _TimeStampingAuthority(
            asn1_x509.Certificate.load(self.tsa_certificate.public_bytes(_DER)),
            tsa_key,
            [self._ca_asn1],
            self.tsa_policy,
        )
        self._timestamper = InternalTimeStamper(self._tsa)


_DER = serialization.Encoding.DER


def _ocsp_failure(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(_DER)


def _issuer_key(key: PrivateKeyTypes) -> CertificateIssuerPrivateKeyTypes:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PkiError(f"Unsupported PKI key type {type(key).__name__}")
    return key


def _ca_certificate(key: rsa.RSAPrivateKey, organisation: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} Signing CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def create_pki(
    directory: str | os.PathLike[str],
    passphrase: bytes,
    *,
    organisation: str,
    base_url: str,
    with_ocsp: bool = False,
) -> Pki:
    """Create the CA and TSA under ``directory``, or load them if they already exist."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(path):
        if not (path / _META).exists():
            meta = {
                "organisation": organisation,
                "base_url": base_url.rstrip("/"),
                "with_ocsp": with_ocsp,
                # An OID under the UUID arc (2.25) needs no registration.
                "tsa_policy": f"2.25.{uuid.uuid4().int}",
            }
            (path / _META).write_text(json.dumps(meta, indent=1))
        if not (path / _CA_CERT).exists():
            ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
            _write_private(path / _CA_KEY, _encrypt_key(ca_key, passphrase))
            certificate = _ca_certificate(ca_key, organisation)
            (path / _CA_CERT).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
            (path / _TSA_CERT).unlink(missing_ok=True)
        if not (path / _TSA_CERT).exists():
            _create_tsa(path, passphrase)
    return Pki(path, passphrase)


def _create_tsa(path: Path, passphrase: bytes) -> None:
    meta = json.loads((path / _META).read_text())
    ca_certificate = x509.load_pem_x509_certificate((path / _CA_CERT).read_bytes())
    ca_key = _issuer_key(_decrypt_key((path / _CA_KEY).read_bytes(), passphrase))
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    organisation = meta["organisation"]
    now = _now()
    base_url = meta["base_url"]
    access = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{base_url}/pki/ca.der"),
        )
    ]
    if meta.get("with_ocsp", False):
        access.insert(
            0,
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{base_url}/pki/ocsp"),
            ),
        )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(
                        NameOID.COMMON_NAME, f"{organisation} Time-Stamping Authority"
                    ),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                ]
            )
        )
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + _TSA_VALIDITY, ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(f"{base_url}/pki/crl.der")],
                        None,
                        None,
                        None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(x509.AuthorityInformationAccess(access), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(path / _TSA_KEY, _encrypt_key(key, passphrase))
    (path / _TSA_CERT).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def load_pki(directory: str | os.PathLike[str], passphrase: bytes) -> Pki:
    """Load an existing PKI (:class:`PkiError` if absent, :class:`WrongPassword` if locked)."""
    return Pki(Path(directory), passphrase)
