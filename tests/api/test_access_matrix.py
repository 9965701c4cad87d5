"""Every route of the web UI and the API, with every role, against every kind of object.

Anything a caller may not know exists answers 404; anonymous callers get 401 (API)
or a redirect to the login page (web). A route added without a row here fails
``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from portal_signing import annual_accounts_pdf, signable_document, signature_request, signing_job
from portal_testing import CSRF_RE, World, api_token, build_world, web_login

ROLES = ("admin", "staff", "outsider", "client_a", "client_b", "anonymous")


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    rule: str  # the Flask rule this case exercises
    url: Callable[[World], str]
    expected: tuple[Any, ...]  # one answer per role in ROLES
    body: Callable[[World], Any] | None = None  # JSON, multipart fields, or raw bytes
    multipart: bool = False
    headers: Callable[[World], dict[str, str]] | None = None


def _file(name: str = "nuevo.pdf") -> tuple[io.BytesIO, str]:
    return (io.BytesIO(b"%PDF-1.4 nuevo"), name)


# ---------------------------------------------------------------- API
A = 401
API_CASES = [
    Case("me", "GET", "/api/v1/me", lambda w: "/api/v1/me", (200, 200, 200, 200, 200, A)),
    Case(
        "start totp",
        "POST",
        "/api/v1/me/mfa/totp",
        lambda w: "/api/v1/me/mfa/totp",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "confirm totp without enrolment",
        "POST",
        "/api/v1/me/mfa/totp/confirm",
        lambda w: "/api/v1/me/mfa/totp/confirm",
        (422, 422, 422, 422, 422, A),
        body=lambda w: {"otp": "123456"},
    ),
    Case(
        "revoke token",
        "DELETE",
        "/api/v1/auth/token",
        lambda w: "/api/v1/auth/token",
        (204, 204, 204, 204, 204, A),
    ),
    Case(
        "openapi",
        "GET",
        "/api/v1/openapi.json",
        lambda w: "/api/v1/openapi.json",
        (200, 200, 200, 200, 200, 200),
    ),
    Case(
        "list clients",
        "GET",
        "/api/v1/clients",
        lambda w: "/api/v1/clients",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "create client",
        "POST",
        "/api/v1/clients",
        lambda w: "/api/v1/clients",
        (201, 201, 201, 403, 403, A),
        body=lambda w: {"name": "Nuevo S.L.", "kind": "company"},
    ),
    Case(
        "create user",
        "POST",
        "/api/v1/users",
        lambda w: "/api/v1/users",
        (201, 403, 403, 403, 403, A),
        body=lambda w: {
            "email": "nuevo@example.com",
            "name": "Nuevo",
            "role": "staff",
            "password": "una clave larga",
        },
    ),
    Case(
        "list spaces of client A",
        "GET",
        "/api/v1/clients/<client_id>/spaces",
        lambda w: f"/api/v1/clients/{w.firm_a.id}/spaces",
        (200, 200, 200, 200, 404, A),
    ),
    Case(
        "create space for client A",
        "POST",
        "/api/v1/clients/<client_id>/spaces",
        lambda w: f"/api/v1/clients/{w.firm_a.id}/spaces",
        (201, 201, 201, 403, 404, A),
        body=lambda w: {"name": "Otro", "kind": "case"},
    ),
    Case(
        "space A",
        "GET",
        "/api/v1/spaces/<space_id>",
        lambda w: f"/api/v1/spaces/{w.space_a.id}",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "add member to space A",
        "POST",
        "/api/v1/spaces/<space_id>/members",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/members",
        (201, 201, 404, 403, 404, A),
        body=lambda w: {"user_id": w.outsider.id, "permission": "view"},
    ),
    Case(
        "upload to space A",
        "POST",
        "/api/v1/spaces/<space_id>/documents",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/documents",
        (201, 201, 404, 201, 404, A),
        body=lambda w: {"file": _file()},
        multipart=True,
    ),
    Case(
        "documents of space A",
        "GET",
        "/api/v1/spaces/<space_id>/documents",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/documents",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "unknown document",
        "GET",
        "/api/v1/documents/<document_id>",
        lambda w: "/api/v1/documents/0123456789abcdef01234567",
        (404, 404, 404, 404, 404, A),
    ),
]
for kind, doc, client_a_sees in (("shared", "shared", True), ("internal", "internal", False)):
    see = lambda ok, c=client_a_sees: (ok, ok, 404, ok if c else 404, 404, A)  # noqa: E731
    API_CASES += [
        Case(
            f"{kind} document",
            "GET",
            "/api/v1/documents/<document_id>",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}",
            see(200),
        ),
        Case(
            f"rename {kind} document",
            "PATCH",
            "/api/v1/documents/<document_id>",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}",
            (200, 200, 404, 403 if client_a_sees else 404, 404, A),
            body=lambda w: {"title": "Título nuevo"},
        ),
        Case(
            f"delete {kind} document",
            "DELETE",
            "/api/v1/documents/<document_id>",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}",
            (204, 204, 404, 403 if client_a_sees else 404, 404, A),
        ),
        Case(
            f"{kind} versions",
            "GET",
            "/api/v1/documents/<document_id>/versions",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions",
            see(200),
        ),
        Case(
            f"new version of {kind}",
            "POST",
            "/api/v1/documents/<document_id>/versions",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions",
            see(201),
            body=lambda w: {"file": _file()},
            multipart=True,
        ),
        Case(
            f"{kind} version 1",
            "GET",
            "/api/v1/documents/<document_id>/versions/<int:number>",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions/1",
            see(200),
        ),
        Case(
            f"{kind} content",
            "GET",
            "/api/v1/documents/<document_id>/versions/<int:number>/content",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions/1/content",
            see(200),
        ),
        Case(
            f"restore {kind}",
            "POST",
            "/api/v1/documents/<document_id>/versions/<int:number>/restore",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions/1/restore",
            see(201),
        ),
    ]
API_CASES += [
    Case(
        "request in space A",
        "POST",
        "/api/v1/spaces/<space_id>/requests",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/requests",
        (201, 201, 404, 403, 404, A),
        body=lambda w: {"title": "IVA", "due_date": "2099-01-01", "items": [{"title": "Facturas"}]},
    ),
    Case(
        "requests of space A",
        "GET",
        "/api/v1/spaces/<space_id>/requests",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/requests",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "request",
        "GET",
        "/api/v1/requests/<request_id>",
        lambda w: f"/api/v1/requests/{w.request.id}",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "request templates",
        "GET",
        "/api/v1/request-templates",
        lambda w: "/api/v1/request-templates",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "upload for item",
        "POST",
        "/api/v1/request-items/<item_id>/upload",
        lambda w: f"/api/v1/request-items/{w.request.items[0].id}/upload",
        (201, 201, 404, 201, 404, A),
        body=lambda w: {"file": _file("dni.pdf")},
        multipart=True,
    ),
    Case(
        "item not applicable",
        "POST",
        "/api/v1/request-items/<item_id>/not-applicable",
        lambda w: f"/api/v1/request-items/{w.request.items[0].id}/not-applicable",
        (200, 200, 404, 200, 404, A),
        body=lambda w: {"reason": "No tengo"},
    ),
    Case(
        "accept item",
        "POST",
        "/api/v1/request-items/<item_id>/review",
        lambda w: f"/api/v1/request-items/{w.request.items[1].id}/review",
        (200, 200, 404, 403, 404, A),
        body=lambda w: {"action": "accept"},
    ),
    Case(
        "configure space A",
        "PATCH",
        "/api/v1/spaces/<space_id>",
        lambda w: f"/api/v1/spaces/{w.space_a.id}",
        (200, 200, 404, 403, 404, A),
        body=lambda w: {"label_scheme": "procore"},
    ),
    Case(
        "validate shared",
        "POST",
        "/api/v1/documents/<document_id>/review",
        lambda w: f"/api/v1/documents/{w.shared.id}/review",
        (403, 403, 404, 200, 404, A),
        body=lambda w: {"action": "validate"},
    ),
    Case(
        "validate internal",
        "POST",
        "/api/v1/documents/<document_id>/review",
        lambda w: f"/api/v1/documents/{w.internal.id}/review",
        (200, 403, 404, 404, 404, A),
        body=lambda w: {"action": "validate"},
    ),
    Case(
        "review of internal",
        "GET",
        "/api/v1/documents/<document_id>/review",
        lambda w: f"/api/v1/documents/{w.internal.id}/review",
        (200, 200, 404, 404, 404, A),
    ),
    Case(
        "review of shared",
        "GET",
        "/api/v1/documents/<document_id>/review",
        lambda w: f"/api/v1/documents/{w.shared.id}/review",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "comment internal",
        "POST",
        "/api/v1/documents/<document_id>/comments",
        lambda w: f"/api/v1/documents/{w.internal.id}/comments",
        (201, 201, 404, 404, 404, A),
        body=lambda w: {"body": "hola"},
    ),
    Case(
        "comments of shared",
        "GET",
        "/api/v1/documents/<document_id>/comments",
        lambda w: f"/api/v1/documents/{w.shared.id}/comments",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "resolve internal comment",
        "POST",
        "/api/v1/comments/<comment_id>/resolve",
        lambda w: f"/api/v1/comments/{w.comment_internal.id}/resolve",
        (200, 200, 404, 404, 404, A),
    ),
    Case(
        "resolve shared comment",
        "POST",
        "/api/v1/comments/<comment_id>/resolve",
        lambda w: f"/api/v1/comments/{w.comment_shared.id}/resolve",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "alerts", "GET", "/api/v1/alerts", lambda w: "/api/v1/alerts", (200, 200, 200, 200, 200, A)
    ),
    Case(
        "notifications",
        "GET",
        "/api/v1/notifications",
        lambda w: "/api/v1/notifications",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "read notifications",
        "POST",
        "/api/v1/notifications/read",
        lambda w: "/api/v1/notifications/read",
        (204, 204, 204, 204, 204, A),
    ),
    Case(
        "transmittal in space A",
        "POST",
        "/api/v1/spaces/<space_id>/transmittals",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/transmittals",
        (201, 201, 404, 403, 404, A),
        body=lambda w: {"document_ids": [w.shared.id], "recipient_ids": [w.client_a.id]},
    ),
    Case(
        "transmittal",
        "GET",
        "/api/v1/transmittals/<transmittal_id>",
        lambda w: f"/api/v1/transmittals/{w.transmittal.id}",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "other client's document",
        "GET",
        "/api/v1/documents/<document_id>",
        lambda w: f"/api/v1/documents/{w.other_doc.id}",
        (200, 404, 404, 404, 200, A),
    ),
    Case("audit", "GET", "/api/v1/audit", lambda w: "/api/v1/audit", (200, 403, 403, 403, 403, A)),
    Case(
        "audit verify",
        "GET",
        "/api/v1/audit/verify",
        lambda w: "/api/v1/audit/verify",
        (200, 403, 403, 403, 403, A),
    ),
]

# ---------------------------------------------------------------- web
L = "login"  # redirect to the login page
WEB_CASES = [
    Case("dashboard", "GET", "/", lambda w: "/", (200, 200, 200, 200, 200, L)),
    Case(
        "new request form",
        "GET",
        "/spaces/<space_id>/requests/new",
        lambda w: f"/spaces/{w.space_a.id}/requests/new",
        (200, 200, 404, 403, 404, L),
    ),
    Case(
        "send request",
        "POST",
        "/spaces/<space_id>/requests/new",
        lambda w: f"/spaces/{w.space_a.id}/requests/new",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {
            "title": "IVA",
            "due_date": "2099-01-01",
            "items": "Facturas",
            "days_before": "7,1",
            "overdue_every_days": "3",
        },
    ),
    Case(
        "request page",
        "GET",
        "/requests/<request_id>",
        lambda w: f"/requests/{w.request.id}",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "upload for item",
        "POST",
        "/request-items/<item_id>/upload",
        lambda w: f"/request-items/{w.request.items[0].id}/upload",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"file": _file("dni.pdf")},
        multipart=True,
    ),
    Case(
        "item not applicable",
        "POST",
        "/request-items/<item_id>/not-applicable",
        lambda w: f"/request-items/{w.request.items[0].id}/not-applicable",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"reason": "No tengo"},
    ),
    Case(
        "accept item",
        "POST",
        "/request-items/<item_id>/review",
        lambda w: f"/request-items/{w.request.items[1].id}/review",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {"action": "accept"},
    ),
    Case(
        "templates",
        "GET",
        "/request-templates",
        lambda w: "/request-templates?key=renta",
        (200, 200, 200, 403, 403, L),
    ),
    Case(
        "edit template",
        "POST",
        "/request-templates",
        lambda w: "/request-templates",
        (302, 302, 302, 403, 403, L),
        body=lambda w: {"key": "renta", "name": "Renta", "items": "DNI\n? Donativos"},
    ),
    Case(
        "space review settings",
        "POST",
        "/spaces/<space_id>/settings",
        lambda w: f"/spaces/{w.space_a.id}/settings",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {
            "cfg-label_scheme": "iso19650",
            "cfg-read_days": "3",
            "cfg-decision_days": "7",
        },
    ),
    Case("clients", "GET", "/clients/", lambda w: "/clients/", (200, 200, 200, 403, 403, L)),
    Case(
        "create client",
        "POST",
        "/clients/",
        lambda w: "/clients/",
        (302, 302, 302, 403, 403, L),
        body=lambda w: {"name": "Nuevo S.L.", "kind": "company"},
    ),
    Case(
        "client A",
        "GET",
        "/clients/<client_id>",
        lambda w: f"/clients/{w.firm_a.id}",
        (200, 200, 200, 403, 404, L),
    ),
    Case(
        "create space for client A",
        "POST",
        "/clients/<client_id>",
        lambda w: f"/clients/{w.firm_a.id}",
        (302, 302, 302, 403, 404, L),
        body=lambda w: {"space-name": "Otro", "space-kind": "case"},
    ),
    Case(
        "space A",
        "GET",
        "/spaces/<space_id>",
        lambda w: f"/spaces/{w.space_a.id}",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "upload to space A",
        "POST",
        "/spaces/<space_id>/upload",
        lambda w: f"/spaces/{w.space_a.id}/upload",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"up-file": _file(), "up-visibility": "shared", "up-folder_id": ""},
        multipart=True,
    ),
    Case(
        "add member to space A",
        "POST",
        "/spaces/<space_id>/members",
        lambda w: f"/spaces/{w.space_a.id}/members",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {"mem-user_id": w.outsider.id, "mem-permission": "view"},
    ),
    Case(
        "remove member from space A",
        "POST",
        "/spaces/<space_id>/members/<user_id>/remove",
        lambda w: f"/spaces/{w.space_a.id}/members/{w.client_a.id}/remove",
        (302, 302, 404, 403, 404, L),
    ),
    Case(
        "folder in space A",
        "POST",
        "/spaces/<space_id>/folders",
        lambda w: f"/spaces/{w.space_a.id}/folders",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {"fold-name": "Escritos"},
    ),
    Case(
        "other client's document",
        "GET",
        "/documents/<document_id>",
        lambda w: f"/documents/{w.other_doc.id}",
        (200, 404, 404, 404, 200, L),
    ),
    Case(
        "admin users", "GET", "/admin/users", lambda w: "/admin/users", (200, 403, 403, 403, 403, L)
    ),
    Case(
        "create staff user",
        "POST",
        "/admin/users",
        lambda w: "/admin/users",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {
            "name": "Nuevo",
            "email": "nuevo@example.com",
            "role": "staff",
            "locale": "es",
        },
    ),
    Case(
        "deactivate user",
        "POST",
        "/admin/users/<user_id>/active",
        lambda w: f"/admin/users/{w.outsider.id}/active",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {"active": "0"},
    ),
    Case(
        "settings",
        "GET",
        "/admin/settings",
        lambda w: "/admin/settings",
        (200, 403, 403, 403, 403, L),
    ),
    Case("audit", "GET", "/admin/audit", lambda w: "/admin/audit", (200, 403, 403, 403, 403, L)),
    Case(
        "validate shared",
        "POST",
        "/documents/<document_id>/review",
        lambda w: f"/documents/{w.shared.id}/review",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"action": "validate"},
    ),
    Case(
        "comment internal",
        "POST",
        "/documents/<document_id>/comments",
        lambda w: f"/documents/{w.internal.id}/comments",
        (302, 302, 404, 404, 404, L),
        body=lambda w: {"body": "hola"},
    ),
    Case(
        "resolve internal comment",
        "POST",
        "/comments/<comment_id>/resolve",
        lambda w: f"/comments/{w.comment_internal.id}/resolve",
        (302, 302, 404, 404, 404, L),
    ),
    Case(
        "view shared",
        "GET",
        "/documents/<document_id>/versions/<int:number>/view",
        lambda w: f"/documents/{w.shared.id}/versions/1/view",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "view internal",
        "GET",
        "/documents/<document_id>/versions/<int:number>/view",
        lambda w: f"/documents/{w.internal.id}/versions/1/view",
        (200, 200, 404, 404, 404, L),
    ),
    Case(
        "pdf of shared",
        "GET",
        "/documents/<document_id>/versions/<int:number>/raw",
        lambda w: f"/documents/{w.shared.id}/versions/1/raw",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "pdf of other client",
        "GET",
        "/documents/<document_id>/versions/<int:number>/raw",
        lambda w: f"/documents/{w.other_doc.id}/versions/1/raw",
        (200, 404, 404, 404, 200, L),
    ),
    Case(
        "new transmittal form",
        "GET",
        "/spaces/<space_id>/transmittals/new",
        lambda w: f"/spaces/{w.space_a.id}/transmittals/new",
        (200, 200, 404, 403, 404, L),
    ),
    Case(
        "send transmittal",
        "POST",
        "/spaces/<space_id>/transmittals/new",
        lambda w: f"/spaces/{w.space_a.id}/transmittals/new",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {"document_ids": w.shared.id, "recipient_ids": w.client_a.id},
    ),
    Case(
        "transmittal",
        "GET",
        "/transmittals/<transmittal_id>",
        lambda w: f"/transmittals/{w.transmittal.id}",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "transmittals of space A",
        "GET",
        "/spaces/<space_id>/transmittals",
        lambda w: f"/spaces/{w.space_a.id}/transmittals",
        (200, 200, 404, 200, 404, L),
    ),
    Case("overview", "GET", "/overview", lambda w: "/overview", (200, 200, 200, 200, 200, L)),
    Case(
        "notifications",
        "GET",
        "/notifications",
        lambda w: "/notifications",
        (200, 200, 200, 200, 200, L),
    ),
    Case(
        "read notifications",
        "POST",
        "/notifications/read",
        lambda w: "/notifications/read",
        (302, 302, 302, 302, 302, L),
    ),
    Case("account", "GET", "/account/", lambda w: "/account/", (200, 200, 200, 200, 200, L)),
    Case(
        "mfa setup", "GET", "/account/mfa", lambda w: "/account/mfa", (200, 200, 200, 200, 200, L)
    ),
    Case(
        "wrong mfa code",
        "POST",
        "/account/mfa",
        lambda w: "/account/mfa",
        (200, 200, 200, 200, 200, L),
        body=lambda w: {"code": "000000"},
    ),
    Case(
        "language",
        "POST",
        "/account/",
        lambda w: "/account/",
        (302, 302, 302, 302, 302, L),
        body=lambda w: {"loc-locale": "en"},
    ),
    Case(
        "change settings",
        "POST",
        "/admin/settings",
        lambda w: "/admin/settings",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {"require_mfa_for_staff": "y"},
    ),
    Case(
        "upload file types",
        "GET",
        "/admin/uploads",
        lambda w: "/admin/uploads",
        (200, 403, 403, 403, 403, L),
    ),
    Case(
        "change upload file types",
        "POST",
        "/admin/uploads",
        lambda w: "/admin/uploads",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {"kinds": "pdf, jpg, docx"},
    ),
    Case(
        "storage quota of client A",
        "POST",
        "/clients/<client_id>/quota",
        lambda w: f"/clients/{w.firm_a.id}/quota",
        (302, 403, 403, 403, 404, L),
        body=lambda w: {"quota_gb": "5"},
    ),
]
for kind, doc, client_a_sees in (("shared", "shared", True), ("internal", "internal", False)):
    see = lambda ok, c=client_a_sees: (ok, ok, 404, ok if c else 404, 404, L)  # noqa: E731
    WEB_CASES += [
        Case(
            f"{kind} document",
            "GET",
            "/documents/<document_id>",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}",
            see(200),
        ),
        Case(
            f"new version of {kind}",
            "POST",
            "/documents/<document_id>/versions",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions",
            see(302),
            body=lambda w: {"file": _file()},
            multipart=True,
        ),
        Case(
            f"download {kind}",
            "GET",
            "/documents/<document_id>/versions/<int:number>/download",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions/1/download",
            see(200),
        ),
        Case(
            f"restore {kind}",
            "POST",
            "/documents/<document_id>/versions/<int:number>/restore",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions/1/restore",
            see(302),
        ),
        Case(
            f"rename {kind}",
            "POST",
            "/documents/<document_id>/rename",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/rename",
            (422, 422, 404, 403 if client_a_sees else 404, 404, L),
        ),
        Case(
            f"delete {kind}",
            "POST",
            "/documents/<document_id>/delete",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/delete",
            (302, 302, 404, 403 if client_a_sees else 404, 404, L),
        ),
    ]

# ---------------------------------------------------------------- signing
# The signature request has the firm's staff signing first, then client A; the admin is
# not a signer. Every case runs with the session's test CA (fixture signing_ready).
pytestmark = pytest.mark.usefixtures("signing_ready")


def _pdf_upload() -> tuple[io.BytesIO, str]:
    return (io.BytesIO(annual_accounts_pdf(1)), "firmado.pdf")


def _req(world: World) -> str:
    return signature_request(world).id


API_CASES += [
    Case(
        "request signatures on shared",
        "POST",
        "/api/v1/documents/<document_id>/signature-requests",
        lambda w: f"/api/v1/documents/{signable_document(w).id}/signature-requests",
        (201, 201, 404, 403, 404, A),
        body=lambda w: {"signers": [{"user_id": w.staff.id}, {"user_id": w.client_a.id}]},
    ),
    Case(
        "request signatures on internal (not a PDF)",
        "POST",
        "/api/v1/documents/<document_id>/signature-requests",
        lambda w: f"/api/v1/documents/{w.internal.id}/signature-requests",
        (422, 422, 404, 404, 404, A),
        body=lambda w: {"signers": [{"user_id": w.staff.id}]},
    ),
    Case(
        "signature requests of shared",
        "GET",
        "/api/v1/documents/<document_id>/signature-requests",
        lambda w: f"/api/v1/documents/{w.shared.id}/signature-requests",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "signature request",
        "GET",
        "/api/v1/signature-requests/<request_id>",
        lambda w: f"/api/v1/signature-requests/{_req(w)}",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "sign with a wrong code (client A: not yet her turn)",
        "POST",
        "/api/v1/signature-requests/<request_id>/sign",
        lambda w: f"/api/v1/signature-requests/{_req(w)}/sign",
        (403, 422, 404, 409, 404, A),
        body=lambda w: {"otp": "000000"},
    ),
    Case(
        "e-mail a signing code",
        "POST",
        "/api/v1/signature-requests/<request_id>/email-code",
        lambda w: f"/api/v1/signature-requests/{_req(w)}/email-code",
        (403, 202, 404, 409, 404, A),
    ),
    Case(
        "decline to sign",
        "POST",
        "/api/v1/signature-requests/<request_id>/decline",
        lambda w: f"/api/v1/signature-requests/{_req(w)}/decline",
        (403, 200, 404, 200, 404, A),
        body=lambda w: {"reason": "Las cifras no cuadran."},
    ),
    Case(
        "cancel a signature request",
        "POST",
        "/api/v1/signature-requests/<request_id>/cancel",
        lambda w: f"/api/v1/signature-requests/{_req(w)}/cancel",
        (200, 200, 404, 403, 404, A),
    ),
    Case(
        "evidence before any signature",
        "GET",
        "/api/v1/signature-requests/<request_id>/evidence",
        lambda w: f"/api/v1/signature-requests/{_req(w)}/evidence",
        (409, 409, 404, 409, 404, A),
    ),
    Case(
        "signing job",
        "GET",
        "/api/v1/jobs/<job_id>",
        lambda w: f"/api/v1/jobs/{signing_job(w).id}",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "validate an uploaded PDF",
        "POST",
        "/api/v1/validate",
        lambda w: "/api/v1/validate",
        (200, 200, 200, 200, 200, A),
        body=lambda w: {"file": _pdf_upload()},
        multipart=True,
    ),
    Case(
        "validation of a shared version",
        "GET",
        "/api/v1/documents/<document_id>/versions/<int:number>/validation",
        lambda w: f"/api/v1/documents/{signable_document(w).id}/versions/2/validation",
        (200, 200, 404, 200, 404, A),
    ),
    Case(
        "validation of an internal version (not a PDF)",
        "GET",
        "/api/v1/documents/<document_id>/versions/<int:number>/validation",
        lambda w: f"/api/v1/documents/{w.internal.id}/versions/1/validation",
        (422, 422, 404, 404, 404, A),
    ),
]
WEB_CASES += [
    Case(
        "signature request form",
        "GET",
        "/signatures/documents/<document_id>/new",
        lambda w: f"/signatures/documents/{signable_document(w).id}/new",
        (200, 200, 404, 403, 404, L),
    ),
    Case(
        "request signatures",
        "POST",
        "/signatures/documents/<document_id>/new",
        lambda w: f"/signatures/documents/{signable_document(w).id}/new",
        (302, 302, 404, 403, 404, L),
        body=lambda w: {
            "sig-signer_1": w.staff.id,
            "sig-level": "",
            "sig-stamp_position": "bottom",
        },
    ),
    Case(
        "signature request page",
        "GET",
        "/signatures/<request_id>",
        lambda w: f"/signatures/{_req(w)}",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "PDF to sign, inline",
        "GET",
        "/signatures/<request_id>/pdf",
        lambda w: f"/signatures/{_req(w)}/pdf",
        (200, 200, 404, 200, 404, L),
    ),
    Case(
        "sign with a wrong code",
        "POST",
        "/signatures/<request_id>/sign",
        lambda w: f"/signatures/{_req(w)}/sign",
        (403, 422, 404, 409, 404, L),
        body=lambda w: {"sign-otp": "000000"},
    ),
    Case(
        "e-mail a signing code",
        "POST",
        "/signatures/<request_id>/email-code",
        lambda w: f"/signatures/{_req(w)}/email-code",
        (302, 302, 404, 302, 404, L),
    ),
    Case(
        "decline to sign",
        "POST",
        "/signatures/<request_id>/decline",
        lambda w: f"/signatures/{_req(w)}/decline",
        (403, 302, 404, 302, 404, L),
        body=lambda w: {"dec-reason": "Las cifras no cuadran."},
    ),
    Case(
        "cancel a signature request",
        "POST",
        "/signatures/<request_id>/cancel",
        lambda w: f"/signatures/{_req(w)}/cancel",
        (302, 302, 404, 403, 404, L),
    ),
    Case(
        "evidence before any signature",
        "GET",
        "/signatures/<request_id>/evidence",
        lambda w: f"/signatures/{_req(w)}/evidence",
        (409, 409, 404, 409, 404, L),
    ),
    Case(
        "validation page",
        "GET",
        "/signatures/validate",
        lambda w: "/signatures/validate",
        (200, 200, 200, 200, 200, L),
    ),
    Case(
        "validate an uploaded PDF",
        "POST",
        "/signatures/validate",
        lambda w: "/signatures/validate",
        (200, 200, 200, 200, 200, L),
        body=lambda w: {"file": _pdf_upload()},
        multipart=True,
    ),
    Case(
        "signature report of a shared version",
        "GET",
        "/signatures/documents/<document_id>/versions/<int:number>/report",
        lambda w: f"/signatures/documents/{signable_document(w).id}/versions/2/report",
        (200, 200, 404, 200, 404, L),
    ),
]


def _certificate(world: World) -> str:
    """Client A's signing certificate from the test CA (issued once per world)."""
    from app.extensions import db
    from app.services import pki

    certificate = pki.current_certificate(world.client_a)
    db.session.commit()
    return certificate.id


