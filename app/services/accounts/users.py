"""People: creating them (with an invitation when there is no password), listing, (de)activating."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Client, Role, User
from app.services import audit
from app.services.access import get_client, require_admin, require_staff
from app.services.accounts.common import find_user_by_email, normalise_email
from app.services.accounts.passwords import _new_link, check_password_policy, hash_password
from app.services.accounts.sessions import revoke_all_sessions
from app.services.errors import NotFound, ValidationFailed
from app.services.mail import queue_mail
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.runtime import setting

# One address: no spaces, control characters or separators a mail header would read as
# two; at most 64 characters before the @ and 254 in all (RFC 5321 4.5.3.1).
_ADDRESS_PART = r"[^@\s<>\"(),;:\[\]\\\x00-\x1f\x7f]"
EMAIL_RE = re.compile(
    rf"^(?=.{{3,254}}$)(?={_ADDRESS_PART}{{1,64}}@){_ADDRESS_PART}+@{_ADDRESS_PART}+\.{_ADDRESS_PART}+$"
)


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    client_id: str | None = None,
    password: str | None = None,
    locale: str = "es",
    invitation_template: str = "invitation",
    invitation_context: dict[str, Any] | None = None,
) -> User:
    """Create a user; ``actor`` None means the command line. Without a password an invitation is sent."""
    errors: dict[str, str] = {}
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        errors["email"] = _("Introduzca un e-mail válido.")
    elif find_user_by_email(email):
        errors["email"] = _("Ya existe un usuario con este e-mail.")
    if not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    if role not in {r.value for r in Role}:
        errors["role"] = _("El rol debe ser admin, staff o client.")
    if role == Role.client:
        if not client_id:
            errors["client_id"] = _("Un usuario cliente necesita un cliente.")
        elif db.session.get(Client, str(client_id)) is None:
            errors["client_id"] = _("Ese cliente no existe.")
    elif client_id:
        client_id = None
    if password:
        try:
            check_password_policy(password)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if locale not in ("es", "en"):
        locale = "es"
    if errors:
        raise ValidationFailed(errors)
    if actor is not None:
        if role == Role.client:
            require_staff(actor)
            get_client(actor, client_id or "")
        else:
            require_admin(actor)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        client_id=client_id if role == Role.client else None,
        password_hash=hash_password(password) if password else None,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", actor, f"user:{user.id}", role=role, client_id=user.client_id)
    if not password:
        token = _new_link(user, "invite", timedelta(days=int(setting("INVITATION_DAYS"))))
        queue_mail(
            [user.email],
            invitation_template,
            locale=user.locale,
            user=user,
            inviter=actor,
            link=f"{setting('BASE_URL')}/invitation/{token}",
            days=int(setting("INVITATION_DAYS")),
            **(invitation_context or {}),
        )
    return user


def set_locale(user: User, locale: str) -> None:
    if locale in ("es", "en"):
        user.locale = locale


def list_users(actor: User, page: PageArgs | None = None) -> Page[User]:
    """Every person, by role then name, with their client read in the same round trip."""
    require_staff(actor)
    query = select(User).options(joinedload(User.client))
    order = (Key(User.role), Key(User.name), Key(User.id))
    return keyset(query, order, page, scope="users")


def set_active(actor: User, user_id: str, active: bool) -> User:
    require_admin(actor)
    user = db.session.get(User, str(user_id))
    if user is None:
        raise NotFound()
    user.active = active
    if not active:
        revoke_all_sessions(user)
    audit.record("user_activated" if active else "user_deactivated", actor, f"user:{user.id}")
    return user
