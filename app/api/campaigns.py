"""Campaigns and client tags (docs/api.md, "Campaigns and the agenda")."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _

from app.api import api_bp, body, caller
from app.api.relationship_schemas import CampaignSchema, RemindedSchema, TagsSchema
from app.services import campaign_board, campaigns
from app.services.errors import ValidationFailed


def campaign_view(campaign_id: str) -> dict[str, Any]:
    campaign, rows = campaign_board.board(caller(), campaign_id, today=date.today())
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "due_date": campaign.due_date,
        "space_kind": campaign.space_kind,
        "space_name": campaign.space_name,
        "totals": campaign_board.totals(rows),
        "notices": campaign.notices or [],
        "clients": [
            {
                "client_id": r.client_id,
                "client_name": r.client_name,
                "request_id": r.request_id,
                "status": r.status,
                "progress": {
                    "pending": r.pending,
                    "submitted": r.submitted,
                    "accepted": r.accepted,
                    "not_applicable": r.not_applicable,
                    "total": r.total,
                },
                "missing": r.missing,
                "signature_request_id": r.signature_request_id,
                "signed": r.is_signed if r.signature_request_id else None,
                "error": r.error,
            }
            for r in rows
        ],
    }


@api_bp.post("/campaigns")
def create_campaign() -> tuple[Response, int]:
    data = body()
    if not request.is_json:
        # a multipart form (with the CSV of tax ids or the ZIP of PDFs): lists and objects
        # come as JSON text
        data = {k: _json_field(k, v) for k, v in data.items()}
    csv_file = request.files.get("clients_csv")
    zip_file = request.files.get("documents_zip")
    campaign = campaigns.create_campaign(
        caller(),
        name=data.get("name"),
        kind=data.get("kind") or "request",
        template=data.get("template") or None,
        items=data.get("items") or None,
        due_date=data.get("due_date"),
        client_ids=data.get("clients"),
        client_filter=data.get("client_filter"),
        tax_ids=data.get("tax_ids"),
        clients_csv=csv_file.stream if csv_file else None,
        documents_zip=zip_file.stream if zip_file else None,
        space_kind=data.get("space_kind"),
        space_name=data.get("space_name"),
        today=date.today(),
    )
    return jsonify(CampaignSchema().dump(campaign_view(campaign.id))), 202


def _json_field(name: str, value: str) -> Any:
    if name in ("items", "clients", "client_filter", "tax_ids") and value.strip()[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationFailed({name: _("No es JSON válido.")}) from None
    return value


@api_bp.post("/campaigns/<campaign_id>/close")
def close_campaign(campaign_id: str) -> Response:
    campaigns.close(caller(), campaign_id, body().get("client_ids"))
    return jsonify(CampaignSchema().dump(campaign_view(campaign_id)))


@api_bp.post("/campaigns/<campaign_id>/retry")
def retry_campaign_clients(campaign_id: str) -> Response:
    campaigns.retry(caller(), campaign_id, body().get("client_ids"))
    return jsonify(CampaignSchema().dump(campaign_view(campaign_id)))


@api_bp.post("/campaigns/<campaign_id>/remove")
def remove_campaign_clients(campaign_id: str) -> Response:
    campaigns.remove_clients(caller(), campaign_id, body().get("client_ids"))
    return jsonify(CampaignSchema().dump(campaign_view(campaign_id)))


@api_bp.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> Response:
    return jsonify(CampaignSchema().dump(campaign_view(campaign_id)))


@api_bp.post("/campaigns/<campaign_id>/remind")
def remind_campaign(campaign_id: str) -> Response:
    sent = campaign_board.remind(caller(), campaign_id, today=date.today())
    return jsonify(RemindedSchema().dump({"reminded": sent}))


@api_bp.get("/campaigns/<campaign_id>/export")
def export_campaign(campaign_id: str) -> Response:
    data, media_type, filename = campaign_board.export(
        caller(), campaign_id, today=date.today(), kind=request.args.get("format", "csv")
    )
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@api_bp.post("/clients/<client_id>/tags")
def set_tags(client_id: str) -> Response:
    tags = campaigns.set_tags(caller(), client_id, body().get("tags"))
    return jsonify(TagsSchema().dump({"tags": tags}))