WEB_CASES += [
    Case(
        "signing certificates",
        "GET",
        "/admin/certificates",
        lambda w: "/admin/certificates",
        (200, 403, 403, 403, 403, L),
    ),
    Case(
        "confirm revoking a certificate",
        "GET",
        "/admin/certificates/<certificate_id>/revoke",
        lambda w: f"/admin/certificates/{_certificate(w)}/revoke",
        (200, 403, 403, 403, 403, L),
    ),
    Case(
        "revoke a certificate",
        "POST",
        "/admin/certificates/<certificate_id>/revoke",
        lambda w: f"/admin/certificates/{_certificate(w)}/revoke",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {"reason": "superseded", "confirm": "y"},
    ),
]

# ---------------------------------------------------------------- resumable uploads
# Client A's own upload of a small PDF into space A; only she may continue or drop it.
_TUS_PDF = b"%PDF-1.4 subida reanudable"


def _tus_create(target: str, value: str) -> Callable[[World], dict[str, str]]:
    def headers(world: World) -> dict[str, str]:
        import base64

        ids = {"space": world.space_a.id, "internal": world.internal.id}
        encoded = {
            k: base64.b64encode(v.encode()).decode()
            for k, v in {target: ids[value], "filename": "plano.pdf"}.items()
        }
        return {
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(_TUS_PDF)),
            "Upload-Metadata": ",".join(f"{k} {v}" for k, v in encoded.items()),
        }

    return headers


