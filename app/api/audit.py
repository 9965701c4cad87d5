"""The audit trail (admins)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request

from app.api import api_bp, caller
from app.api.schemas import AuditEventSchema, AuditVerifySchema, dump_page
from app.services import audit
from app.services.access import require_admin
from app.services.errors import ValidationFailed
from app.services.paging import page_args


@api_bp.get("/audit")
def list_audit() -> Response:
    require_admin(caller())
    since = None
    if request.args.get("since"):
        try:
            since = datetime.fromisoformat(request.args["since"].replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed({"since": "Use an ISO 8601 time."}) from None
    events = audit.list_events(
        target=request.args.get("target"),
        actor=request.args.get("actor"),
        since=since,
        page=page_args(request.args),
    )
    return jsonify(dump_page(AuditEventSchema, events, events.next))


@api_bp.get("/audit/verify")
def verify_audit() -> Response:
    require_admin(caller())
    result = audit.verify_chain()
    return jsonify(AuditVerifySchema().dump(result))
