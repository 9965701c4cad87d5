"""Every JSON payload of the API, described once (docs/api.md).

The views answer ``SomeSchema().dump(thing)`` and ``app/api/openapi.py`` publishes the
same classes as the OpenAPI components, so an answer and its description cannot drift
apart. A field is ``required`` when the answer always carries it (even as null), and an
answer has no properties beyond its fields (marshmallow's default ``unknown = RAISE`` is
published as ``additionalProperties: false``); tests/api/test_openapi_answers.py checks
real answers against the published document. The payloads of the client relationship
(onboarding, conversations, the agenda, campaigns) are in ``relationship_schemas.py``.

Values an answer computes (a flag from a timestamp, the text of a notification) are
attached in a ``pre_dump`` hook, so that each field keeps a plain, typed declaration.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, fields, pre_dump, validate

from app.services import forms, notifications, transmittals
from app.services import ocr as ocr_service
from app.services import requests as request_service
from app.services import signatures as signature_service


class Number(fields.Number):
    """A JSON number dumped as stored: an integer stays ``90``, not ``90.0``."""

    num_type = float

    def _format_num(self, value: Any) -> Any:
        return value


class _With:
    """An object seen through a few computed attributes; the rest come from the object."""

    def __init__(self, base: Any, **computed: Any) -> None:
        self._base = base
        self.__dict__.update(computed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def _required(field: type[fields.Field], *args: Any, **kwargs: Any) -> Any:
    return field(*args, required=True, **kwargs)


def _nullable(field: type[fields.Field], *args: Any, **kwargs: Any) -> Any:
    """A field always present in the answer, null when there is no value."""
    return field(*args, required=True, allow_none=True, **kwargs)


# ------------------------------------------------------------------ errors and pages


class ProblemSchema(Schema):
    """An error (RFC 9457 problem details); extension members such as ``mfa_required``."""

    class Meta:
        unknown = INCLUDE

    type = _required(fields.String)
    title = _required(fields.String)
    status = _required(fields.Integer)
    detail = _required(fields.String)
    errors = fields.Dict(keys=fields.String(), metadata={"description": "Message per field"})


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The schema of a list answer ``{items, next}`` of ``item`` objects."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": _required(fields.List, fields.Nested(item)),
            "next": _nullable(fields.String, dump_default=None),
        },
        name=name,
    )


def dump_page(item: type[Schema], objects: Any, next_cursor: str | None = None) -> Any:
    """A list answer: ``objects`` dumped with ``item`` and the cursor of the next page."""
    return page_of(item)().dump({"items": list(objects), "next": next_cursor})


# ------------------------------------------------------------------ people


class UserSchema(Schema):
    id = _required(fields.String)
    email = _required(fields.String)
    name = _required(fields.String)
    role = _required(fields.String, metadata={"enum": ["admin", "staff", "client"]})
    client_id = _nullable(fields.String)
    mfa_enabled = _required(fields.Boolean)
    locale = _required(fields.String)


class TokenSchema(Schema):
    token = _required(fields.String)
    expires_at = _nullable(fields.DateTime)
    user = _required(fields.Nested, UserSchema)
    mfa_enrolment_required = fields.Boolean(
        metadata={
            "description": "Present when the token serves only to enrol the second factor the "
            "firm requires (POST /me/mfa/totp, then /me/mfa/totp/confirm)"
        }
    )


class TotpStartSchema(Schema):
    secret = _required(fields.String)
    otpauth_uri = _required(fields.String)


class RecoveryCodesSchema(Schema):
    recovery_codes = _required(fields.List, fields.String())


class ClientSchema(Schema):
    id = _required(fields.String)
    name = _required(fields.String)
    tax_id = _nullable(fields.String)
    kind = _required(fields.String, metadata={"enum": ["person", "company"]})
    created_at = _required(fields.DateTime)


# ------------------------------------------------------------------ spaces and documents


DEFAULT_REVIEW_SLA = {"read_days": 2, "decision_days": 5}


class SpaceSchema(Schema):
    id = _required(fields.String)
    client_id = _required(fields.String)
    name = _required(fields.String)
    kind = _required(fields.String)
    label_scheme = _required(fields.String)
    review_sla = _required(fields.Dict, keys=fields.String())
    created_at = _required(fields.DateTime)

    @pre_dump
    def _sla(self, space: Any, **kwargs: Any) -> Any:
        # A space that never chose its SLA reviews on the firm's default one.
        return _With(space, review_sla=space.review_sla or DEFAULT_REVIEW_SLA)


class MemberSchema(Schema):
    space_id = _required(fields.String)
    user_id = _required(fields.String)
    permission = _required(fields.String, metadata={"enum": ["view", "contribute", "manage"]})


class VersionSchema(Schema):
    number = _required(fields.Integer)
    filename = _required(fields.String)
    content_type = _required(fields.String)
    size = _required(fields.Integer)
    sha256 = _required(fields.String)
    uploaded_by = _required(fields.String, attribute="uploaded_by_id")
    created_at = _required(fields.DateTime)
    note = _nullable(fields.String)
    source = _required(fields.String, metadata={"enum": ["upload", "restore", "signature"]})
    review_state = _required(fields.String)


class DocumentSchema(Schema):
    id = _required(fields.String)
    space_id = _required(fields.String)
    folder_id = _nullable(fields.String)
    title = _required(fields.String)
    category = _nullable(fields.String)
    visibility = _required(fields.String, metadata={"enum": ["shared", "internal"]})
    current_version = _nullable(fields.Nested, VersionSchema)
    created_at = _required(fields.DateTime)
    updated_at = _nullable(fields.DateTime)


# ------------------------------------------------------------------ review, comments, alerts


class ReviewResultSchema(Schema):
    review_state = _required(fields.String)
    version = _required(fields.Integer)


class ReviewEventSchema(Schema):
    from_state = _required(fields.String, data_key="from")
    to_state = _required(fields.String, data_key="to")
    action = _required(fields.String)
    label = _nullable(fields.String)
    actor = _nullable(fields.String, attribute="actor_id")
    at = _required(fields.DateTime)
    comment = _nullable(fields.String)


class ReviewHistorySchema(Schema):
    state = _required(fields.String, attribute="review_state")
    version = _required(fields.Integer, attribute="number")
    history = _required(fields.List, fields.Nested(ReviewEventSchema))


class CommentSchema(Schema):
    id = _required(fields.String)
    document_id = _required(fields.String)
    version = _nullable(fields.Integer, attribute="version_number")
    author = _required(fields.String, attribute="author_id")
    author_name = _required(fields.String, attribute="author.name")
    body = _required(fields.String)
    page = _nullable(fields.Integer)
    x = _nullable(Number)
    y = _nullable(Number)
    created_at = _required(fields.DateTime)
    resolved = _required(fields.Boolean)
    resolved_at = _nullable(fields.DateTime)

    @pre_dump
    def _resolved(self, comment: Any, **kwargs: Any) -> Any:
        return _With(comment, resolved=comment.resolved_at is not None)


class AlertSchema(Schema):
    id = _required(fields.String)
    kind = _required(fields.String)
    target = _required(fields.String, metadata={"description": "type:id of what is late"})
    summary = _required(fields.String)
    due = _nullable(fields.Date)
    level = _required(fields.Integer)
    created_at = _required(fields.DateTime)

    @pre_dump
    def _target(self, alert: Any, **kwargs: Any) -> Any:
        return _With(alert, target=f"{alert.target_type}:{alert.target_id}")


class NotificationSchema(Schema):
    id = _required(fields.String)
    kind = _required(fields.String)
    text = _required(fields.String)
    link = _nullable(fields.String)
    created_at = _required(fields.DateTime)
    read = _required(fields.Boolean)

    @pre_dump
    def _describe(self, notification: Any, **kwargs: Any) -> Any:
        return _With(
            notification,
            text=notifications.describe(notification),
            link=notification.payload.get("link"),
            read=notification.read_at is not None,
        )


class NotificationListSchema(page_of(NotificationSchema)):  # type: ignore[misc]
    unread = _required(fields.Integer)


class TransmittalAccessSchema(Schema):
    user_id = _required(fields.String)
    opened_at = _nullable(fields.DateTime)
    downloaded_at = _nullable(fields.DateTime)


class TransmittalItemSchema(Schema):
    document_id = _required(fields.String)
    version = _required(fields.Integer)
    review_state = _required(fields.String)
    access = _required(fields.List, fields.Nested(TransmittalAccessSchema))


class TransmittalSchema(Schema):
    id = _required(fields.String)
    space_id = _required(fields.String)
    number = _required(fields.Integer)
    message = _nullable(fields.String)
    due_date = _nullable(fields.Date)
    created_at = _required(fields.DateTime)
    created_by = _required(fields.String, attribute="created_by_id")
    recipients = _required(fields.List, fields.String())
    items = _required(fields.List, fields.Nested(TransmittalItemSchema))

    @pre_dump
    def _access(self, transmittal: Any, **kwargs: Any) -> Any:
        cells = transmittals.access_table(transmittal)
        recipients = [r.user_id for r in transmittal.recipients]

        def access(version_id: str, user_id: str) -> dict[str, Any]:
            cell = cells.get((version_id, user_id))
            return {
                "user_id": user_id,
                "opened_at": cell.opened_at if cell else None,
                "downloaded_at": cell.downloaded_at if cell else None,
            }

        items = [
            {
                "document_id": item.version.document_id,
                "version": item.version.number,
                "review_state": item.version.review_state,
                "access": [access(item.version_id, user_id) for user_id in recipients],
            }
            for item in transmittal.items
        ]
        return _With(transmittal, recipients=recipients, items=items)


# ------------------------------------------------------------------ document requests


class RequestItemSchema(Schema):
    id = _required(fields.String)
    title = _required(fields.String)
    description = _nullable(fields.String)
    required = _required(fields.Boolean)
    accepted_types = _required(fields.List, fields.String())
    status = _required(
        fields.String, metadata={"enum": ["pending", "submitted", "accepted", "not_applicable"]}
    )
    not_applicable_reason = _nullable(fields.String)
    review_comment = _nullable(fields.String)
    documents = _required(fields.List, fields.String())

    @pre_dump
    def _lists(self, item: Any, **kwargs: Any) -> Any:
        return _With(
            item,
            accepted_types=item.accepted_types.split(",") if item.accepted_types else [],
            documents=[f.document_id for f in item.files],
        )


class ProgressSchema(Schema):
    done = _required(fields.Integer)
    total = _required(fields.Integer)
    percent = _required(fields.Integer)


class DocumentRequestSchema(Schema):
    id = _required(fields.String)
    space_id = _required(fields.String)
    title = _required(fields.String)
    message = _nullable(fields.String)
    due_date = _required(fields.Date)
    template = _nullable(fields.String, attribute="template_key")
    recurrence = _nullable(fields.String)
    reminders = _nullable(fields.Dict)
    owner = _required(fields.String, attribute="owner_id")
    status = _required(fields.String, metadata={"enum": ["open", "completed"]})
    completed_at = _nullable(fields.DateTime)
    progress = _required(fields.Nested, ProgressSchema)
    items = _required(fields.List, fields.Nested(RequestItemSchema))

    @pre_dump
    def _progress(self, found: Any, **kwargs: Any) -> Any:
        return _With(
            found,
            status="completed" if found.completed_at else "open",
            progress=request_service.progress_of(found),
        )


class RequestTemplateSchema(Schema):
    key = _required(fields.String)
    name = _required(fields.String)
    description = _nullable(fields.String)
    recurrence = _nullable(fields.String)
    items = _required(fields.List, fields.Dict())


# ------------------------------------------------------------------ OCR, forms and search


class OcrPageSchema(Schema):
    number = _required(fields.Integer)
    text = _required(fields.String)
    confidence = _nullable(Number)


class VersionTextSchema(Schema):
    version = _required(fields.Integer)
    status = _required(fields.String)
    error = _nullable(fields.String)
    page_count = fields.Integer(allow_none=True)
    mean_confidence = Number(allow_none=True)
    searchable_copy = fields.Boolean()
    pages = _required(fields.List, fields.Nested(OcrPageSchema))


class CompareBoxSchema(Schema):
    box = _required(
        fields.List,
        Number(),
        metadata={"description": "[x0, y0, x1, y1], fractions of the page from its top left"},
    )


class CompareWordSchema(Schema):
    text = _required(fields.String)
    box = _required(fields.List, Number())


class ComparePageSchema(Schema):
    from_page = _nullable(fields.Integer, metadata={"description": "null: a page added"})
    to_page = _nullable(fields.Integer, metadata={"description": "null: a page removed"})
    changed_areas = _required(fields.List, fields.Nested(CompareBoxSchema))
    words_added = _required(fields.List, fields.Nested(CompareWordSchema))
    words_removed = _required(fields.List, fields.Nested(CompareWordSchema))
    words_omitted = _required(fields.Integer)
    overlay_url = _nullable(fields.String)
    from_url = _nullable(fields.String)
    to_url = _nullable(fields.String)
    image_size = _nullable(fields.List, fields.Integer())


class CompareEntitySchema(Schema):
    handle = _required(fields.String)
    type = _required(fields.String)
    layer = _required(fields.String)
    extents = _nullable(fields.List, Number())
    box = _nullable(fields.List, Number())


class CompareDxfSchema(Schema):
    matched_by = _required(fields.String)
    added = _required(fields.List, fields.Nested(CompareEntitySchema))
    removed = _required(fields.List, fields.Nested(CompareEntitySchema))
    changed = _required(fields.List, fields.Nested(CompareEntitySchema))


class CompareSchema(Schema):
    document_id = _required(fields.String)
    from_ = _required(fields.Integer, data_key="from", attribute="from")
    to = _required(fields.Integer)
    status = _required(
        fields.String, validate=validate.OneOf(["queued", "running", "done", "failed"])
    )
    error = _nullable(fields.String)
    kind = _nullable(fields.String)
    changed = _nullable(fields.Boolean)
    pages = _required(fields.List, fields.Nested(ComparePageSchema))
    overlay_urls = _required(fields.List, fields.String())
    dxf = _nullable(fields.Nested, CompareDxfSchema)


class LabelSchema(Schema):
    es = _required(fields.String)
    en = _required(fields.String)


class FormTemplateFieldSchema(Schema):
    name = _required(fields.String)
    label = _required(fields.Nested, LabelSchema)
    kind = _required(fields.String)


class FormTemplateSchema(Schema):
    name = _required(fields.String)
    title = _required(fields.Nested, LabelSchema)
    template_fields = _required(
        fields.List, fields.Nested(FormTemplateFieldSchema), data_key="fields", attribute="fields"
    )


class FormTemplatesSchema(Schema):
    items = _required(fields.List, fields.Nested(FormTemplateSchema))
    next = _nullable(fields.String, dump_default=None)


def _form_field(field: type[fields.Field], *args: Any, **kwargs: Any) -> Any:
    # Every key is in the answer, null when the stored field lacks it.
    return _nullable(field, *args, dump_default=None, **kwargs)


class FormFieldSchema(Schema):
    value = _form_field(fields.Raw)
    confidence = _form_field(Number)
    low_confidence = _form_field(fields.Boolean)
    page = _form_field(fields.Integer)
    box = _form_field(fields.List, Number())
    source_text = _form_field(fields.String)
    confirmed = _form_field(fields.Boolean)
    corrected = _form_field(fields.Boolean)


class FormSchema(Schema):
    id = _required(fields.String)
    template = _required(fields.String)
    space_id = _required(fields.String)
    document_id = _required(fields.String)
    version = _required(fields.Integer)
    status = _required(fields.String)
    ocr_status = _nullable(fields.String)
    ocr_error = _nullable(fields.String)
    form_fields = _required(
        fields.Dict,
        keys=fields.String(),
        values=fields.Nested(FormFieldSchema),
        data_key="fields",
        attribute="form_fields",
    )
    confirmed_values = _required(fields.Dict, keys=fields.String(), values=fields.String())
    created_by = _required(fields.String, attribute="created_by_id")
    created_at = _required(fields.DateTime)
    confirmed_by = _nullable(fields.String, attribute="confirmed_by_id")
    confirmed_at = _nullable(fields.DateTime)

    @pre_dump
    def _ocr(self, form: Any, **kwargs: Any) -> Any:
        result = ocr_service.result_for(form.version_id)
        return _With(
            form,
            version=form.version.number,
            ocr_status=result.status if result else None,
            ocr_error=result.error if result else None,
            form_fields=form.fields or {},
            confirmed_values=forms.confirmed_values(form),
        )


class JobReferenceSchema(Schema):
    id = _nullable(fields.String)
    status = _nullable(fields.String)


class FormAcceptedSchema(Schema):
    """A form waiting for its document's OCR (202)."""

    job = _required(fields.Nested, JobReferenceSchema)
    form = _required(fields.Nested, FormSchema)


