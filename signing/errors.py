"""Exception family of the signing library."""

from __future__ import annotations

__all__ = [
    "CertificateNotTrusted",
    "CertificateRevoked",
    "EmptyPdf",
    "EncryptedPdf",
    "FieldAlreadySigned",
    "FieldNotFound",
    "InvalidCredentials",
    "InvalidPdf",
    "PkiError",
    "SignerUnavailable",
    "SigningError",
    "TimestampUnavailable",
    "WrongPassword",
]


class SigningError(Exception):
    """Base class of every error raised by the signing library."""


class InvalidPdf(SigningError):
    """The input is not a PDF, or it is too broken to be read."""


class EncryptedPdf(InvalidPdf):
    """The PDF is encrypted and no (correct) password was given."""


class EmptyPdf(InvalidPdf):
    """The PDF has no pages."""


class WrongPassword(SigningError):
    """A password, passphrase or PIN was refused."""


class InvalidCredentials(SigningError):
    """Key or certificate material is unreadable or inconsistent."""


class SignerUnavailable(SigningError):
    """A signing device (PKCS#11 token) or its key cannot be reached."""


class CertificateRevoked(SigningError):
    """The signer's certificate has been revoked."""


class CertificateNotTrusted(SigningError):
    """The signer's certificate does not validate against the trust roots."""


class FieldNotFound(SigningError):
    """The requested signature field does not exist."""


class FieldAlreadySigned(SigningError):
    """The requested signature field already holds a signature."""


class TimestampUnavailable(SigningError):
    """The time-stamping authority could not provide a timestamp."""


class PkiError(SigningError):
    """The internal PKI is missing, incomplete or inconsistent."""