def _client_a_upload(world: World) -> str:
    from app.extensions import db
    from app.services import uploads

    status = uploads.start_upload(
        world.client_a,
        length=len(_TUS_PDF),
        metadata={"space_id": world.space_a.id, "filename": "plano.pdf"},
    )
    db.session.commit()
    return status.id


_TUS_PATCH = {
    "Tus-Resumable": "1.0.0",
    "Upload-Offset": "0",
    "Content-Type": "application/offset+octet-stream",
}
API_CASES += [
    Case(
        "tus upload into space A",
        "POST",
        "/api/v1/uploads/",
        lambda w: "/api/v1/uploads/",
        (201, 201, 404, 201, 404, A),
        headers=_tus_create("space_id", "space"),
    ),
    Case(
        "tus new version of internal",
        "POST",
        "/api/v1/uploads/",
        lambda w: "/api/v1/uploads/",
        (201, 201, 404, 404, 404, A),
        headers=_tus_create("document_id", "internal"),
    ),
    Case(
        "tus bytes of client A's upload",
        "PATCH",
        "/api/v1/uploads/<upload_id>",
        lambda w: f"/api/v1/uploads/{_client_a_upload(w)}",
        (404, 404, 404, 204, 404, A),
        body=lambda w: _TUS_PDF,
        headers=lambda w: _TUS_PATCH,
    ),
    Case(
        "tus termination of client A's upload",
        "DELETE",
        "/api/v1/uploads/<upload_id>",
        lambda w: f"/api/v1/uploads/{_client_a_upload(w)}",
        (404, 404, 404, 204, 404, A),
        headers=lambda w: {"Tus-Resumable": "1.0.0"},
    ),
]