class SearchHitSchema(Schema):
    document_id = _required(fields.String, attribute="document.id")
    space_id = _required(fields.String, attribute="document.space_id")
    title = _required(fields.String, attribute="document.title")
    snippet = _required(fields.String)
    highlights = _required(fields.List, fields.String())

    @pre_dump
    def _highlights(self, hit: Any, **kwargs: Any) -> Any:
        return _With(hit, highlights=[text for text, matched in hit.parts if matched])


class SearchResultsSchema(Schema):
    query = _required(fields.String)
    items = _required(fields.List, fields.Nested(SearchHitSchema))
    next = _nullable(fields.String, dump_default=None)


# ------------------------------------------------------------------ signing and validation


class SignerSchema(Schema):
    id = _required(fields.String)
    user_id = _required(fields.String)
    name = _required(fields.String, attribute="user.name")
    order = _required(fields.Integer)
    status = _required(fields.String)
    method = _nullable(fields.String)
    signed_at = _nullable(fields.DateTime)
    certificate_sha256 = _nullable(fields.String, attribute="certificate_fingerprint")
    certificate_subject = _nullable(fields.String)
    signed_sha256 = _nullable(fields.String)
    result_sha256 = _nullable(fields.String)
    version = _nullable(fields.Integer, attribute="result_version_number")
    decline_reason = _nullable(fields.String)
    error = _nullable(fields.String, attribute="last_error")


