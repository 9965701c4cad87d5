"""Where a signing key lives: the internal CA, an uploaded PKCS#12 file, or a PKCS#11 token."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

from asn1crypto import x509 as asn1_x509
from asn1crypto.keys import PublicKeyInfo
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from signing.errors import InvalidCredentials, SignerUnavailable, SigningError, WrongPassword
from signing.material import CertificateLike, load_certificates
from signing.pki import IssuedSigner, Pki

__all__ = [
    "InternalCaSigner",
    "Pkcs11Signer",
    "Pkcs12Signer",
    "SignerSource",
    "build_signer_source",
    "register_signer_source",
    "signer_source_kinds",
]


@runtime_checkable
class SignerSource(Protocol):
    """Something that can hand pyHanko a ready signer and be closed afterwards."""

    kind: ClassVar[str]

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The signer's certificate."""
        ...

    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer holding (or reaching) the private key."""
        ...

    def close(self) -> None:
        """Release sessions or key material."""
        ...


_REGISTRY: dict[str, Callable[..., SignerSource]] = {}
_Factory = TypeVar("_Factory", bound=Callable[..., Any])


def register_signer_source(kind: str) -> Callable[[_Factory], _Factory]:
    """Class decorator adding a signer source to the registry under ``kind``."""

    def decorate(factory: _Factory) -> _Factory:
        _REGISTRY[kind] = factory
        return factory

    return decorate


def build_signer_source(kind: str, **parameters: Any) -> SignerSource:
    """Instantiate the registered signer source ``kind`` with its parameters."""
    try:
        factory = _REGISTRY[kind]
    except KeyError:
        raise SigningError(f"Unknown signer source {kind!r}") from None
    return factory(**parameters)


def signer_source_kinds() -> tuple[str, ...]:
    """Names of the registered signer sources."""
    return tuple(sorted(_REGISTRY))


class _KeySigner(Signer):
    """pyHanko signer over a parsed key (pyHanko's SimpleSigner re-parses its key per signature)."""

    def __init__(
        self,
        certificate: asn1_x509.Certificate,
        key: PrivateKeyTypes,
        chain: Iterable[asn1_x509.Certificate] = (),
    ) -> None:
        registry = SimpleCertificateStore()
        registry.register_multiple([certificate, *chain])
        super().__init__(signing_cert=certificate, cert_registry=registry)
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        """Sign ``data`` with the in-memory key."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        name = mechanism["algorithm"].native
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            if name == "rsassa_pss":
                pss_padding, hash_algorithm = process_pss_params(mechanism["parameters"])
                return key.sign(data, pss_padding, hash_algorithm)
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            return key.sign(data)
        raise InvalidCredentials(f"Unsupported key type {type(key).__name__}")


def _to_asn1(certificate: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _check_key_matches(certificate: asn1_x509.Certificate, key: PrivateKeyTypes) -> None:
    public = PublicKeyInfo.load(
        key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    if public.dump() != certificate.public_key.dump():
        raise InvalidCredentials("The private key does not belong to the certificate.")


class _Closeable:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()  # type: ignore[attr-defined]


@register_signer_source("internal")
class InternalCaSigner(_Closeable):
    """A person's key issued by the internal CA; the key is decrypted once per Pki and cached."""

    kind: ClassVar[str] = "internal"

    def __init__(self, pki: Pki, issued: IssuedSigner) -> None:
        self._pki = pki
        self._certificate = load_certificates(issued.certificate_pem)[0]
        self._key_pem = issued.key_pem
        self._signer: _KeySigner | None = None

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The signer's certificate."""
        return self._certificate

    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer with the cached key and the CA certificate as chain."""
        if self._signer is None:
            key = self._pki.signer_key(self._key_pem)
            _check_key_matches(self._certificate, key)
            self._signer = _KeySigner(self._certificate, key, [_to_asn1(self._pki.ca_certificate)])
        return self._signer

    def close(self) -> None:
        """Nothing to release: the key cache belongs to the Pki."""
        self._signer = None


@register_signer_source("pkcs12")
class Pkcs12Signer(_Closeable):
    """A PKCS#12 file uploaded for one signature (e.g. an FNMT certificate), never stored."""

    kind: ClassVar[str] = "pkcs12"

    def __init__(self, data: bytes, password: bytes | None) -> None:
        try:
            key, certificate, others = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise _pkcs12_error(data, password, exc) from exc
        except TypeError as exc:  # password given for an unencrypted file, or missing
            raise WrongPassword("The PKCS#12 password is wrong.") from exc
        if key is None or certificate is None:
            raise InvalidCredentials("The PKCS#12 file holds no private key and certificate.")
        self._certificate = _to_asn1(certificate)
        _check_key_matches(self._certificate, key)
        self._signer: _KeySigner | None = _KeySigner(
            self._certificate, key, [_to_asn1(other) for other in others]
        )

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The signer's certificate."""
        return self._certificate

    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer with the key from the file."""
        if self._signer is None:
            raise SigningError("This PKCS#12 signer has been closed.")
        return self._signer

    def close(self) -> None:
        """Drop the key so that it does not outlive the signature."""
        self._signer = None


def _pkcs12_error(data: bytes, password: bytes | None, exc: ValueError) -> SigningError:
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        asn1_pkcs12.Pfx.load(data).native  # noqa: B018 - parses without the password
    except (ValueError, TypeError):
        return InvalidCredentials("The file is not a PKCS#12 (.p12/.pfx) certificate.")
    return WrongPassword("The PKCS#12 password is wrong.")


# python-pkcs11 keeps one handle per module: sessions are opened per signer source.
_PKCS11_LOCK = threading.Lock()


@register_signer_source("pkcs11")
class Pkcs11Signer(_Closeable):
    """A key on a PKCS#11 token (the firm's seal); the session stays open until :meth:`close`."""

    kind: ClassVar[str] = "pkcs11"

    def __init__(
        self,
        lib_path: str,
        token_label: str,
        pin: str,
        key_label: str,
        *,
        cert_label: str | None = None,
        certificate: CertificateLike | None = None,
        chain: tuple[CertificateLike, ...] = (),
    ) -> None:
        self._lib_path = lib_path
        self._token_label = token_label
        self._pin = pin
        self._key_label = key_label
        self._cert_label = cert_label or key_label
        self._given_certificate = load_certificates(certificate)[0] if certificate else None
        self._chain = [item for entry in chain for item in load_certificates(entry)]
        self._session: Any = None
        self._signer: Signer | None = None

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The seal's certificate (from the token unless given)."""
        signing_cert = self.pyhanko_signer().signing_cert
        assert signing_cert is not None
        return signing_cert

    def pyhanko_signer(self) -> Signer:
        """Open the session (once) and return a pyHanko PKCS#11 signer."""
        if self._signer is not None:
            return self._signer
        from pkcs11 import exceptions as p11_errors
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.general import SigningError as PyHankoSigningError
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        with _PKCS11_LOCK:
            try:
                self._session = open_pkcs11_session(
                    self._lib_path,
                    token_criteria=TokenCriteria(label=self._token_label),
                    user_pin=self._pin,
                )
            except (p11_errors.PinIncorrect, p11_errors.PinInvalid, p11_errors.PinLenRange) as exc:
                raise WrongPassword("The token PIN is wrong.") from exc
            except (PyHankoSigningError, p11_errors.PKCS11Error, OSError, RuntimeError) as exc:
                raise SignerUnavailable(f"Cannot open token {self._token_label!r}: {exc}") from exc
            signer = PKCS11Signer(
                self._session,
                cert_label=None if self._given_certificate else self._cert_label,
                signing_cert=self._given_certificate,
                key_label=self._key_label,
                ca_chain=self._chain,
            )
            try:
                # Fails here, with a clear message, if the key or certificate is missing.
                signer._load_objects()
            except (PyHankoSigningError, p11_errors.PKCS11Error) as exc:
                self.close()
                raise SignerUnavailable(
                    f"Key or certificate not found on the token: {exc}"
                ) from exc
        self._signer = signer
        return signer

    def close(self) -> None:
        """Close the token session."""
        self._signer = None
        if self._session is not None:
            session, self._session = self._session, None
            with contextlib.suppress(Exception):  # closing must not mask the caller's error
                session.close()
