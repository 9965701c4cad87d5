"""Portal-wide settings that an administrator changes from the UI."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import Setting, User
from app.services import audit
from app.services.access import require_admin

DEFAULTS: dict[str, Any] = {
    "require_mfa_for_staff": False,
    # clients (and new clients from an invitation) enrol TOTP before going any further
    "require_mfa_for_clients": False,
    # onboarding: a second staff member approves each identity (four eyes)
    "onboarding_four_eyes": False,
    # an onboarding waiting this many days: remind the person, tell its owner, let it expire
    "onboarding_remind_days": 3,
    "onboarding_escalate_days": 7,
    "onboarding_expire_days": 30,
    # an incident not resolved within these hours (by priority) goes to the alert engine
    "incident_due_hours": {"low": 120, "normal": 48, "high": 8, "urgent": 2},
    # kinds of file accepted, recognised from their content (app/services/file_types.py)
    "upload_allowed_types": [
        *("pdf", "jpg", "png", "gif", "webp", "heic", "avif", "tif", "bmp"),
        *("doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf"),
        *("zip", "dwg", "dxf", "mp4", "mov", "m4v", "txt", "csv"),
    ],
}


def get_setting(key: str) -> Any:
    row = db.session.get(Setting, key)
    if row is None:
        return DEFAULTS[key]
    return row.value.get("value", DEFAULTS[key])


def update_setting(actor: User, key: str, value: Any) -> None:
    require_admin(actor)
    if key not in DEFAULTS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value={"value": value})
        db.session.add(row)
    else:
        row.value = {"value": value}
    db.session.flush()
    audit.record("setting_changed", actor, f"setting:{key}", value=value)