class SignatureRequestSchema(Schema):
    id = _required(fields.String)
    document_id = _required(fields.String)
    version = _required(fields.Integer, attribute="version_number")
    current_version = _required(fields.Integer, attribute="current_version_number")
    level = _required(fields.String, metadata={"enum": ["B-B", "B-T", "B-LT", "B-LTA"]})
    certify = _required(fields.Boolean)
    any_order = _required(fields.Boolean)
    status = _required(fields.String)
    due_date = _nullable(fields.Date)
    message = _nullable(fields.String)
    created_by = _required(fields.String, attribute="created_by_id")
    created_at = _required(fields.DateTime)
    completed_at = _nullable(fields.DateTime)
    signers = _required(fields.List, fields.Nested(SignerSchema))


class JobResultSchema(Schema):
    request_id = _required(fields.String)
    document_id = _required(fields.String)
    version = _nullable(fields.Integer)
    sha256 = _nullable(fields.String)


class JobSchema(Schema):
    """A signing job; ``result`` once done, ``error`` once failed."""

    id = _required(fields.String)
    status = _required(fields.String, metadata={"enum": ["queued", "running", "done", "failed"]})
    result = fields.Nested(JobResultSchema)
    error = fields.String(allow_none=True)

    @pre_dump
    def _state(self, signer: Any, **kwargs: Any) -> dict[str, Any]:
        status = signature_service.job_status(signer)
        job: dict[str, Any] = {"id": signer.id, "status": status}
        if status == "done":
            job["result"] = {
                "request_id": signer.request_id,
                "document_id": signer.request.document_id,
                "version": signer.result_version_number,
                "sha256": signer.result_sha256,
            }
        elif status == "failed":
            job["error"] = signer.last_error
        return job


