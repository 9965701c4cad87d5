"""Persistence: SQLAlchemy 2 models."""

from app.models.alert import Alert, AlertRecipient, Notification
from app.models.audit import AuditEvent
from app.models.campaign import Campaign, CampaignClient, ClientTag
from app.models.client import (
    PERMISSION_RANK,
    Client,
    ClientKind,
    Folder,
    Permission,
    Space,
    SpaceKind,
    SpaceMember,
)
from app.models.conversation import (
    InboundMail,
    Incident,
    Message,
    ReplyToken,
    Thread,
    ThreadRead,
)
from app.models.document import Document, DocumentVersion, VersionSource, Visibility
from app.models.mail import OutboxMail
from app.models.ocr import FormStatus, FormSubmission, OcrResult, OcrStatus, SearchEntry
from app.models.onboarding import Onboarding, Service
from app.models.preview import DocumentPreview, PreviewStatus
from app.models.request import (
    DocumentRequest,
    ReminderSent,
    RequestItem,
    RequestItemFile,
    RequestTemplate,
)
from app.models.review import (
    Comment,
    ReviewEvent,
    Transmittal,
    TransmittalItem,
    TransmittalRecipient,
    VersionAccess,
)
from app.models.signature import (
    SignatureCode,
    SignatureLevel,
    SignatureMethod,
    SignatureRequest,
    SignatureRequestSigner,
    SignatureRequestStatus,
    SignerCertificate,
    SignerStatus,
)
from app.models.upload import BlobCheck, Upload
from app.models.user import (
    AccountToken,
    ApiToken,
    LoginThrottle,
    Role,
    Setting,
    User,
    UserSession,
)

__all__ = [
    "AccountToken",
    "Alert",
    "AlertRecipient",
    "ApiToken",
    "AuditEvent",
    "BlobCheck",
    "Campaign",
    "CampaignClient",
    "Client",
    "ClientKind",
    "ClientTag",
    "Comment",
    "Document",
    "DocumentPreview",
    "DocumentRequest",
    "DocumentVersion",
    "Folder",
    "FormStatus",
    "FormSubmission",
    "InboundMail",
    "Incident",
    "LoginThrottle",
    "Message",
    "Notification",
    "OcrResult",
    "OcrStatus",
    "Onboarding",
    "OutboxMail",
    "PERMISSION_RANK",
    "Permission",
    "PreviewStatus",
    "ReminderSent",
    "ReplyToken",
    "RequestItem",
    "RequestItemFile",
    "RequestTemplate",
    "ReviewEvent",
    "Role",
    "SearchEntry",
    "Service",
    "Setting",
    "SignatureCode",
    "SignatureLevel",
    "SignatureMethod",
    "SignatureRequest",
    "SignatureRequestSigner",
    "SignatureRequestStatus",
    "SignerCertificate",
    "SignerStatus",
    "Space",
    "SpaceKind",
    "SpaceMember",
    "Thread",
    "ThreadRead",
    "Transmittal",
    "TransmittalItem",
    "TransmittalRecipient",
    "Upload",
    "User",
    "UserSession",
    "VersionAccess",
    "VersionSource",
    "Visibility",
]
