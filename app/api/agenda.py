"""What waits for the caller (docs/api.md, "Campaigns and the agenda")."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp, caller
from app.api.relationship_schemas import AgendaSchema
from app.services import agenda
from app.services.paging import page_args


@api_bp.get("/me/agenda")
def my_agenda() -> Response:
    found = agenda.agenda_for(caller(), page=page_args(request.args))
    return jsonify(
        AgendaSchema().dump(
            {
                "items": found.items,
                "next": found.next,
                "counts": found.counts,
                "new_since_last_visit": {
                    "since": found.since,
                    "documents": found.new_documents,
                    "messages": found.new_messages,
                },
            }
        )
    )