class SigningAcceptedSchema(Schema):
    """A signature queued as a job (202)."""

    job = _required(fields.Nested, JobSchema)
    request = _required(fields.Nested, SignatureRequestSchema)


class CodeSentSchema(Schema):
    sent = _required(fields.Boolean)
    expires_at = _nullable(fields.DateTime)


class ValidationProblemSchema(Schema):
    code = _required(fields.String)
    text = _required(fields.String)
    details = _required(fields.Dict, keys=fields.String(), values=fields.String())


class SignatureReportSchema(Schema):
    field = _required(fields.String)
    signer = _nullable(fields.String)
    signer_certificate_sha256 = _nullable(fields.String)
    signed_at = _nullable(fields.DateTime)
    level = _nullable(fields.String)
    intact = _required(fields.Boolean)
    valid = _required(fields.Boolean)
    trusted = _required(fields.Boolean)
    revoked = _required(fields.Boolean)
    timestamp = _nullable(fields.DateTime)
    coverage = _required(fields.String)
    modification_level = _nullable(fields.String)
    certification = _required(fields.Boolean)
    bottom_line = _required(fields.Boolean)
    long_term_validation = _required(fields.Boolean)
    reason = _nullable(fields.String)
    problems = _required(fields.List, fields.Nested(ValidationProblemSchema))


