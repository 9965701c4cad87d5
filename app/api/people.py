"""Clients and users."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import ClientSchema, UserSchema, dump_page
from app.services import accounts, campaigns, clients
from app.services.access import require_admin
from app.services.paging import page_args


@api_bp.post("/clients")
def create_client() -> tuple[Response, int]:
    data = body()
    client = clients.create_client(
        caller(),
        name=data.get("name"),
        tax_id=data.get("tax_id"),
        kind=str(data.get("kind") or "company"),
    )
    return jsonify(ClientSchema().dump(client)), 201


@api_bp.get("/clients")
def list_clients() -> Response:
    tag, kind = request.args.get("tag") or None, request.args.get("kind") or None
    if tag or kind:
        found = campaigns.filter_clients(caller(), tag=tag, kind=kind, page=page_args(request.args))
    else:
        found = clients.list_clients(caller(), page_args(request.args))
    return jsonify(dump_page(ClientSchema, found, found.next))


@api_bp.post("/users")
def create_user() -> tuple[Response, int]:
    require_admin(caller())
    data = body()
    user = accounts.create_user(
        caller(),
        email=str(data.get("email") or ""),
        name=str(data.get("name") or ""),
        role=str(data.get("role") or ""),
        client_id=data.get("client_id"),
        password=data.get("password") or None,
        locale=str(data.get("locale") or "es"),
    )
    return jsonify(UserSchema().dump(user)), 201