# Routes open to everyone by design, tested in tests/web/test_auth.py.
PUBLIC_RULES = {
    "/api/v1/auth/invitation",  # the invitation's token is the credential (tests/api/test_onboarding.py)
    "/login",
    "/login/mfa",
    "/logout",
    "/forgot",
    "/reset/<token>",
    "/invitation/<token>",
    "/language",
    "/healthz",
    "/static/<path:filename>",
    "/api/v1/auth/token",
    # the internal CA and TSA, for anyone verifying a signature (tests/api/test_signatures.py)
    "/pki/ca.der",
    "/pki/crl.der",
    "/pki/tsa",
    "/pki/ocsp",
}


# ---------------------------------------------------------------- OCR, forms and search


def _ocr_form(world: World, *, confirmed: bool = False) -> str:
    """A filled form on the shared document (its URL makes it: such cases are not shared)."""
    from app.extensions import db
    from app.models import FormSubmission

    form = FormSubmission(
        template="datos_nomina",
        space_id=world.space_a.id,
        document_id=world.shared.id,
        version_id=world.shared.current_version.id,
        fields={
            "worker": {
                "value": "Lucía Pérez",
                "confidence": 91.0,
                "page": 1,
                "box": [10, 10, 60, 30],
                "source_text": "Lucía Pérez",
                "confirmed": confirmed,
            }
        },
        status="confirmed" if confirmed else "draft",
        created_by_id=world.staff.id,
    )
    db.session.add(form)
    db.session.commit()
    return form.id