class TimestampReportSchema(Schema):
    field = _required(fields.String)
    authority = _nullable(fields.String)
    time = _nullable(fields.DateTime)
    expires = _nullable(fields.DateTime)
    intact = _required(fields.Boolean)
    valid = _required(fields.Boolean)
    trusted = _required(fields.Boolean)
    coverage = _required(fields.String)
    modification_level = _nullable(fields.String)
    bottom_line = _required(fields.Boolean)
    long_term_validation = _required(fields.Boolean)
    reason = _nullable(fields.String)
    problems = _required(fields.List, fields.Nested(ValidationProblemSchema))


class ValidationReportSchema(Schema):
    valid = _required(fields.Boolean)
    signatures = _required(fields.List, fields.Nested(SignatureReportSchema))
    document_timestamps = _required(fields.List, fields.Nested(TimestampReportSchema))
    reason = _nullable(fields.String)
    document_sha256 = _required(fields.String)
    validated_at = _required(fields.DateTime)
    problems = _required(fields.List, fields.Nested(ValidationProblemSchema))


# ------------------------------------------------------------------ audit


class AuditEventSchema(Schema):
    id = _required(fields.String)
    seq = _required(fields.Integer)
    at = _required(fields.DateTime)
    actor = _nullable(fields.String, attribute="actor_id")
    actor_email = _nullable(fields.String)
    action = _required(fields.String)
    target = _nullable(fields.String)
    ip = _nullable(fields.String)
    details = _nullable(fields.Dict)
    hash = _required(fields.String)
    prev_hash = _required(fields.String)


