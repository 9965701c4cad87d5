"""Invitations and self-activation: the catalogue, onboardings, identity, approval."""

from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request

from app.api import PUBLIC, api_bp, body, caller
from app.api.relationship_schemas import OnboardingSchema, ServiceSchema
from app.api.schemas import TokenSchema, dump_page
from app.extensions import limiter
from app.services import catalogue, onboarding
from app.services.accounts import second_factor_missing
from app.services.errors import ValidationFailed
from app.services.paging import page_args


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config["RATELIMIT_LOGIN"])


@api_bp.post("/auth/invitation")
@limiter.limit(_login_limit)
def accept_invitation() -> Response:
    data = body()
    user, token, expires = onboarding.accept_invitation(data.get("token"), data.get("password"))
    answer = {"token": token, "expires_at": expires, "user": user}
    if second_factor_missing(user):  # the token serves only to enrol it (app/api/__init__.py)
        answer["mfa_enrolment_required"] = True
    return jsonify(TokenSchema().dump(answer))


PUBLIC.add("api.accept_invitation")


@api_bp.get("/catalog")
def list_catalog() -> Response:
    found = catalogue.list_services(caller(), page_args(request.args))
    return jsonify(dump_page(ServiceSchema, found, found.next))


@api_bp.post("/catalog")
def create_service() -> tuple[Response, int]:
    data = body()
    service = catalogue.create_service(
        caller(),
        key=data.get("key"),
        name=data.get("name"),
        description=data.get("description"),
        space_kind=data.get("space_kind"),
        space_name=data.get("space_name"),
        request_template=data.get("request_template"),
        engagement_template=data.get("engagement_template"),
        fees=data.get("fees"),
    )
    return jsonify(ServiceSchema().dump(service)), 201


@api_bp.post("/catalog/<key>/subscribe")
def subscribe(key: str) -> tuple[Response, int]:
    item = onboarding.subscribe(caller(), key, today=date.today())
    return jsonify(OnboardingSchema().dump(item)), 201


@api_bp.post("/onboardings")
def start_onboarding() -> tuple[Response, int]:
    data = body()
    item = onboarding.start_onboarding(
        caller(),
        email=data.get("email"),
        name=data.get("name"),
        kind=data.get("kind"),
        services=data.get("services"),
        client_name=data.get("client_name"),
        tax_id=data.get("tax_id"),
    )
    return jsonify(OnboardingSchema().dump(item)), 201


@api_bp.get("/onboardings")
def list_onboardings() -> Response:
    found = onboarding.list_onboardings(
        caller(), status=request.args.get("status") or None, page=page_args(request.args)
    )
    return jsonify(dump_page(OnboardingSchema, found, found.next))


@api_bp.get("/onboardings/<onboarding_id>")
def get_onboarding(onboarding_id: str) -> Response:
    return jsonify(OnboardingSchema().dump(onboarding.get_onboarding(caller(), onboarding_id)))


def _file(name: str) -> onboarding.IdentityFile | None:
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    return onboarding.IdentityFile(upload.stream, upload.filename)


@api_bp.post("/onboardings/<onboarding_id>/identity")
def submit_identity(onboarding_id: str) -> tuple[Response, int]:
    onboarding.get_onboarding(caller(), onboarding_id)  # 404 before anything is read
    if not request.files:
        raise ValidationFailed({"front": "Envíe la foto o el PDF del documento (campo front)."})
    item = onboarding.submit_identity(
        caller(), onboarding_id, front=_file("front"), back=_file("back"), today=date.today()
    )
    return jsonify(OnboardingSchema().dump(item)), 201


@api_bp.post("/onboardings/<onboarding_id>/identity/confirm")
def confirm_identity(onboarding_id: str) -> Response:
    data = body()
    item = onboarding.confirm_identity(
        caller(), onboarding_id, fields=data.get("fields"), today=date.today()
    )
    return jsonify(OnboardingSchema().dump(item))


@api_bp.post("/onboardings/<onboarding_id>/approve")
def approve(onboarding_id: str) -> Response:
    data = body()
    item = onboarding.approve(
        caller(), onboarding_id, fields=data.get("fields"), today=date.today()
    )
    return jsonify(OnboardingSchema().dump(item))


@api_bp.post("/onboardings/<onboarding_id>/reject")
def reject(onboarding_id: str) -> Response:
    item = onboarding.reject(caller(), onboarding_id, reason=body().get("reason"))
    return jsonify(OnboardingSchema().dump(item))
