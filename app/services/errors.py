"""Domain errors that the web layer maps to HTTP answers in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: carries the HTTP status and a plain-language message."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class AccessDenied(DomainError):
    status = 403
    title = "Forbidden"


class AuthFailed(DomainError):
    status = 401
    title = "Not authenticated"


class MfaRequired(AuthFailed):
    title = "Second factor required"


class MfaEnrolmentRequired(DomainError):
    """The firm requires a second factor of this person, who has not enrolled one yet."""

    status = 403
    title = "Second factor enrolment required"


class Throttled(DomainError):
    status = 429
    title = "Too many attempts"


class InvalidTransition(DomainError):
    status = 409
    title = "Conflict"


class TooLarge(DomainError):
    status = 413
    title = "File too large"


class UnsupportedType(DomainError):
    status = 415
    title = "Unsupported file type"


class StorageUnavailable(DomainError):
    status = 507
    title = "Storage unavailable"


class TemporarilyUnavailable(DomainError):
    """Something the portal needs (the database, the object store, the broker) does not answer
    right now; nothing of the request was stored, and it may be sent again (503, Retry-After)."""

    status = 503
    title = "Service unavailable"


class ValidationFailed(DomainError):
    """Invalid fields; ``errors`` maps each field to its message."""

    status = 422
    title = "Invalid fields"

    def __init__(self, errors: dict[str, str], detail: str = "") -> None:
        super().__init__(detail or "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