class AuditVerifySchema(Schema):
    ok = _required(fields.Boolean)
    events = _required(fields.Integer)
    first_bad = _nullable(fields.Integer)


# ------------------------------------------------------------------ request bodies
# Published in the document only: the views read these fields themselves, with the
# error messages docs/api.md promises. Unknown fields are ignored, not refused.


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


class TokenRequestSchema(_Body):
    email = _required(fields.String)
    password = _required(fields.String)
    otp = fields.String()


class OtpSchema(_Body):
    otp = _required(fields.String)


class NewClientSchema(_Body):
    name = _required(fields.String)
    tax_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": ["person", "company"]})


class NewUserSchema(_Body):
    email = _required(fields.String)
    name = _required(fields.String)
    role = _required(fields.String, metadata={"enum": ["admin", "staff", "client"]})
    client_id = fields.String(allow_none=True)
    password = fields.String()
    locale = fields.String()


class NewSpaceSchema(_Body):
    name = _required(fields.String)
    kind = fields.String(metadata={"enum": ["case", "fiscal_year", "project", "general"]})


class SpaceChangesSchema(_Body):
    name = fields.String()
    label_scheme = fields.String()
    review_sla = fields.Dict()


class NewMemberSchema(_Body):
    user_id = _required(fields.String)
    permission = _required(fields.String, metadata={"enum": ["view", "contribute", "manage"]})