SEE_A = (200, 200, 404, 200, 404, A)
API_CASES += [
    Case(
        "form templates",
        "GET",
        "/api/v1/form-templates",
        lambda w: "/api/v1/form-templates",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "search",
        "GET",
        "/api/v1/search",
        lambda w: "/api/v1/search?q=Contrato",
        (200, 200, 200, 200, 200, A),
    ),
    Case(
        "form from the shared document",
        "POST",
        "/api/v1/spaces/<space_id>/forms",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/forms",
        (202, 202, 404, 202, 404, A),
        body=lambda w: {"template": "datos_nomina", "document_id": w.shared.id},
    ),
    Case(
        "form",
        "GET",
        "/api/v1/forms/<form_id>",
        lambda w: f"/api/v1/forms/{_ocr_form(w)}",
        SEE_A,
    ),
    Case(
        "correct form",
        "PATCH",
        "/api/v1/forms/<form_id>",
        lambda w: f"/api/v1/forms/{_ocr_form(w)}",
        SEE_A,
        body=lambda w: {"fields": {"worker": "Lucía Pérez Gil"}, "confirm": True},
    ),
    Case(
        "export form",
        "GET",
        "/api/v1/forms/<form_id>/export",
        lambda w: f"/api/v1/forms/{_ocr_form(w, confirmed=True)}/export?format=csv",
        SEE_A,
    ),
]
for kind, doc, client_a_sees in (("shared", "shared", True), ("internal", "internal", False)):
    API_CASES.append(
        Case(
            f"{kind} text",
            "GET",
            "/api/v1/documents/<document_id>/versions/<int:number>/text",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/versions/1/text",
            (200, 200, 404, 200 if client_a_sees else 404, 404, A),
        )
    )


# What changed between two versions: exactly the access of the document (the world's
# documents have one version, compared with itself). The overlay image needs a real drawing:
# a two-version PDF made next to the world's document, with its visibility.
def _compared(world: World, doc: str) -> str:
    from portal_testing import pdf_bytes

    from app.extensions import db
    from app.services import documents

    source = getattr(world, doc)
    document = documents.upload_document(
        world.staff,
        source.space_id,
        io.BytesIO(pdf_bytes("Plano v1")),
        filename="plano.pdf",
        title="Plano",
        visibility=source.visibility,
    )
    documents.upload_version(
        world.staff, document.id, io.BytesIO(pdf_bytes("Plano v2")), filename="plano.pdf"
    )
    db.session.commit()
    return str(document.id)


for kind, doc, seen in (
    ("shared", "shared", (200, 200, 404, 200, 404, A)),
    ("internal", "internal", (200, 200, 404, 404, 404, A)),
    ("other client's", "other_doc", (200, 404, 404, 404, 200, A)),
):
    API_CASES.append(
        Case(
            f"compare of {kind} document",
            "GET",
            "/api/v1/documents/<document_id>/compare",
            lambda w, d=doc: f"/api/v1/documents/{getattr(w, d).id}/compare?from=1&to=1",
            seen,
        )
    )
# (a shared one only: each row makes its own world; the internal document's image is hidden
# by the same lookup, which the rows of the answer above check)
for kind, doc, seen in (("shared", "shared", (200, 200, 404, 200, 404, A)),):
    API_CASES.append(
        Case(
            f"compare image of {kind} document",
            "GET",
            "/api/v1/documents/<document_id>/compare/image",
            lambda w, d=doc: (
                f"/api/v1/documents/{_compared(w, d)}/compare/image?name=overlay-1.jpg"
            ),
            seen,
        )
    )


def _ocr_image_form(world: World) -> str:
    """A form on a small PNG in space A, so that its page image can be drawn."""
    from PIL import Image

    from app.extensions import db
    from app.models import FormSubmission
    from app.services import documents

    out = io.BytesIO()
    Image.new("L", (300, 200), 255).save(out, "PNG")
    out.seek(0)
    document = documents.upload_document(
        world.staff, world.space_a.id, out, filename="nomina.png", title="Nómina"
    )
    db.session.flush()
    form_id = _ocr_form(world)
    form = db.session.get(FormSubmission, form_id)
    form.document_id = document.id
    form.version_id = document.current_version.id
    db.session.commit()
    return form_id


WEB_SEE_A = (200, 200, 404, 200, 404, L)
WEB_CASES += [
    Case(
        "search page",
        "GET",
        "/search",
        lambda w: "/search?q=Contrato",
        (200, 200, 200, 200, 200, L),
    ),
    Case(
        "fill a form from the shared document",
        "POST",
        "/documents/<document_id>/forms",
        lambda w: f"/documents/{w.shared.id}/forms",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"template": "datos_nomina"},
    ),
    Case(
        "form page",
        "GET",
        "/forms/<form_id>",
        lambda w: f"/forms/{_ocr_form(w)}",
        WEB_SEE_A,
    ),
    Case(
        "correct and confirm form",
        "POST",
        "/forms/<form_id>",
        lambda w: f"/forms/{_ocr_form(w)}",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"field-worker": "Lucía Pérez Gil", "confirm": "1"},
    ),
    Case(
        "form field image",
        "GET",
        "/forms/<form_id>/fields/<name>.png",
        lambda w: f"/forms/{_ocr_image_form(w)}/fields/worker.png",
        WEB_SEE_A,
    ),
    Case(
        "form export",
        "GET",
        "/forms/<form_id>/export.<fmt>",
        lambda w: f"/forms/{_ocr_form(w, confirmed=True)}/export.csv",
        WEB_SEE_A,
    ),
]


