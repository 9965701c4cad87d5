"""Signature requests, signing, validation reports and evidence (docs/api.md, "Signing and validation")."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from app.api import api_bp, body, caller
from app.api.schemas import (
    CodeSentSchema,
    JobSchema,
    SignatureRequestSchema,
    SigningAcceptedSchema,
    ValidationReportSchema,
    dump_page,
)
from app.extensions import limiter
from app.httputil import content_disposition
from app.services import signature_evidence, signatures
from app.services.access import get_document as load_document
from app.services.errors import ValidationFailed
from app.services.paging import page_args
from app.unit_of_work import commit_now, keep_on_error

_SIGN_LIMIT = "20 per minute"


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


@api_bp.post("/documents/<document_id>/signature-requests")
def create_signature_request(document_id: str) -> tuple[Response, int]:
    data = body()
    raw_signers = data.get("signers")
    if isinstance(raw_signers, str):  # multipart: a comma-separated list of user ids
        raw_signers = [{"user_id": part} for part in raw_signers.split(",")]
    if raw_signers is not None and not isinstance(raw_signers, list):
        raise ValidationFailed({"signers": "Envíe una lista [{user_id}] en orden de firma."})
    signer_ids = [
        str(entry.get("user_id") or "") if isinstance(entry, dict) else str(entry)
        for entry in raw_signers or []
    ]
    stamp: dict[str, Any] = data["stamp"] if isinstance(data.get("stamp"), dict) else {}
    created = signatures.request_signatures(
        caller(),
        document_id,
        signer_ids=signer_ids,
        level=data.get("level"),
        certify=_flag(data.get("certify")),
        due_date=data.get("due_date"),
        message=data.get("message"),
        any_order=_flag(data.get("any_order")),
        stamp_page=stamp.get("page", data.get("stamp_page")),
        stamp_position=stamp.get("position", data.get("stamp_position")),
    )
    return jsonify(SignatureRequestSchema().dump(created)), 201


@api_bp.get("/documents/<document_id>/signature-requests")
def list_signature_requests(document_id: str) -> Response:
    found = signatures.list_requests(caller(), document_id, page_args(request.args))
    return jsonify(dump_page(SignatureRequestSchema, found, found.next))


@api_bp.get("/signature-requests/<request_id>")
def get_signature_request(request_id: str) -> Response:
    return jsonify(SignatureRequestSchema().dump(signatures.get_request(caller(), request_id)))


@api_bp.post("/signature-requests/<request_id>/email-code")
@limiter.limit(_SIGN_LIMIT)
def email_signature_code(request_id: str) -> tuple[Response, int]:
    code = signatures.send_signature_code(caller(), request_id)
    return jsonify(CodeSentSchema().dump({"sent": True, "expires_at": code.expires_at})), 202


@api_bp.post("/signature-requests/<request_id>/sign")
@limiter.limit(_SIGN_LIMIT)
def sign_signature_request(request_id: str) -> tuple[Response, int]:
    data = body()
    upload = request.files.get("pkcs12")
    pkcs12 = upload.stream.read(signatures.MAX_PKCS12_SIZE + 1) if upload is not None else None
    try:
        signer = signatures.sign(
            caller(),
            request_id,
            str(data.get("otp") or ""),
            pkcs12=pkcs12,
            password=data.get("password"),
            method=data.get("method"),
        )
    except signatures.SecondFactorRejected:
        keep_on_error()  # the failed attempt counts against the code
        raise
    signer_id = signer.id
    commit_now()  # the signing job goes out with it (and has run where jobs run inline)
    signer = signatures.signer_after_job(signer_id)
    if signer.method == "pkcs12":
        return jsonify(SignatureRequestSchema().dump(signer.request)), 200
    accepted = {"job": signer, "request": signer.request}
    return jsonify(SigningAcceptedSchema().dump(accepted)), 202


@api_bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    return jsonify(JobSchema().dump(signatures.get_job(caller(), job_id)))


@api_bp.post("/signature-requests/<request_id>/decline")
def decline_signature_request(request_id: str) -> Response:
    declined = signatures.decline(caller(), request_id, body().get("reason"))
    return jsonify(SignatureRequestSchema().dump(declined))


@api_bp.post("/signature-requests/<request_id>/cancel")
def cancel_signature_request(request_id: str) -> Response:
    cancelled = signatures.cancel_request(caller(), request_id)
    return jsonify(SignatureRequestSchema().dump(cancelled))


@api_bp.get("/signature-requests/<request_id>/evidence")
def evidence_zip(request_id: str) -> Response:
    filename, archive = signature_evidence.evidence_package(caller(), request_id)
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@api_bp.post("/validate")
def validate_upload() -> Response:
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": "Adjunte un PDF en el campo 'file'."})
    report = signature_evidence.validate_upload(caller(), upload.stream)
    return jsonify(ValidationReportSchema().dump(report))


@api_bp.get("/documents/<document_id>/versions/<int:number>/validation")
def validate_version(document_id: str, number: int) -> Response:
    load_document(caller(), document_id)
    report = signature_evidence.validate_version(caller(), document_id, number)
    return jsonify(ValidationReportSchema().dump(report))