class NewDocumentSchema(_Body):
    file = _required(fields.Raw, metadata={"type": "string", "format": "binary"})
    title = fields.String()
    visibility = fields.String(metadata={"enum": ["shared", "internal"]})
    category = fields.String()
    folder_id = fields.String()
    note = fields.String()


class NewVersionSchema(_Body):
    file = _required(fields.Raw, metadata={"type": "string", "format": "binary"})
    note = fields.String()


class FileSchema(_Body):
    file = _required(fields.Raw, metadata={"type": "string", "format": "binary"})


class RenameSchema(_Body):
    title = _required(fields.String)


class ReviewActionSchema(_Body):
    action = _required(fields.String, metadata={"enum": ["check", "validate", "request_changes"]})
    comment = fields.String()
    label = fields.String()


class NewCommentSchema(_Body):
    body = _required(fields.String)
    version = fields.Integer()
    page = fields.Integer()
    x = fields.Float()
    y = fields.Float()


class NewRequestItemSchema(_Body):
    title = _required(fields.String)
    description = fields.String()
    required = fields.Boolean()


class NewRequestSchema(_Body):
    title = fields.String()
    due_date = fields.Date()
    items = fields.List(fields.Nested(NewRequestItemSchema))
    template = fields.String()
    reminders = fields.Dict()
    recurrence = fields.String()
    message = fields.String()


class ReasonSchema(_Body):
    reason = fields.String()


class ItemReviewSchema(_Body):
    action = _required(fields.String, metadata={"enum": ["accept", "reject", "reopen"]})
    comment = fields.String()


class NewTransmittalSchema(_Body):
    document_ids = _required(fields.List, fields.String())
    recipient_ids = _required(fields.List, fields.String())
    due_date = fields.Date()
    message = fields.String()


class SignerRefSchema(_Body):
    user_id = _required(fields.String)


class StampSchema(_Body):
    page = fields.Integer()
    position = fields.String()


class NewSignatureRequestSchema(_Body):
    signers = _required(fields.List, fields.Nested(SignerRefSchema))
    level = fields.String(metadata={"enum": ["B-B", "B-T", "B-LT", "B-LTA"]})
    certify = fields.Boolean()
    any_order = fields.Boolean()
    due_date = fields.Date()
    message = fields.String()
    stamp = fields.Nested(StampSchema)


class SignSchema(_Body):
    otp = _required(fields.String)
    method = fields.String()


class SignWithCertificateSchema(_Body):
    otp = _required(fields.String)
    pkcs12 = fields.Raw(metadata={"type": "string", "format": "binary"})
    password = fields.String()


class NewFormSchema(_Body):
    template = _required(fields.String)
    document_id = _required(fields.String)


class FormChangesSchema(_Body):
    form_fields = fields.Dict(keys=fields.String(), data_key="fields")
    confirm = fields.Boolean()