# ---------------------------------------------------------------- previews
# Exactly the access of the content: a client never sees another client's previews nor
# those of an internal document. Allowed callers get the picture, or a placeholder while
# it is drawn or when it cannot be (200 either way, the state in X-Preview-Status).
PREVIEW = "/documents/<document_id>/versions/<int:number>/preview"
for kind, doc, seen in (
    ("shared", "shared", (200, 200, 404, 200, 404, L)),
    ("internal", "internal", (200, 200, 404, 404, 404, L)),
    ("other client's", "other_doc", (200, 404, 404, 404, 200, L)),
):
    WEB_CASES += [
        Case(
            f"thumbnail of {kind} document",
            "GET",
            PREVIEW + "/<any(thumbnail, view):variant>",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions/1/preview/thumbnail",
            seen,
        ),
        Case(
            f"view of {kind} document",
            "GET",
            PREVIEW + "/<any(thumbnail, view):variant>",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions/1/preview/view",
            seen,
        ),
        Case(
            f"page image of {kind} document",
            "GET",
            PREVIEW + "/pages/<int:page>",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/versions/1/preview/pages/2",
            seen,
        ),
    ]

# The compare page: the document's access (its one version compared with itself here).
for kind, doc, seen in (
    ("shared", "shared", (200, 200, 404, 200, 404, L)),
    ("internal", "internal", (200, 200, 404, 404, 404, L)),
    ("other client's", "other_doc", (200, 404, 404, 404, 200, L)),
):
    WEB_CASES.append(
        Case(
            f"compare page of {kind} document",
            "GET",
            "/documents/<document_id>/compare",
            lambda w, d=doc: f"/documents/{getattr(w, d).id}/compare?from=1&to=1",
            seen,
        )
    )
# two files compared without storing them: staff only (sent empty here: the form's answer)
WEB_CASES += [
    Case(
        "compare two files", "GET", "/compare", lambda w: "/compare", (200, 200, 200, 403, 403, L)
    ),
    Case(
        "compare two files sent",
        "POST",
        "/compare",
        lambda w: "/compare",
        (422, 422, 422, 403, 403, L),
        body=lambda w: {},
        multipart=True,
    ),
]


# ---------------------------------------------------------------- onboarding, threads, incidents


def _onboarding(world: World) -> str:
    from app.extensions import db
    from app.services import onboarding

    count = getattr(_onboarding, "count", 0) + 1
    _onboarding.count = count  # type: ignore[attr-defined]
    item = onboarding.start_onboarding(
        world.staff,
        email=f"alta{count}@example.com",
        name="Irene Alta",
        kind="person",
        services=["renta"],
    )
    db.session.commit()
    return str(item.id)


def _campaign(world: World) -> str:
    from datetime import date

    from app.extensions import db
    from app.services import campaigns

    made = campaigns.create_campaign(
        world.staff,
        name="Renta",
        items=[{"title": "DNI"}],
        due_date="2099-06-30",
        client_ids=[world.firm_a.id],
        space_kind="fiscal_year",
        space_name="Renta {year}",
        today=date.today(),
    )
    db.session.commit()
    return str(made.id)


def _thread(world: World, visibility: str = "shared") -> str:
    from app.extensions import db
    from app.services import conversations

    thread = conversations.create_thread(
        world.staff, world.space_a.id, subject="Pregunta", body="Hola", visibility=visibility
    )
    db.session.commit()
    return str(thread.id)


def _incident(world: World) -> str:
    from app.extensions import db
    from app.services import incidents

    incident = incidents.create_incident(
        world.client_a, world.space_a.id, title="No puedo subir", body="Error", priority="high"
    )
    db.session.commit()
    return str(incident.id)


