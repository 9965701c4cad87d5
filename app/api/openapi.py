"""The machine-readable description of the API (OpenAPI 3.1), served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api import api_bp

_obj = {"type": "object"}
_list = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": _obj}, "next": {"type": ["string", "null"]}},
    "required": ["items", "next"],
}
_file = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    }
}

USER = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "role": {"enum": ["admin", "staff", "client"]},
        "client_id": {"type": ["string", "null"]},
        "mfa_enabled": {"type": "boolean"},
    },
}
VERSION = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "uploaded_by": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "note": {"type": ["string", "null"]},
        "source": {"enum": ["upload", "restore", "signature"]},
        "review_state": {"type": "string"},
    },
}
DOCUMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "space_id": {"type": "string"},
        "title": {"type": "string"},
        "category": {"type": ["string", "null"]},
        "visibility": {"enum": ["shared", "internal"]},
        "current_version": {"$ref": "#/components/schemas/Version"},
    },
}

# (method, path, summary, request body, success status, success schema)
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, str, dict[str, Any] | None]] = [
    (
        "post",
        "/auth/token",
        "Issue a bearer token",
        {"email": "string", "password": "string", "otp": "string"},
        "200",
        _obj,
    ),
    ("delete", "/auth/token", "Revoke the bearer token", None, "204", None),
    ("get", "/me", "The caller", None, "200", {"$ref": "#/components/schemas/User"}),
    ("post", "/me/mfa/totp", "Start TOTP enrolment", None, "200", _obj),
    ("post", "/me/mfa/totp/confirm", "Confirm TOTP enrolment", {"otp": "string"}, "200", _obj),
    (
        "post",
        "/clients",
        "Create a client",
        {"name": "string", "tax_id": "string", "kind": "string"},
        "201",
        _obj,
    ),
    ("get", "/clients", "Clients the caller may see", None, "200", _list),
    (
        "post",
        "/users",
        "Create a user (admin)",
        {
            "email": "string",
            "name": "string",
            "role": "string",
            "client_id": "string",
            "password": "string",
        },
        "201",
        {"$ref": "#/components/schemas/User"},
    ),
    (
        "post",
        "/clients/{id}/spaces",
        "Create a space",
        {"name": "string", "kind": "string"},
        "201",
        _obj,
    ),
    ("get", "/clients/{id}/spaces", "Spaces the caller may see", None, "200", _list),
    ("get", "/spaces/{id}", "A space", None, "200", _obj),
    ("patch", "/spaces/{id}", "Rename a space, choose review labels and SLA (managers)", {"name": "string", "label_scheme": "string", "review_sla": "object"}, "200", _obj),
    (
        "post",
        "/spaces/{id}/members",
        "Add or change a member",
        {"user_id": "string", "permission": "string"},
        "201",
        _obj,
    ),
    (
        "post",
        "/spaces/{id}/documents",
        "Upload a new document",
        _file,
        "201",
        {"$ref": "#/components/schemas/Document"},
    ),
    ("get", "/spaces/{id}/documents", "Documents the caller may see", None, "200", _list),
    (
        "get",
        "/documents/{id}",
        "A document",
        None,
        "200",
        {"$ref": "#/components/schemas/Document"},
    ),
    (
        "patch",
        "/documents/{id}",
        "Rename a document (staff); search finds it by its new title only",
        {"title": "string"},
        "200",
        {"$ref": "#/components/schemas/Document"},
    ),
    ("delete", "/documents/{id}", "Soft-delete a document (staff)", None, "204", None),
    (
        "post",
        "/documents/{id}/versions",
        "Upload a new version",
        _file,
        "201",
        {"$ref": "#/components/schemas/Version"},
    ),
    ("get", "/documents/{id}/versions", "Versions, newest first", None, "200", _list),
    (
        "get",
        "/documents/{id}/versions/{n}",
        "One version",
        None,
        "200",
        {"$ref": "#/components/schemas/Version"},
    ),
    (
        "get",
        "/documents/{id}/versions/{n}/content",
        "The bytes of a version (Range honoured, ETag = sha256); with a MinIO store, a 303 "
        "to a short-lived presigned URL (send Range there); 500 when the stored bytes no "
        "longer match the sha256",
        None,
        "200",
        None,
    ),
    (
        "post",
        "/documents/{id}/versions/{n}/restore",
        "Restore a version as a new version",
        None,
        "201",
        {"$ref": "#/components/schemas/Version"},
    ),
    (
        "post",
        "/documents/{id}/review",
        "Check, validate or request changes",
        {"action": "string", "comment": "string", "label": "string"},
        "200",
        _obj,
    ),
    (
        "get",
        "/documents/{id}/review",
        "Review state and history of the current version",
        None,
        "200",
        _obj,
    ),
    (
        "post",
        "/documents/{id}/comments",
        "Comment, optionally pinned to a page point",
        {"body": "string", "version": "integer", "page": "integer", "x": "number", "y": "number"},
        "201",
        _obj,
    ),
    ("get", "/documents/{id}/comments", "Comments of a document", None, "200", _list),
    ("post", "/comments/{id}/resolve", "Resolve a comment", None, "200", _obj),
    ("get", "/alerts", "Open alerts for the caller", None, "200", _list),
    ("post", "/spaces/{id}/requests", "Ask a client for documents (items or a template)", {"title": "string", "due_date": "string", "items": "array", "template": "string", "reminders": "object", "recurrence": "string"}, "201", _obj),
    ("get", "/spaces/{id}/requests", "Document requests of a space", None, "200", _list),
    ("get", "/requests/{id}", "A request with items and progress", None, "200", _obj),
    ("get", "/request-templates", "Checklist templates", None, "200", _list),
    ("post", "/request-items/{id}/upload", "Upload a file for an item", _file, "201", _obj),
    ("post", "/request-items/{id}/not-applicable", "Mark an item not applicable", {"reason": "string"}, "200", _obj),
    ("post", "/request-items/{id}/review", "Accept, reject or reopen an item (staff)", {"action": "string", "comment": "string"}, "200", _obj),
    ("get", "/notifications", "The caller's notifications", None, "200", _list),
    ("post", "/notifications/read", "Mark every notification read", None, "204", None),
    (
        "post",
        "/spaces/{id}/transmittals",
        "Send versions for review",
        {
            "document_ids": "array",
            "recipient_ids": "array",
            "due_date": "string",
            "message": "string",
        },
        "201",
        _obj,
    ),
    (
        "get",
        "/transmittals/{id}",
        "A transmittal with who opened and downloaded what",
        None,
        "200",
        _obj,
    ),
    (
        "post",
        "/documents/{id}/signature-requests",
        "Ask people to sign the current PDF version, in order (staff)",
        {
            "signers": "array",
            "level": "string",
            "certify": "boolean",
            "any_order": "boolean",
            "due_date": "string",
            "message": "string",
            "stamp": "object",
        },
        "201",
        _obj,
    ),
    ("get", "/documents/{id}/signature-requests", "Signature requests of a document", None, "200", _list),
    ("get", "/signature-requests/{id}", "A signature request and its signers", None, "200", _obj),
    (
        "post",
        "/signature-requests/{id}/email-code",
        "E-mail a one-time signing code (signers without TOTP)",
        None,
        "202",
        _obj,
    ),
    (
        "post",
        "/signature-requests/{id}/sign",
        "Sign with a fresh second factor: 202 with the signing job, or 200 when signed now "
        "with an uploaded PKCS#12 (never stored); 409 when it is not the caller's turn",
        {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"otp": {"type": "string"}, "method": {"type": "string"}},
                        "required": ["otp"],
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "otp": {"type": "string"},
                            "pkcs12": {"type": "string", "format": "binary"},
                            "password": {"type": "string"},
                        },
                        "required": ["otp"],
                    }
                },
            }
        },
        "202",
        _obj,
    ),
    ("get", "/jobs/{id}", "A signing job: status queued|running|done|failed", None, "200", _obj),
    (
        "post",
        "/signature-requests/{id}/decline",
        "Decline to sign, with a reason",
        {"reason": "string"},
        "200",
        _obj,
    ),
    ("post", "/signature-requests/{id}/cancel", "Cancel an open request (staff)", None, "200", _obj),
    (
        "get",
        "/signature-requests/{id}/evidence",
        "Evidence ZIP: signed PDF, validation report (JSON and PDF), audit trail, hashes",
        None,
        "200",
        None,
    ),
    ("post", "/validate", "Validation report of an uploaded PDF", _file, "200", _obj),
    (
        "get",
        "/documents/{id}/versions/{n}/validation",
        "Validation report of a stored version",
        None,
        "200",
        _obj,
    ),
    (
        "post",
        "/uploads/",
        "tus 1.0 creation: Upload-Length (or Upload-Defer-Length: 1), Upload-Metadata with "
        "space_id or document_id, filename, visibility, title?, note?; 201 with Location and "
        "Upload-Expires; 413 over the size limit or the client's quota. OPTIONS here answers "
        "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm",
        None,
        "201",
        None,
    ),
    (
        "patch",
        "/uploads/{id}",
        "tus 1.0 PATCH (Upload-Offset, optional Upload-Checksum sha1|sha256): 204 with the new "
        "Upload-Offset; the last one answers Portal-Document-Id and Portal-Version, the upload "
        "being then a document or version; 409 offset, 410 expired, 415 file type, 460 "
        "checksum, 507 storage full. HEAD on the same path answers Upload-Offset",
        {"content": {"application/offset+octet-stream": {"schema": {"type": "string"}}}},
        "204",
        None,
    ),
    ("delete", "/uploads/{id}", "tus termination: drop an unfinished upload", None, "204", None),
    # issue 6: OCR, forms and search
    ("get", "/documents/{id}/versions/{n}/text", "OCR status and text of each page", None, "200", _obj),
    ("get", "/form-templates", "Form templates with their fields", None, "200", _list),
    (
        "post",
        "/spaces/{id}/forms",
        "Fill a form from a document: 201 with fields, or 202 with the OCR job",
        {"template": "string", "document_id": "string"},
        "201",
        _obj,
    ),
    ("get", "/forms/{id}", "A form with each field's value, confidence, page and box", None, "200", _obj),
    ("patch", "/forms/{id}", "Correct fields and confirm", {"fields": "object", "confirm": "boolean"}, "200", _obj),
    ("get", "/forms/{id}/export", "Confirmed data as CSV or JSON (?format=csv|json)", None, "200", _obj),
    ("get", "/search", "Documents the caller may see whose title or text match q, with snippets", None, "200", _obj),
    ("get", "/audit", "Audit events (admin)", None, "200", _list),
    ("get", "/audit/verify", "Check the audit hash chain (admin)", None, "200", _obj),
    ("get", "/openapi.json", "This description", None, "200", _obj),
]


def _operation(
    method: str, path: str, summary: str, request_body: Any, status: str, schema: Any
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {}}
    params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
    if params:
        operation["parameters"] = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if p == "n" else "string"},
            }
            for p in params
        ]
    if request_body is not None:
        if "content" in request_body:
            operation["requestBody"] = request_body
        else:
            operation["requestBody"] = {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {k: {"type": v} for k, v in request_body.items()},
                        }
                    }
                }
            }
    success: dict[str, Any] = {"description": "OK"}
    if schema is not None:
        success["content"] = {"application/json": {"schema": schema}}
    operation["responses"][status] = success
    for code, text in (
        ("401", "Not authenticated"),
        ("403", "Not allowed"),
        ("404", "Not found"),
        ("422", "Invalid fields"),
    ):
        operation["responses"][code] = {
            "description": text,
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    if path == "/auth/token" or path == "/openapi.json":
        operation["security"] = []
    return operation


def build_spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, request_body, status, schema in ROUTES:
        paths.setdefault("/api/v1" + path, {})[method] = _operation(
            method, path, summary, request_body, status, schema
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Portal API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "User": USER,
                "Version": VERSION,
                "Document": DOCUMENT,
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {"type": "object"},
                    },
                },
            },
        },
        "security": [{"bearer": []}],
    }


@api_bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())
