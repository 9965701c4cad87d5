"""Persistence: SQLAlchemy 2 models."""

from app.models.audit import AuditEvent
from app.models.client import (
    PERMISSION_RANK,
    Client,
    ClientKind,
    Folder,
    Permission,
    Space,
    SpaceKind,
    SpaceMember,
)
from app.models.document import Document, DocumentVersion, VersionSource, Visibility
from app.models.mail import OutboxMail
from app.models.user import (
    AccountToken,
    ApiToken,
    LoginThrottle,
    Role,
    Setting,
    User,
    UserSession,
)

__all__ = [
    "PERMISSION_RANK",
    "AccountToken",
    "ApiToken",
    "AuditEvent",
    "Client",
    "ClientKind",
    "Document",
    "DocumentVersion",
    "Folder",
    "LoginThrottle",
    "OutboxMail",
    "Permission",
    "Role",
    "Setting",
    "Space",
    "SpaceKind",
    "SpaceMember",
    "User",
    "UserSession",
    "VersionSource",
    "Visibility",
]