STAFF_PAGE = (200, 200, 200, 403, 403, L)
STAFF_POST = (302, 302, 302, 403, 403, L)
# a campaign is the firm's internal work: a client may not know one exists
CAMPAIGN_PAGE = (200, 200, 200, 404, 404, L)
CAMPAIGN_POST = (302, 302, 302, 404, 404, L)
CAMPAIGN_API = (200, 200, 200, 404, 404, A)
WEB_CASES += [
    Case("campaigns", "GET", "/campaigns", lambda w: "/campaigns", STAFF_PAGE),
    Case("new campaign form", "GET", "/campaigns/new", lambda w: "/campaigns/new", STAFF_PAGE),
    Case(
        "start a campaign on the web",
        "POST",
        "/campaigns/new",
        lambda w: "/campaigns/new",
        STAFF_POST,
        body=lambda w: {
            "name": "Renta",
            "kind": "request",
            "items": "DNI",
            "due_date": "2099-06-30",
            "space_kind": "fiscal_year",
            "space_name": "Renta {year}",
            "client_kind": "company",
        },
    ),
    Case(
        "a campaign's board",
        "GET",
        "/campaigns/<campaign_id>",
        lambda w: f"/campaigns/{_campaign(w)}",
        CAMPAIGN_PAGE,
    ),
    Case(
        "remind a campaign on the web",
        "POST",
        "/campaigns/<campaign_id>/remind",
        lambda w: f"/campaigns/{_campaign(w)}/remind",
        CAMPAIGN_POST,
    ),
    Case(
        "close clients of a campaign on the web",
        "POST",
        "/campaigns/<campaign_id>/close",
        lambda w: f"/campaigns/{_campaign(w)}/close",
        CAMPAIGN_POST,
        body=lambda w: {"client_ids": w.firm_a.id},
    ),
    Case(
        "retry the failed clients of a campaign on the web",
        "POST",
        "/campaigns/<campaign_id>/retry",
        lambda w: f"/campaigns/{_campaign(w)}/retry",
        CAMPAIGN_POST,
    ),
    Case(
        "take clients out of a campaign on the web",
        "POST",
        "/campaigns/<campaign_id>/remove",
        lambda w: f"/campaigns/{_campaign(w)}/remove",
        CAMPAIGN_POST,
        body=lambda w: {"client_ids": w.firm_a.id},
    ),
    Case(
        "metrics page",
        "GET",
        "/admin/metrics",
        lambda w: "/admin/metrics",
        (200, 403, 403, 403, 403, L),
    ),
    Case(
        "metrics as CSV",
        "GET",
        "/admin/metrics.csv",
        lambda w: "/admin/metrics.csv",
        (200, 403, 403, 403, 403, L),
    ),
    Case(
        "export a campaign on the web",
        "GET",
        "/campaigns/<campaign_id>/export",
        lambda w: f"/campaigns/{_campaign(w)}/export?format=xlsx",
        CAMPAIGN_PAGE,
    ),
]
SEE_SPACE_A = (200, 200, 404, 200, 404, A)
ONB = "/api/v1/onboardings/<onboarding_id>"
API_CASES += [
    Case("my agenda", "GET", "/api/v1/me/agenda", lambda w: "/api/v1/me/agenda", (200,) * 5 + (A,)),
    Case(
        "start a campaign",
        "POST",
        "/api/v1/campaigns",
        lambda w: "/api/v1/campaigns",
        (202, 202, 202, 403, 403, A),  # staff see every client, as for new spaces
        body=lambda w: {
            "name": "Renta",
            "items": [{"title": "DNI"}],
            "due_date": "2099-06-30",
            "clients": [w.firm_a.id],
            "space_kind": "fiscal_year",
            "space_name": "Renta {year}",
        },
    ),
    Case(
        "a campaign",
        "GET",
        "/api/v1/campaigns/<campaign_id>",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}",
        CAMPAIGN_API,
    ),
    Case(
        "remind a campaign",
        "POST",
        "/api/v1/campaigns/<campaign_id>/remind",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}/remind",
        CAMPAIGN_API,
    ),
    Case(
        "export a campaign",
        "GET",
        "/api/v1/campaigns/<campaign_id>/export",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}/export?format=csv",
        CAMPAIGN_API,
    ),
    Case(
        "close a campaign",
        "POST",
        "/api/v1/campaigns/<campaign_id>/close",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}/close",
        CAMPAIGN_API,
        body=lambda w: {"client_ids": [w.firm_a.id]},
    ),
    Case(
        "retry the failed clients of a campaign",
        "POST",
        "/api/v1/campaigns/<campaign_id>/retry",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}/retry",
        CAMPAIGN_API,
        body=lambda w: {},
    ),
    Case(
        "take clients out of a campaign",
        "POST",
        "/api/v1/campaigns/<campaign_id>/remove",
        lambda w: f"/api/v1/campaigns/{_campaign(w)}/remove",
        CAMPAIGN_API,
        body=lambda w: {"client_ids": [w.firm_a.id]},
    ),
    Case(
        "tag a client",
        "POST",
        "/api/v1/clients/<client_id>/tags",
        lambda w: f"/api/v1/clients/{w.firm_a.id}/tags",
        (200, 200, 200, 403, 404, A),
        body=lambda w: {"tags": ["renta"]},
    ),
    Case("catalogue", "GET", "/api/v1/catalog", lambda w: "/api/v1/catalog", (200,) * 5 + (A,)),
    Case(
        "add a service",
        "POST",
        "/api/v1/catalog",
        lambda w: "/api/v1/catalog",
        (201, 403, 403, 403, 403, A),
        body=lambda w: {
            "key": "nominas",
            "name": "Nóminas",
            "space_kind": "general",
            "space_name": "N",
        },
    ),
    Case(
        "take one more service before being active",
        "POST",
        "/api/v1/catalog/<key>/subscribe",
        lambda w: "/api/v1/catalog/obra/subscribe",
        (403, 403, 403, 409, 409, A),
    ),
    Case(
        "start an onboarding",
        "POST",
        "/api/v1/onboardings",
        lambda w: "/api/v1/onboardings",
        (201, 201, 201, 403, 403, A),
        body=lambda w: {
            "email": "nuevo@example.com",
            "name": "Nuevo",
            "kind": "person",
            "services": ["renta"],
        },
    ),
    Case(
        "onboardings",
        "GET",
        "/api/v1/onboardings",
        lambda w: "/api/v1/onboardings",
        (200,) * 5 + (A,),
    ),
    Case(
        "an onboarding",
        "GET",
        ONB,
        lambda w: f"/api/v1/onboardings/{_onboarding(w)}",
        (200, 200, 200, 404, 404, A),
    ),
    Case(
        "identity photos of someone else",
        "POST",
        ONB + "/identity",
        lambda w: f"/api/v1/onboardings/{_onboarding(w)}/identity",
        (403, 403, 403, 404, 404, A),
        body=lambda w: {"front": (io.BytesIO(b"\xff\xd8\xff foto"), "dni.jpg")},
        multipart=True,
    ),
    Case(
        "confirm someone else's identity",
        "POST",
        ONB + "/identity/confirm",
        lambda w: f"/api/v1/onboardings/{_onboarding(w)}/identity/confirm",
        (403, 403, 403, 404, 404, A),
        body=lambda w: {},
    ),
    Case(
        "approve an onboarding still invited",
        "POST",
        ONB + "/approve",
        lambda w: f"/api/v1/onboardings/{_onboarding(w)}/approve",
        (409, 409, 409, 404, 404, A),
        body=lambda w: {},
    ),
    Case(
        "reject an onboarding",
        "POST",
        ONB + "/reject",
        lambda w: f"/api/v1/onboardings/{_onboarding(w)}/reject",
        (200, 200, 200, 404, 404, A),
        body=lambda w: {"reason": "Duplicado"},
    ),
    Case(
        "open a thread",
        "POST",
        "/api/v1/spaces/<space_id>/threads",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/threads",
        (201, 201, 404, 201, 404, A),
        body=lambda w: {"subject": "Duda", "body": "¿Qué falta?"},
    ),
    Case(
        "threads of a space",
        "GET",
        "/api/v1/spaces/<space_id>/threads",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/threads",
        SEE_SPACE_A,
    ),
    Case(
        "a shared thread",
        "GET",
        "/api/v1/threads/<thread_id>",
        lambda w: f"/api/v1/threads/{_thread(w)}",
        SEE_SPACE_A,
    ),
    Case(
        "an internal thread",
        "GET",
        "/api/v1/threads/<thread_id>",
        lambda w: f"/api/v1/threads/{_thread(w, 'internal')}",
        (200, 200, 404, 404, 404, A),
    ),
    Case(
        "post a message",
        "POST",
        "/api/v1/threads/<thread_id>/messages",
        lambda w: f"/api/v1/threads/{_thread(w)}/messages",
        (201, 201, 404, 201, 404, A),
        body=lambda w: {"body": "Respuesta"},
    ),
    Case(
        "a space's inbox address",
        "GET",
        "/api/v1/spaces/<space_id>/inbox-address",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/inbox-address",
        SEE_SPACE_A,
    ),
    Case(
        "open an incident",
        "POST",
        "/api/v1/spaces/<space_id>/incidents",
        lambda w: f"/api/v1/spaces/{w.space_a.id}/incidents",
        (201, 201, 404, 201, 404, A),
        body=lambda w: {"title": "Error", "body": "No carga", "priority": "normal"},
    ),
    Case("incidents", "GET", "/api/v1/incidents", lambda w: "/api/v1/incidents", (200,) * 5 + (A,)),
    Case(
        "an incident",
        "GET",
        "/api/v1/incidents/<incident_id>",
        lambda w: f"/api/v1/incidents/{_incident(w)}",
        SEE_SPACE_A,
    ),
    Case(
        "resolve an incident",
        "PATCH",
        "/api/v1/incidents/<incident_id>",
        lambda w: f"/api/v1/incidents/{_incident(w)}",
        (200, 200, 404, 200, 404, A),
        body=lambda w: {"status": "resolved"},
    ),
]

WEB_ONB = "/onboarding/<onboarding_id>"
WEB_CASES += [
    Case(
        "onboarding board",
        "GET",
        "/onboarding/",
        lambda w: "/onboarding/",
        (200, 200, 200, 302, 302, L),
    ),
    Case(
        "new onboarding form",
        "GET",
        "/onboarding/new",
        lambda w: "/onboarding/new",
        (200, 200, 200, 403, 403, L),
    ),
    Case(
        "start an onboarding",
        "POST",
        "/onboarding/new",
        lambda w: "/onboarding/new",
        (302, 302, 302, 403, 403, L),
        body=lambda w: {
            "email": "web@example.com",
            "name": "Web Alta",
            "kind": "person",
            "services": "renta",
        },
    ),
    Case(
        "an onboarding page",
        "GET",
        WEB_ONB,
        lambda w: f"/onboarding/{_onboarding(w)}",
        (200, 200, 200, 404, 404, L),
    ),
    Case(
        "identity photo before any was sent",
        "GET",
        WEB_ONB + "/images/<int:index>",
        lambda w: f"/onboarding/{_onboarding(w)}/images/0",
        (404, 404, 404, 404, 404, L),
    ),
    Case(
        "send someone else's identity photos",
        "POST",
        WEB_ONB + "/identity",
        lambda w: f"/onboarding/{_onboarding(w)}/identity",
        (403, 403, 403, 404, 404, L),
        body=lambda w: {"front": (io.BytesIO(b"\xff\xd8\xff foto"), "dni.jpg")},
        multipart=True,
    ),
    Case(
        "confirm someone else's details",
        "POST",
        WEB_ONB + "/confirm",
        lambda w: f"/onboarding/{_onboarding(w)}/confirm",
        (403, 403, 403, 404, 404, L),
        body=lambda w: {"document_type": "dni", "document_number": "12345678Z"},
    ),
    Case(
        "approve an onboarding still invited",
        "POST",
        WEB_ONB + "/approve",
        lambda w: f"/onboarding/{_onboarding(w)}/approve",
        (302, 302, 302, 404, 404, L),
    ),
    Case(
        "reject an onboarding",
        "POST",
        WEB_ONB + "/reject",
        lambda w: f"/onboarding/{_onboarding(w)}/reject",
        (302, 302, 302, 404, 404, L),
        body=lambda w: {"reason": "Duplicado"},
    ),
    Case(
        "services page",
        "GET",
        "/onboarding/services",
        lambda w: "/onboarding/services",
        (200,) * 5 + (L,),
    ),
    Case(
        "add a service",
        "POST",
        "/onboarding/services",
        lambda w: "/onboarding/services",
        (302, 403, 403, 403, 403, L),
        body=lambda w: {
            "key": "nominas",
            "name": "Nóminas",
            "space_kind": "general",
            "space_name": "N",
        },
    ),
    Case(
        "take one more service",
        "POST",
        "/onboarding/services/<key>/subscribe",
        lambda w: "/onboarding/services/obra/subscribe",
        (302, 302, 302, 302, 302, L),
    ),
]


