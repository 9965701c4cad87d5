"""The payloads of the client relationship: onboarding, conversations, the agenda, campaigns.

Described as in ``schemas.py`` (whose conventions they follow) and published by
``app/api/openapi.py`` from the same classes.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_dump

from app.api.schemas import _Body, _nullable, _required
from app.services import onboarding

# ------------------------------------------------------------------ onboarding


class ServiceSchema(Schema):
    key = _required(fields.String)
    name = _required(fields.String)
    description = _nullable(fields.String)
    space_kind = _required(
        fields.String, metadata={"enum": ["case", "fiscal_year", "project", "general"]}
    )
    space_name = _required(fields.String)
    request_template = _nullable(fields.String)
    fees = _nullable(fields.String)


class StepSchema(Schema):
    name = _required(
        fields.String,
        metadata={"enum": ["invitation", "identity", "review", "engagement", "activation"]},
    )
    status = _required(
        fields.String, metadata={"enum": ["done", "current", "pending", "skipped", "failed"]}
    )


class IdentityFieldDetailSchema(Schema):
    value = _required(fields.String)
    confidence = _required(fields.Float)
    source = _required(fields.String, metadata={"enum": ["mrz", "front"]})
    image = _required(fields.Integer)
    box = _required(fields.List, fields.Integer())


class IdentitySchema(Schema):
    fields_ = _required(
        fields.Dict,
        keys=fields.String(),
        values=fields.String(),
        attribute="fields",
        data_key="fields",
    )
    details = _required(
        fields.Dict, keys=fields.String(), values=fields.Nested(IdentityFieldDetailSchema)
    )
    mrz_valid = _required(fields.Boolean)
    problems = _required(
        fields.List,
        fields.String(
            metadata={
                "enum": [
                    "expired_document",
                    "mrz_check_failed",
                    "unreadable",
                    "name_mismatch",
                    "document_already_used",
                ]
            }
        ),
    )
    messages = _required(fields.List, fields.String())
    hints = _required(fields.List, fields.String())
    confirmed = _nullable(fields.Dict, keys=fields.String(), values=fields.String())


class OpenedSpaceSchema(Schema):
    id = _required(fields.String)
    name = _required(fields.String)
    kind = _required(fields.String)


class OnboardingSchema(Schema):
    id = _required(fields.String)
    status = _required(
        fields.String,
        metadata={
            "enum": ["invited", "identity", "review", "engagement", "active", "rejected", "expired"]
        },
    )
    steps = _required(fields.List, fields.Nested(StepSchema))
    waiting_on = _nullable(fields.String, metadata={"enum": ["client", "firm", None]})
    email = _required(fields.String)
    name = _required(fields.String)
    kind = _required(fields.String, metadata={"enum": ["person", "company"]})
    services = _required(fields.List, fields.String())
    addendum = _required(fields.Boolean)
    client_id = _required(fields.String)
    user_id = _required(fields.String)
    spaces = _required(fields.List, fields.Nested(OpenedSpaceSchema))
    identity = _nullable(fields.Nested, IdentitySchema)
    approvals = _required(fields.Integer)
    engagement_document_id = _nullable(fields.String)
    engagement_signature_request_id = _nullable(fields.String)
    reason = _nullable(fields.String)
    created_at = _required(fields.DateTime)
    status_since = _required(fields.DateTime)
    activated_at = _nullable(fields.DateTime)

    @pre_dump
    def _computed(self, item: Any, **_kwargs: Any) -> dict[str, Any]:
        return onboarding.describe(item)


class InvitationAcceptSchema(_Body):
    token = _required(fields.String)
    password = _required(fields.String)


class NewServiceSchema(_Body):
    key = _required(fields.String)
    name = _required(fields.String)
    description = fields.String()
    space_kind = _required(
        fields.String, metadata={"enum": ["case", "fiscal_year", "project", "general"]}
    )
    space_name = _required(fields.String)
    request_template = fields.String()
    engagement_template = fields.String()
    fees = fields.String()


class NewOnboardingSchema(_Body):
    email = _required(fields.String)
    name = _required(fields.String)
    kind = _required(fields.String, metadata={"enum": ["person", "company"]})
    client_name = fields.String()
    tax_id = fields.String()
    services = _required(fields.List, fields.String())


class IdentityUploadSchema(_Body):
    front = _required(fields.Raw, metadata={"type": "string", "format": "binary"})
    back = fields.Raw(metadata={"type": "string", "format": "binary"})


class IdentityFieldsSchema(_Body):
    identity_fields = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")


class RejectSchema(_Body):
    reason = _required(fields.String)


# ------------------------------------------------------------------ conversations and incidents


class MessageSchema(Schema):
    id = _required(fields.String)
    author = _required(fields.String, metadata={"description": "The author's user id"})
    author_name = _required(fields.String)
    body = _required(fields.String)
    at = _required(fields.DateTime)
    internal = _required(fields.Boolean)
    attachments = _required(fields.List, fields.String())
    read_by = _required(fields.List, fields.String())
    source = _required(fields.String, metadata={"enum": ["web", "email"]})


class ThreadSummarySchema(Schema):
    id = _required(fields.String)
    space_id = _required(fields.String)
    subject = _required(fields.String)
    visibility = _required(fields.String, metadata={"enum": ["shared", "internal"]})
    created_at = _required(fields.DateTime)
    last_message_at = _required(fields.DateTime)
    unread = _required(fields.Integer)


class ThreadSchema(ThreadSummarySchema):
    messages = _required(fields.List, fields.Nested(MessageSchema))
    incident_id = _nullable(fields.String)


class InboxAddressSchema(Schema):
    address = _required(fields.String)


class IncidentSchema(Schema):
    id = _required(fields.String)
    title = _required(fields.String)
    status = _required(
        fields.String, metadata={"enum": ["open", "in_progress", "waiting_client", "resolved"]}
    )
    priority = _required(fields.String, metadata={"enum": ["low", "normal", "high", "urgent"]})
    category = _nullable(fields.String)
    space_id = _required(fields.String)
    thread_id = _required(fields.String)
    due_at = _required(fields.DateTime)
    overdue = _required(fields.Boolean)
    assignee = _nullable(fields.String, metadata={"description": "The assignee's user id"})
    created_by = _required(fields.String)
    created_at = _required(fields.DateTime)
    resolved_at = _nullable(fields.DateTime)


class NewThreadSchema(_Body):
    subject = _required(fields.String)
    body = _required(fields.String)
    visibility = fields.String(metadata={"enum": ["shared", "internal"]})


class NewMessageSchema(_Body):
    body = _required(fields.String)
    internal = fields.Boolean()


class NewMessageFormSchema(_Body):
    """A message with files: each ``file`` part becomes a document of the space."""

    body = _required(fields.String)
    internal = fields.String(metadata={"enum": ["true", "false"]})
    file = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "one part per file (repeat the field)"},
    )


class NewIncidentSchema(_Body):
    title = _required(fields.String)
    body = _required(fields.String)
    category = fields.String()
    priority = fields.String(metadata={"enum": ["low", "normal", "high", "urgent"]})


class IncidentChangesSchema(_Body):
    status = fields.String(metadata={"enum": ["open", "in_progress", "waiting_client", "resolved"]})
    assignee_id = fields.String()
    priority = fields.String(metadata={"enum": ["low", "normal", "high", "urgent"]})


# ------------------------------------------------------------------ the agenda


class AgendaItemSchema(Schema):
    kind = _required(
        fields.String,
        metadata={
            "enum": ["request_item", "signature", "review", "message", "incident", "onboarding"]
        },
    )
    target = _required(fields.String, metadata={"description": "type:id of what waits"})
    title = _required(fields.String)
    due = _nullable(fields.Date)
    overdue = _required(fields.Boolean)
    link = _required(fields.String, metadata={"description": "The page where it is done"})
    context = _required(fields.String)


class NewSinceSchema(Schema):
    since = _nullable(fields.DateTime)
    documents = _required(fields.Integer)
    messages = _required(fields.Integer)


class AgendaSchema(Schema):
    items = _required(fields.List, fields.Nested(AgendaItemSchema))
    next = _nullable(fields.String, dump_default=None)
    counts = _required(fields.Dict, keys=fields.String(), values=fields.Integer())
    new_since_last_visit = _required(fields.Nested, NewSinceSchema)


# ------------------------------------------------------------------ campaigns


class CampaignClientSchema(Schema):
    client_id = _required(fields.String)
    client_name = _required(fields.String)
    request_id = _nullable(fields.String)
    status = _required(
        fields.String,
        metadata={
            "enum": [
                "pending",
                "open",
                "overdue",
                "done",
                "failed",
                "declined",
                "closed",
                "removed",
            ]
        },
    )
    progress = _required(fields.Dict, keys=fields.String(), values=fields.Integer())
    missing = _required(fields.List, fields.String())
    signature_request_id = _nullable(fields.String)
    signed = _nullable(fields.Boolean)
    error = _nullable(fields.String)


class CampaignNoticeSchema(Schema):
    kind = _required(fields.String, metadata={"enum": ["duplicate", "file"]})
    value = _required(fields.String)
    message = _required(fields.String)
    line = fields.Integer()


class CampaignTotalsSchema(Schema):
    clients = _required(fields.Integer)
    done = _required(fields.Integer)
    pending = _required(fields.Integer)
    overdue = _required(fields.Integer)
    failed = _required(fields.Integer)


class CampaignSchema(Schema):
    id = _required(fields.String)
    name = _required(fields.String)
    kind = _required(fields.String)
    status = _required(fields.String, metadata={"enum": ["queued", "running", "done"]})
    due_date = _required(fields.Date)
    space_kind = _required(fields.String)
    space_name = _required(fields.String)
    totals = _required(fields.Nested, CampaignTotalsSchema)
    clients = _required(fields.List, fields.Nested(CampaignClientSchema))
    notices = _required(fields.List, fields.Nested(CampaignNoticeSchema))


class RemindedSchema(Schema):
    reminded = _required(fields.Integer)


class TagsSchema(Schema):
    tags = _required(fields.List, fields.String())


class NewCampaignSchema(_Body):
    name = _required(fields.String)
    kind = fields.String(metadata={"enum": ["request", "signature"]})
    template = fields.String()
    items = fields.List(fields.Dict())
    due_date = _required(fields.Date)
    clients = fields.List(fields.String())
    client_filter = fields.Dict()
    tax_ids = fields.List(
        fields.String(), metadata={"description": "Clients by NIF/NIE/CIF (any spacing or case)"}
    )
    space_kind = _required(fields.String)
    space_name = _required(fields.String)


class NewCampaignFormSchema(_Body):
    """The same fields as a multipart form, with the CSV of tax ids or the ZIP of PDFs;
    ``items``, ``clients``, ``client_filter`` and ``tax_ids`` as JSON text."""

    name = _required(fields.String)
    kind = fields.String(metadata={"enum": ["request", "signature"]})
    template = fields.String()
    items = fields.String(metadata={"description": "JSON list of items"})
    due_date = _required(fields.Date)
    clients = fields.String(metadata={"description": "JSON list of client ids"})
    client_filter = fields.String(metadata={"description": "JSON object {tag?, kind?}"})
    clients_csv = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "CSV of tax ids (UTF-8 or Windows-1252; ; or ,)",
        }
    )
    documents_zip = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "kind signature: a ZIP of PDFs named by each client's tax id",
        }
    )
    space_kind = _required(fields.String)
    space_name = _required(fields.String)


class CloseCampaignSchema(_Body):
    client_ids = fields.List(
        fields.String(), metadata={"description": "Only these clients (all when left out)"}
    )


class RemoveCampaignClientsSchema(_Body):
    client_ids = _required(fields.List, fields.String())


class TagsBodySchema(_Body):
    tags = _required(fields.List, fields.String())
