"""People and their credentials."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, id_column, utcnow


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    client = "client"


class User(db.Model):  # type: ignore[name-defined]
    __tablename__ = "user"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str | None] = mapped_column(ForeignKey("client.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(5), default="es")
    #: DNI/NIE checked during onboarding; goes into the person's signing certificate.
    national_id: Mapped[str | None] = mapped_column(String(32))
    # e-mail for notifications: "immediate", "daily" (one digest a day) or "off"
    notify_email: Mapped[str] = mapped_column(
        String(10), default="immediate", server_default="immediate"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client = relationship("Client", back_populates="users")

    # flask-login: the id it stores in the cookie is the server-side session id,
    # so that logging out or changing the password really ends a session.
    # Plain attributes, not columns: their types are told to mypy alone, since SQLAlchemy
    # would try to map an annotation in the class body.
    if TYPE_CHECKING:
        session_token: str | None
        session_expires_at: datetime | None
    session_token = None  # set per request, not a column
    session_expires_at = None  # the session's end, with it

    @property
    def mfa_enabled(self) -> bool:
        return bool(self.totp_secret)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.admin, Role.staff)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_client(self) -> bool:
        return self.role == Role.client

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token


class UserSession(db.Model):  # type: ignore[name-defined]
    """A browser session; the cookie carries only its random id."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user = relationship("User")


class ApiToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "api_token"

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user = relationship("User")


class AccountToken(db.Model):  # type: ignore[name-defined]
    """Single-use e-mailed links: password reset and invitation."""

    __tablename__ = "account_token"

    id: Mapped[str] = id_column()
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user = relationship("User")


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Failed-login counters per account key and per IP, shared by all web processes."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Setting(db.Model):  # type: ignore[name-defined]
    """Portal-wide settings an admin can change."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