WEB_SEE_SPACE_A = (200, 200, 404, 200, 404, L)
WEB_CASES += [
    Case("messages", "GET", "/threads", lambda w: "/threads", (200,) * 5 + (L,)),
    Case(
        "threads of a space",
        "GET",
        "/spaces/<space_id>/threads",
        lambda w: f"/spaces/{w.space_a.id}/threads",
        WEB_SEE_SPACE_A,
    ),
    Case(
        "open a thread",
        "POST",
        "/spaces/<space_id>/threads",
        lambda w: f"/spaces/{w.space_a.id}/threads",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"subject": "Duda", "body": "¿Qué falta?"},
    ),
    Case(
        "a thread page",
        "GET",
        "/threads/<thread_id>",
        lambda w: f"/threads/{_thread(w)}",
        WEB_SEE_SPACE_A,
    ),
    Case(
        "an internal thread page",
        "GET",
        "/threads/<thread_id>",
        lambda w: f"/threads/{_thread(w, 'internal')}",
        (200, 200, 404, 404, 404, L),
    ),
    Case(
        "reply in a thread",
        "POST",
        "/threads/<thread_id>/messages",
        lambda w: f"/threads/{_thread(w)}/messages",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"body": "Respuesta"},
    ),
    Case("incident queue", "GET", "/incidents", lambda w: "/incidents", (200,) * 5 + (L,)),
    Case(
        "new incident form",
        "GET",
        "/spaces/<space_id>/incidents/new",
        lambda w: f"/spaces/{w.space_a.id}/incidents/new",
        WEB_SEE_SPACE_A,
    ),
    Case(
        "report an incident",
        "POST",
        "/spaces/<space_id>/incidents/new",
        lambda w: f"/spaces/{w.space_a.id}/incidents/new",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"title": "Error", "body": "No carga", "priority": "normal"},
    ),
    Case(
        "an incident",
        "GET",
        "/incidents/<incident_id>",
        lambda w: f"/incidents/{_incident(w)}",
        (302, 302, 404, 302, 404, L),
    ),
    Case(
        "change an incident",
        "POST",
        "/incidents/<incident_id>",
        lambda w: f"/incidents/{_incident(w)}",
        (302, 302, 404, 302, 404, L),
        body=lambda w: {"status": "resolved", "priority": "high"},
    ),
]


def _user(world: World, role: str) -> Any:
    return None if role == "anonymous" else getattr(world, role)


def _check_api(client, world: World, case: Case, role_index: int) -> None:
    user = _user(world, ROLES[role_index])
    headers = api_token(client, user) if user else {}
    if case.headers:
        headers = {**headers, **case.headers(world)}
    body = case.body(world) if case.body else None
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data" if case.multipart or isinstance(body, bytes) else "json"] = body
    response = client.open(case.url(world), method=case.method, **kwargs)
    expected = case.expected[role_index]
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        if expected == 404:
            # the answer for a hidden object is the same as for a missing one
            assert response.get_json()["detail"] == "Not found"


def _check_web(client, world: World, case: Case, role_index: int) -> None:
    user = _user(world, ROLES[role_index])
    data: dict[str, Any] = {}
    if user:
        web_login(client, user)
    if case.method == "POST":
        page = client.get("/login" if user is None else "/account/")
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        body = case.body(world) if case.body else {}
        prefixes = {k.split("-", 1)[0] for k in body if "-" in k}
        data = {"csrf_token": token, **{f"{p}-csrf_token": token for p in prefixes}, **body}
    response = client.open(
        case.url(world),
        method=case.method,
        data=data or None,
        content_type="multipart/form-data" if case.multipart else None,
    )
    expected = case.expected[role_index]
    if expected == L:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:800]
    if expected == 404 and user is not None:
        body_text = response.get_data(as_text=True)
        assert "Memo" not in body_text and "Ferretería" not in body_text


def _shareable(case: Case) -> bool:
    """A read whose URL needs nothing created on the fly (signature cases create their request)."""
    return case.method == "GET" and not any(
        word in case.rule
        for word in (
            "signature",
            "validation",
            "jobs",
            "forms/",
            "<certificate_id>",
            "<onboarding_id>",
            "<thread_id>",
            "<incident_id>",
            "<campaign_id>",
            "compare/image",
        )
    )


def _writes(cases: list[Case]) -> list[Case]:
    return [c for c in cases if not _shareable(c)]


def _reads(cases: list[Case]) -> list[Case]:
    return [c for c in cases if _shareable(c)]


# Changing requests get a fresh world each; reading requests share one per module
# (what they change, such as read receipts, does not change who may see what).


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", _writes(API_CASES), ids=[c.name for c in _writes(API_CASES)])
def test_api(app, client, case: Case, role_index: int):
    _check_api(client, build_world(), case, role_index)


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", _writes(WEB_CASES), ids=[c.name for c in _writes(WEB_CASES)])
def test_web(app, client, case: Case, role_index: int):
    _check_web(client, build_world(), case, role_index)


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory, database_template):
    from portal_testing import BACKEND, fresh_database, make_app, migrated_postgres

    folder = tmp_path_factory.mktemp("matrix")
    # its own database: the changing cases empty the shared PostgreSQL one between tests
    url = (
        migrated_postgres("matrix")
        if BACKEND == "postgres"
        else fresh_database(folder, database_template)
    )
    builder = make_app(folder, url)
    with builder.app_context():
        from dataclasses import fields

        from app.extensions import db

        world = build_world()
        # load everything the cases read, then detach: the requests run in other apps
        for field in fields(world):
            value = getattr(world, field.name)
            db.session.refresh(value)
        _ = [item.id for item in world.request.items]
        db.session.expunge_all()
        db.session.close()  # no transaction stays open (PostgreSQL would block later TRUNCATEs)
        web = make_app(folder, url)
        yield world, web
        db.session.remove()


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", _reads(API_CASES), ids=[c.name for c in _reads(API_CASES)])
def test_api_read(shared_world, case: Case, role_index: int):
    world, web = shared_world
    _check_api(web.test_client(), world, case, role_index)


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", _reads(WEB_CASES), ids=[c.name for c in _reads(WEB_CASES)])
def test_web_read(shared_world, case: Case, role_index: int):
    world, web = shared_world
    _check_web(web.test_client(), world, case, role_index)


def test_every_route_is_in_the_matrix(app):
    covered = {(c.method, c.rule) for c in API_CASES + WEB_CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC_RULES:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes without access-matrix rows: {missing}"
