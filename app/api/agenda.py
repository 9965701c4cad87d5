"""What waits for the caller (docs/api.md, "Campaigns and the agenda")."""

from __future__ import annotations

from flask import Response, jsonify

from app.api import api_bp, caller
from app.api.relationship_schemas import AgendaSchema
from app.services import agenda


@api_bp.get("/me/agenda")
def my_agenda() -> Response:
    found = agenda.agenda_for(caller())
    return jsonify(
        AgendaSchema().dump(
            {
                "items": found.items,
                "counts": found.counts,
                "new_since_last_visit": {
                    "since": found.since,
                    "documents": found.new_documents,
                    "messages": found.new_messages,
                },
            }
        )
    )
