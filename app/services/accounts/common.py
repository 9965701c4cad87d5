"""What the parts of accounts share: the clock, hashed tokens, finding a person by e-mail."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import User


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def user_by_id(user_id: str) -> User | None:
    return db.session.get(User, str(user_id))
