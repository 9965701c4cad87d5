"""Previews of document versions: thumbnails, in-browser views and PDF pages as images.

The same access rules as the version's content (404 for what the caller may not
see). A rendition not drawn yet answers at once with a placeholder picture and
``X-Preview-Status: pending``, and queues its job; the page polls (HEAD) and swaps
the picture in when it is ready.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import escape

from app.models import DocumentVersion, PreviewStatus
from app.services import previews
from app.services.previews import PreviewKind
from app.unit_of_work import commit_now

bp = Blueprint("previews", __name__, url_prefix="/documents")

PREFIX = "/<document_id>/versions/<int:number>/preview"


@bp.get(PREFIX + "/<any(thumbnail, view):variant>")
@login_required
def rendition(document_id: str, number: int, variant: str) -> Response:
    return _answer(document_id, number, variant)


@bp.get(PREFIX + "/pages/<int:page>")
@login_required
def page(document_id: str, number: int, page: int) -> Response:
    return _answer(document_id, number, previews.page_variant(page))


def _answer(document_id: str, number: int, variant: str) -> Response:
    row = previews.request_preview(current_user, document_id, number, variant)
    # Its job, if one was needed, goes out with the commit; where jobs run in the web process
    # the picture is drawn when this returns, and is answered at once.
    commit_now()
    status = row.status
    if status != PreviewStatus.ready:
        return _placeholder(status)
    etag = (row.blob_key or "").replace("/", "")
    if request.if_none_match and etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(
            previews.rendition_chunks(row), mimetype=row.media_type, direct_passthrough=True
        )
        response.headers["Content-Disposition"] = "inline"
    response.set_etag(etag)
    # a drawing is a document of its own when opened directly: no scripts, no requests out
    styles = " style-src 'unsafe-inline';" if row.media_type == "image/svg+xml" else ""
    response.headers["Content-Security-Policy"] = f"default-src 'none';{styles} sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Preview-Status"] = status
    return response


def _placeholder(status: str) -> Response:
    """A small picture saying what is going on, for an <img> still pointing here."""
    pending = status == PreviewStatus.pending
    text = _("Vista previa en preparación") if pending else _("Sin vista previa")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
        '<rect width="320" height="240" fill="#eef1f5"/>'
        '<text x="160" y="126" text-anchor="middle" font-family="sans-serif" font-size="16" '
        f'fill="#3d4a5c">{escape(text)}</text></svg>'
    )
    # 200 either way: the state is in X-Preview-Status, and an <img> shows the picture
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Preview-Status"] = status
    if pending:
        response.headers["Retry-After"] = "3"
    return response


def viewer_context(version: DocumentVersion) -> dict[str, Any]:
    """What the in-browser viewer shows besides pdf.js: a picture, or a PDF page by page.

    PDFs over ``PREVIEW_PDFJS_MAX_BYTES`` (or with ``?pages=1``, lighter on a phone)
    are shown one page image at a time, each drawn when first asked for.
    """
    kind = previews.kind_of(version)
    by_pages = kind == PreviewKind.pdf and (
        version.size > previews.pdfjs_limit() or request.args.get("pages") == "1"
    )
    context: dict[str, Any] = {
        "preview_kind": kind.value if kind else None,
        "pdf_by_pages": by_pages,
        "view_state": None,
        "pdfjs_fits": version.size <= previews.pdfjs_limit(),
    }
    if by_pages:
        count = previews.page_count(version)
        wanted = request.args.get("page", default=1, type=int) or 1
        page = max(1, min(wanted, count or previews.MAX_PAGE))
        row = previews.preview_for(version.id, previews.page_variant(page))
        context.update(
            page=page,
            page_count=count,
            page_state=previews.PreviewState(row.status, row.width, row.height)
            if row is not None
            else previews.PreviewState(PreviewStatus.pending),
        )
    elif kind in (PreviewKind.image, PreviewKind.dxf, PreviewKind.video):
        context["view_state"] = previews.view_state(version)
    return context
