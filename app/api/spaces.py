"""Spaces and members."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import MemberSchema, SpaceSchema, dump_page
from app.services import clients
from app.services.access import get_space as load_space
from app.services.paging import page_args


@api_bp.post("/clients/<client_id>/spaces")
def create_space(client_id: str) -> tuple[Response, int]:
    data = body()
    space = clients.create_space(
        caller(),
        client_id,
        name=data.get("name"),
        kind=str(data.get("kind") or "general"),
    )
    return jsonify(SpaceSchema().dump(space)), 201


@api_bp.get("/clients/<client_id>/spaces")
def list_spaces(client_id: str) -> Response:
    found = clients.list_spaces(caller(), client_id, page_args(request.args))
    return jsonify(dump_page(SpaceSchema, found, found.next))


@api_bp.get("/spaces/<space_id>")
def get_space(space_id: str) -> Response:
    return jsonify(SpaceSchema().dump(load_space(caller(), space_id)))


@api_bp.patch("/spaces/<space_id>")
def update_space(space_id: str) -> Response:
    data = body()
    space = clients.update_space(
        caller(),
        space_id,
        name=data.get("name"),
        label_scheme=data.get("label_scheme"),
        review_sla=data.get("review_sla"),
    )
    return jsonify(SpaceSchema().dump(space))


@api_bp.post("/spaces/<space_id>/members")
def add_member(space_id: str) -> tuple[Response, int]:
    data = body()
    member = clients.add_member(
        caller(),
        space_id,
        user_id=str(data.get("user_id") or ""),
        permission=str(data.get("permission") or ""),
    )
    return jsonify(MemberSchema().dump(member)), 201
