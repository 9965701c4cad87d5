"""The machine-readable description of the API (OpenAPI 3.1), served at /api/v1/openapi.json.

Built with apispec from the marshmallow schemas the views answer with (app/api/schemas.py):
this module only says which route takes and answers which schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, jsonify
from marshmallow import Schema

from app.api import api_bp
from app.api import relationship_schemas as r
from app.api import schemas as s

OPENAPI_VERSION = "3.1.0"
PREFIX = "/api/v1"

#: Answers every authenticated operation may give (docs/api.md "Conventions").
COMMON_ERRORS = {
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found",
    "422": "Invalid fields",
}
ERROR_TEXT = {
    "400": "Bad request",
    "409": "Not allowed in the current state",
    "410": "Gone",
    "412": "Tus-Resumable missing or not 1.0.0 (no body; Tus-Version says which)",
    "413": "Too large",
    "415": "File type not accepted",
    "423": "Busy",
    "429": "Too many attempts",
    "460": "Checksum mismatch",
    "500": "The stored bytes no longer match their sha256",
    "503": "Storage unavailable",
    "507": "Storage full",
}

Answer = type[Schema] | dict[str, Any] | None
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


@dataclass(frozen=True)
class Route:
    """One operation: what it takes and what it answers, by status."""

    method: str
    path: str
    summary: str
    answers: dict[str, Answer]
    body: type[Schema] | None = None
    #: Media type of the body: JSON, or a multipart form (files).
    form: bool = False
    errors: tuple[str, ...] = ()
    query: dict[str, str] = field(default_factory=dict)
    public: bool = False


def _json(schema: type[Schema]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


#: The query of every list ({items, next}): added to each route that answers a page.
_LIST = {
    "cursor": "The `next` of the previous page (opaque; 422 when altered)",
    "limit": "Page size: 1 to 500, default 50 (422 outside)",
}

ROUTES: list[Route] = [
    Route(
        "post",
        "/auth/token",
        "Issue a bearer token; 401 with mfa_required when a second factor is needed, 403 with "
        "mfa_enrolment_required when the firm requires one the person has not enrolled yet",
        {"200": s.TokenSchema},
        s.TokenRequestSchema,
        errors=("429",),
        public=True,
    ),
    Route("delete", "/auth/token", "Revoke the bearer token", {"204": None}),
    Route("get", "/me", "The caller", {"200": s.UserSchema}),
    Route("post", "/me/mfa/totp", "Start TOTP enrolment", {"200": s.TotpStartSchema}),
    Route(
        "post",
        "/me/mfa/totp/confirm",
        "Confirm TOTP enrolment",
        {"200": s.RecoveryCodesSchema},
        s.OtpSchema,
        errors=("409",),
    ),
    Route("post", "/clients", "Create a client", {"201": s.ClientSchema}, s.NewClientSchema),
    Route(
        "get",
        "/clients",
        "Clients the caller may see",
        {"200": s.page_of(s.ClientSchema)},
        query={"tag": "Only clients with this tag", "kind": "person or company"},
    ),
    Route("post", "/users", "Create a user (admin)", {"201": s.UserSchema}, s.NewUserSchema),
    Route(
        "post",
        "/clients/{id}/spaces",
        "Create a space",
        {"201": s.SpaceSchema},
        s.NewSpaceSchema,
    ),
    Route(
        "get",
        "/clients/{id}/spaces",
        "Spaces the caller may see",
        {"200": s.page_of(s.SpaceSchema)},
    ),
    Route("get", "/spaces/{id}", "A space", {"200": s.SpaceSchema}),
    Route(
        "patch",
        "/spaces/{id}",
        "Rename a space, choose review labels and SLA (managers)",
        {"200": s.SpaceSchema},
        s.SpaceChangesSchema,
    ),
    Route(
        "post",
        "/spaces/{id}/members",
        "Add or change a member",
        {"201": s.MemberSchema},
        s.NewMemberSchema,
    ),
    Route(
        "post",
        "/spaces/{id}/documents",
        "Upload a new document",
        {"201": s.DocumentSchema},
        s.NewDocumentSchema,
        form=True,
        errors=("413", "415", "507"),
    ),
    Route(
        "get",
        "/spaces/{id}/documents",
        "Documents the caller may see",
        {"200": s.page_of(s.DocumentSchema)},
        query={"state": "Review state", "q": "Words of the title", "category": "Category"},
    ),
    Route("get", "/documents/{id}", "A document", {"200": s.DocumentSchema}),
    Route(
        "patch",
        "/documents/{id}",
        "Rename a document (staff); search finds it by its new title only",
        {"200": s.DocumentSchema},
        s.RenameSchema,
    ),
    Route(
        "delete",
        "/documents/{id}",
        "Soft-delete a document (staff); not while people are asked to sign it",
        {"204": None},
        errors=("409",),
    ),
    Route(
        "post",
        "/documents/{id}/versions",
        "Upload a new version",
        {"201": s.VersionSchema},
        s.NewVersionSchema,
        form=True,
        errors=("409", "413", "415", "507"),
    ),
    Route(
        "get",
        "/documents/{id}/versions",
        "Versions, newest first",
        {"200": s.page_of(s.VersionSchema)},
    ),
    Route("get", "/documents/{id}/versions/{n}", "One version", {"200": s.VersionSchema}),
    Route(
        "get",
        "/documents/{id}/versions/{n}/content",
        "The bytes of a version (Range honoured, ETag = sha256); with a MinIO store, a 303 "
        "to a short-lived presigned URL (send Range there); 500 when the stored bytes no "
        "longer match the sha256",
        {"200": {"*/*": {"schema": BINARY}}, "206": {"*/*": {"schema": BINARY}}, "303": None},
        errors=("500",),
    ),
    Route(
        "post",
        "/documents/{id}/versions/{n}/restore",
        "Restore a version as a new version",
        {"201": s.VersionSchema},
        errors=("409",),
    ),
    Route(
        "post",
        "/documents/{id}/review",
        "Check, validate or request changes",
        {"200": s.ReviewResultSchema},
        s.ReviewActionSchema,
        errors=("409",),
    ),
    Route(
        "get",
        "/documents/{id}/review",
        "Review state and history of the current version",
        {"200": s.ReviewHistorySchema},
    ),
    Route(
        "post",
        "/documents/{id}/comments",
        "Comment, optionally pinned to a page point",
        {"201": s.CommentSchema},
        s.NewCommentSchema,
    ),
    Route(
        "get",
        "/documents/{id}/comments",
        "Comments of a document",
        {"200": s.page_of(s.CommentSchema)},
    ),
    Route("post", "/comments/{id}/resolve", "Resolve a comment", {"200": s.CommentSchema}),
    Route("get", "/alerts", "Open alerts for the caller", {"200": s.page_of(s.AlertSchema)}),
    Route(
        "post",
        "/spaces/{id}/requests",
        "Ask a client for documents (items or a template)",
        {"201": s.DocumentRequestSchema},
        s.NewRequestSchema,
    ),
    Route(
        "get",
        "/spaces/{id}/requests",
        "Document requests of a space",
        {"200": s.page_of(s.DocumentRequestSchema)},
    ),
    Route(
        "get",
        "/requests/{id}",
        "A request with items and progress",
        {"200": s.DocumentRequestSchema},
    ),
    Route(
        "get",
        "/request-templates",
        "Checklist templates",
        {"200": s.page_of(s.RequestTemplateSchema)},
    ),
    Route(
        "post",
        "/request-items/{id}/upload",
        "Upload a file for an item",
        {"201": s.RequestItemSchema},
        s.FileSchema,
        form=True,
        errors=("409", "413", "415", "507"),
    ),
    Route(
        "post",
        "/request-items/{id}/not-applicable",
        "Mark an item not applicable",
        {"200": s.RequestItemSchema},
        s.ReasonSchema,
        errors=("409",),
    ),
    Route(
        "post",
        "/request-items/{id}/review",
        "Accept, reject or reopen an item (staff)",
        {"200": s.RequestItemSchema},
        s.ItemReviewSchema,
        errors=("409",),
    ),
    Route(
        "get",
        "/notifications",
        "The caller's notifications",
        {"200": s.NotificationListSchema},
    ),
    Route("post", "/notifications/read", "Mark every notification read", {"204": None}),
    Route(
        "post",
        "/spaces/{id}/transmittals",
        "Send versions for review",
        {"201": s.TransmittalSchema},
        s.NewTransmittalSchema,
    ),
    Route(
        "get",
        "/transmittals/{id}",
        "A transmittal with who opened and downloaded what",
        {"200": s.TransmittalSchema},
    ),
    Route(
        "post",
        "/documents/{id}/signature-requests",
        "Ask people to sign the current PDF version, in order (staff)",
        {"201": s.SignatureRequestSchema},
        s.NewSignatureRequestSchema,
        errors=("409",),
    ),
    Route(
        "get",
        "/documents/{id}/signature-requests",
        "Signature requests of a document",
        {"200": s.page_of(s.SignatureRequestSchema)},
    ),
    Route(
        "get",
        "/signature-requests/{id}",
        "A signature request and its signers",
        {"200": s.SignatureRequestSchema},
    ),
    Route(
        "post",
        "/signature-requests/{id}/email-code",
        "E-mail a one-time signing code (signers without TOTP)",
        {"202": s.CodeSentSchema},
        errors=("409", "429"),
    ),
    Route(
        "post",
        "/signature-requests/{id}/sign",
        "Sign with a fresh second factor: 202 with the signing job, or 200 when signed now "
        "with an uploaded PKCS#12 (never stored); 409 when it is not the caller's turn",
        {"200": s.SignatureRequestSchema, "202": s.SigningAcceptedSchema},
        s.SignSchema,
        errors=("409", "413", "429"),
    ),
    Route(
        "get",
        "/jobs/{id}",
        "A signing job: status queued|running|done|failed",
        {"200": s.JobSchema},
    ),
    Route(
        "post",
        "/signature-requests/{id}/decline",
        "Decline to sign, with a reason",
        {"200": s.SignatureRequestSchema},
        s.ReasonSchema,
        errors=("409",),
    ),
    Route(
        "post",
        "/signature-requests/{id}/cancel",
        "Cancel an open request (staff)",
        {"200": s.SignatureRequestSchema},
        errors=("409",),
    ),
    Route(
        "get",
        "/signature-requests/{id}/evidence",
        "Evidence ZIP: signed PDF, validation report (JSON and PDF), audit trail, hashes",
        {"200": {"application/zip": {"schema": BINARY}}},
        errors=("409",),
    ),
    Route(
        "post",
        "/validate",
        "Validation report of an uploaded PDF",
        {"200": s.ValidationReportSchema},
        s.FileSchema,
        form=True,
        errors=("413", "415"),
    ),
    Route(
        "get",
        "/documents/{id}/versions/{n}/validation",
        "Validation report of a stored version",
        {"200": s.ValidationReportSchema},
        errors=("415",),
    ),
    Route(
        "post",
        "/uploads/",
        "tus 1.0 creation: Upload-Length (or Upload-Defer-Length: 1), Upload-Metadata with "
        "space_id or document_id, filename, visibility, title?, note?; 201 with Location and "
        "Upload-Expires; 413 over the size limit or the client's quota. OPTIONS here answers "
        "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm",
        {"201": None},
        errors=("400", "412", "413", "415", "503", "507"),
    ),
    Route(
        "patch",
        "/uploads/{id}",
        "tus 1.0 PATCH (Upload-Offset, optional Upload-Checksum sha1|sha256): 204 with the new "
        "Upload-Offset; the last one answers Portal-Document-Id and Portal-Version, the upload "
        "being then a document or version; 409 offset, 410 expired, 415 file type, 460 "
        "checksum, 507 storage full. HEAD on the same path answers Upload-Offset",
        {"204": None},
        errors=("400", "409", "410", "412", "413", "415", "423", "460", "503", "507"),
    ),
    Route(
        "delete",
        "/uploads/{id}",
        "tus termination: drop an unfinished upload",
        {"204": None},
        errors=("412", "423", "503"),
    ),
    Route(
        "get",
        "/documents/{id}/compare",
        "What changed between two versions: status, then per page the changed areas, the "
        "words added and removed and the overlay images' URLs (computed in the background: "
        "queued or running until done; boxes are fractions of the page from its top left)",
        {"200": s.CompareSchema},
        errors=("503",),
        query={
            "from": "The older version's number (default: the last one before `to` the caller "
            "reviewed, else the one just before `to`)",
            "to": "The newer version's number (default: the current one)",
        },
    ),
    Route(
        "get",
        "/documents/{id}/compare/image",
        "One image of a finished compare, as its answer links it: `overlay-N.jpg` (old ink "
        "red, new ink blue, shared grey), `from-M-on-N.jpg` (the old page aligned on the "
        "new one), `to-N.jpg`; 404 until the compare is done",
        {"200": {"image/jpeg": {"schema": BINARY}}},
        errors=("503",),
        query={
            "from": "The older version's number (default: the last one before `to` the caller "
            "reviewed, else the one just before `to`)",
            "to": "The newer version's number (default: the current one)",
            "name": "The image's name",
        },
    ),
    Route(
        "get",
        "/documents/{id}/versions/{n}/text",
        "OCR status and text of each page",
        {"200": s.VersionTextSchema},
    ),
    Route(
        "get",
        "/form-templates",
        "Form templates with their fields",
        {"200": s.FormTemplatesSchema},
    ),
    Route(
        "post",
        "/spaces/{id}/forms",
        "Fill a form from a document: 201 with fields, or 202 with the OCR job",
        {"201": s.FormSchema, "202": s.FormAcceptedSchema},
        s.NewFormSchema,
    ),
    Route(
        "get",
        "/forms/{id}",
        "A form with each field's value, confidence, page and box",
        {"200": s.FormSchema},
    ),
    Route(
        "patch",
        "/forms/{id}",
        "Correct fields and confirm",
        {"200": s.FormSchema},
        s.FormChangesSchema,
        errors=("409",),
    ),
    Route(
        "get",
        "/forms/{id}/export",
        "Confirmed data as CSV or JSON (?format=csv|json)",
        {
            "200": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            }
        },
        errors=("409",),
        query={"format": "csv or json (default)"},
    ),
    Route(
        "get",
        "/search",
        "Documents the caller may see whose title or text match q, with snippets",
        {"200": s.SearchResultsSchema},
        query={"q": "Words to find"},
    ),
    Route(
        "get",
        "/audit",
        "Audit events (admin)",
        {"200": s.page_of(s.AuditEventSchema)},
        query={
            "target": "Only events about this target",
            "actor": "Only events by this user id",
            "since": "ISO 8601 time",
        },
    ),
    Route(
        "get",
        "/audit/verify",
        "Check the audit hash chain (admin)",
        {"200": s.AuditVerifySchema},
    ),
    Route(
        "get",
        "/openapi.json",
        "This description",
        {"200": {"application/json": {"schema": {"type": "object"}}}},
        public=True,
    ),
    Route(
        "post",
        "/auth/invitation",
        "Accept an invitation: choose a password and get a bearer token (with "
        "mfa_enrolment_required when the firm requires a second factor of clients: the token "
        "then serves only /me and /me/mfa/totp until the code is confirmed)",
        {"200": s.TokenSchema},
        r.InvitationAcceptSchema,
        errors=("429",),
        public=True,
    ),
    Route("get", "/catalog", "Services the caller may take", {"200": s.page_of(r.ServiceSchema)}),
    Route(
        "post", "/catalog", "Add a service (admin)", {"201": r.ServiceSchema}, r.NewServiceSchema
    ),
    Route(
        "post",
        "/catalog/{id}/subscribe",
        "Take one more service (an active client): only the addendum is signed",
        {"201": r.OnboardingSchema},
        errors=("409",),
    ),
    Route(
        "post",
        "/onboardings",
        "Invite a new client (staff)",
        {"201": r.OnboardingSchema},
        r.NewOnboardingSchema,
    ),
    Route(
        "get",
        "/onboardings",
        "Onboardings the caller may see",
        {"200": s.page_of(r.OnboardingSchema)},
        query={"status": "Only those in this status"},
    ),
    Route("get", "/onboardings/{id}", "An onboarding", {"200": r.OnboardingSchema}),
    Route(
        "post",
        "/onboardings/{id}/identity",
        "Photos or a PDF of the identity document, read at once",
        {"201": r.OnboardingSchema},
        r.IdentityUploadSchema,
        form=True,
        errors=("409", "413", "415"),
    ),
    Route(
        "post",
        "/onboardings/{id}/identity/confirm",
        "The person confirms (or corrects) what was read",
        {"200": r.OnboardingSchema},
        r.IdentityFieldsSchema,
        errors=("409",),
    ),
    Route(
        "post",
        "/onboardings/{id}/approve",
        "Approve the identity (staff); the engagement letter goes out for signature",
        {"200": r.OnboardingSchema},
        r.IdentityFieldsSchema,
        errors=("409",),
    ),
    Route(
        "post",
        "/onboardings/{id}/reject",
        "Reject an onboarding (staff)",
        {"200": r.OnboardingSchema},
        r.RejectSchema,
        errors=("409",),
    ),
    Route(
        "post",
        "/spaces/{id}/threads",
        "Open a thread with its first message",
        {"201": r.ThreadSchema},
        r.NewThreadSchema,
    ),
    Route(
        "get",
        "/spaces/{id}/threads",
        "Threads of a space the caller may see, with unread counts",
        {"200": s.page_of(r.ThreadSummarySchema)},
    ),
    Route(
        "get",
        "/threads/{id}",
        "A thread and its messages (marks them read)",
        {"200": r.ThreadSchema},
    ),
    Route(
        "post",
        "/threads/{id}/messages",
        "Post a message; each file becomes a document of the space",
        {"201": r.MessageSchema},
        r.NewMessageSchema,
        errors=("413", "415"),
    ),
    Route(
        "get",
        "/spaces/{id}/inbox-address",
        "Where the space's people may e-mail documents",
        {"200": r.InboxAddressSchema},
    ),
    Route(
        "post",
        "/spaces/{id}/incidents",
        "Open an incident (a client or staff)",
        {"201": r.IncidentSchema},
        r.NewIncidentSchema,
    ),
    Route(
        "get",
        "/incidents",
        "Incidents the caller may see, overdue first",
        {"200": s.page_of(r.IncidentSchema)},
        query={"status": "Only those in this status", "priority": "Only those of this priority"},
    ),
    Route("get", "/incidents/{id}", "An incident", {"200": r.IncidentSchema}),
    Route(
        "patch",
        "/incidents/{id}",
        "Change status, assignee or priority (staff; a client may resolve or reopen)",
        {"200": r.IncidentSchema},
        r.IncidentChangesSchema,
    ),
    Route(
        "get",
        "/me/agenda",
        "What waits for the caller, most urgent first, and what is new since their last visit",
        {"200": r.AgendaSchema},
    ),
    Route(
        "post",
        "/campaigns",
        "Send one request (or signature request) to many clients (staff): made in the background",
        {"202": r.CampaignSchema},
        r.NewCampaignSchema,
    ),
    Route("get", "/campaigns/{id}", "A campaign's board", {"200": r.CampaignSchema}),
    Route(
        "post",
        "/campaigns/{id}/close",
        "Stop asking the chosen clients (all when none): what is missing becomes not applicable",
        {"200": r.CampaignSchema},
        r.CloseCampaignSchema,
    ),
    Route(
        "post",
        "/campaigns/{id}/retry",
        "Prepare again the chosen clients whose row failed (all failed ones when none)",
        {"200": r.CampaignSchema},
        r.CloseCampaignSchema,
    ),
    Route(
        "post",
        "/campaigns/{id}/remove",
        "Take clients out of a campaign: shown as removed, what was made for them stays",
        {"200": r.CampaignSchema},
        r.RemoveCampaignClientsSchema,
    ),
    Route(
        "post",
        "/campaigns/{id}/remind",
        "Remind each client still missing something of what is missing",
        {"200": r.RemindedSchema},
    ),
    Route(
        "get",
        "/campaigns/{id}/export",
        "The progress table as CSV or XLSX",
        {
            "200": {
                "text/csv": {"schema": BINARY},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": BINARY
                },
            }
        },
        query={"format": "csv (default) or xlsx"},
    ),
    Route(
        "post",
        "/clients/{id}/tags",
        "Set a client's tags (staff)",
        {"200": r.TagsSchema},
        r.TagsBodySchema,
    ),
]


def _is_page(answer: Answer) -> bool:
    """Whether an answer is a list ``{items, next}`` (which then takes cursor and limit)."""
    return isinstance(answer, type) and {"items", "next"} <= set(answer._declared_fields)


def _query_schema(name: str) -> dict[str, Any]:
    if name == "limit":
        return {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    return {"type": "string"}


def _parameters(route: Route) -> list[dict[str, Any]]:
    names = [part.strip("{}") for part in route.path.split("/") if part.startswith("{")]
    path = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name == "n" else "string"},
        }
        for name in names
    ]
    query = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": _query_schema(name),
        }
        for name, text in {
            **route.query,
            **(_LIST if _is_page(route.answers.get("200")) else {}),
        }.items()
    ]
    return path + query


def _request_body(route: Route) -> dict[str, Any] | None:
    if route.body is None:
        return None
    if route.body is s.SignSchema:
        # The signer's own certificate comes as a file: the same fields as a form.
        return {
            "content": {
                **_json(s.SignSchema),
                "multipart/form-data": {"schema": s.SignWithCertificateSchema},
            }
        }
    if route.body is r.NewCampaignSchema:
        # The clients by a CSV of tax ids, or the PDFs to sign as a ZIP: a form with files.
        return {
            "content": {
                **_json(r.NewCampaignSchema),
                "multipart/form-data": {"schema": r.NewCampaignFormSchema},
            }
        }
    if route.body is r.NewMessageSchema:
        # A message's files come as a form: the same fields, with one part per file.
        return {
            "content": {
                **_json(r.NewMessageSchema),
                "multipart/form-data": {"schema": r.NewMessageFormSchema},
            }
        }
    media = "multipart/form-data" if route.form else "application/json"
    return {"content": {media: {"schema": route.body}}}


def _response(status: str, answer: Answer) -> dict[str, Any]:
    response: dict[str, Any] = {"description": ERROR_TEXT.get(status, "OK")}
    if isinstance(answer, dict):
        response["content"] = answer
    elif answer is not None:
        response["content"] = _json(answer)
    return response


def _problem(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "content": {"application/problem+json": {"schema": s.ProblemSchema}},
    }


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": route.summary, "responses": {}}
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    request_body = _request_body(route)
    if request_body is not None:
        operation["requestBody"] = request_body
    for status, answer in route.answers.items():
        operation["responses"][status] = _response(status, answer)
    errors = {**COMMON_ERRORS, **{code: ERROR_TEXT[code] for code in route.errors}}
    for status in sorted(errors):
        if status == "412":  # tus answers a wrong protocol version with headers only
            operation["responses"][status] = {"description": errors[status]}
        else:
            operation["responses"][status] = _problem(errors[status])
    if route.public:
        operation["security"] = []
    return operation


@cache
def build_spec() -> dict[str, Any]:
    """The OpenAPI document, built once per process (it depends on code only)."""
    spec = APISpec(
        title="Portal API",
        version="1",
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", schema=s.ProblemSchema)
    operations: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operations.setdefault(PREFIX + route.path, {})[route.method] = _operation(route)
    for path, methods in operations.items():
        spec.path(path=path, operations=methods)
    return spec.to_dict()


@api_bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())
