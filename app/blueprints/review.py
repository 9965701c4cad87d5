"""Review in the web UI: decisions, comments, the PDF viewer, transmittals, overview, notifications."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as WerkzeugResponse

from app.blueprints.forms import (
    CommentForm,
    ReviewForm,
    TransmittalForm,
    errors_onto_form,
    flash_refusal,
)
from app.blueprints.previews import viewer_context
from app.httputil import download_body
from app.models import Permission
from app.services import (
    alerts,
    documents,
    notifications,
    overview,
    review,
    signatures,
    transmittals,
)
from app.services.access import get_document, get_space, require_staff
from app.services.errors import DomainError, ValidationFailed
from app.services.paging import cursor_page

bp = Blueprint("review", __name__)


@bp.post("/documents/<document_id>/review")
@login_required
def decide(document_id: str) -> WerkzeugResponse:
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review.review_document(
                current_user,
                document_id,
                form.action.data or None,
                comment=form.comment.data,
                label=form.label.data or None,
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            flash_refusal(exc)
        else:
            flash(_("Revisión registrada."), "success")
    return redirect(url_for("documents.detail", document_id=document_id) + "#review")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.post("/documents/<document_id>/comments")
@login_required
def comment(document_id: str) -> WerkzeugResponse:
    form = CommentForm()
    target = request.form.get("return") == "viewer"
    if form.validate_on_submit():
        try:
            page = int(form.page.data) if form.page.data else None
        except ValueError:
            page = None
        version = request.form.get("version", type=int)
        try:
            review.add_comment(
                current_user,
                document_id,
                body=form.body.data or "",
                version=version,
                page=page,
                x=_float(form.x.data),
                y=_float(form.y.data),
            )
        except ValidationFailed as exc:
            flash_refusal(exc)
        else:
            flash(_("Comentario publicado."), "success")
    else:
        flash(_("Escriba el comentario."), "error")
    if target and version:
        return redirect(url_for("review.viewer", document_id=document_id, number=version))
    return redirect(url_for("documents.detail", document_id=document_id) + "#comments")


@bp.post("/comments/<comment_id>/resolve")
@login_required
def resolve(comment_id: str) -> WerkzeugResponse:
    comment = review.resolve_comment(current_user, comment_id)
    flash(_("Comentario resuelto."), "success")
    return redirect(url_for("documents.detail", document_id=comment.document_id) + "#comments")


@bp.get("/documents/<document_id>/versions/<int:number>/view")
@login_required
def viewer(document_id: str, number: int) -> str:
    version = documents.get_version(current_user, document_id, number)
    document = version.document
    review.record_open(current_user, document, version)
    comments = [
        c for c in review.list_comments(current_user, document.id) if c.version_number == number
    ]
    return render_template(
        "review/viewer.html",
        document=document,
        version=version,
        comments=comments,
        form=CommentForm(),
        is_pdf=version.content_type == "application/pdf",
        **viewer_context(version),  # previews: images, drawings, posters, PDFs page by page
    )


@bp.get("/documents/<document_id>/versions/<int:number>/raw")
@login_required
def raw(document_id: str, number: int) -> Response:
    """The PDF bytes for the in-browser viewer (same origin, never rendered as HTML)."""
    version = documents.get_version(current_user, document_id, number)
    if version.content_type != "application/pdf":
        abort(404)
    download = documents.open_version(current_user, document_id, number)
    response = Response(
        download_body(download), mimetype="application/pdf", direct_passthrough=True
    )
    response.headers["Content-Length"] = str(version.size)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- transmittals


def _transmittal_form(space) -> TransmittalForm:  # type: ignore[no-untyped-def]
    form = TransmittalForm()
    form.document_ids.choices = [
        (d.id, f"{d.title} (v{d.current_version_number})")
        for d in documents.list_documents(current_user, space.id)
    ]
    form.recipient_ids.choices = [
        (m.user.id, f"{m.user.name} <{m.user.email}>")
        for m in space.members
        if m.user.id != current_user.id
    ]
    return form


@bp.route("/spaces/<space_id>/transmittals/new", methods=["GET", "POST"])
@login_required
def new_transmittal(space_id: str) -> WerkzeugResponse | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.contribute)
    require_staff(current_user)
    form = _transmittal_form(space)
    status = 200
    if form.validate_on_submit():
        try:
            transmittal = transmittals.create_transmittal(
                current_user,
                space.id,
                document_ids=form.document_ids.data or [],
                recipient_ids=form.recipient_ids.data or [],
                due_date=form.due_date.data,
                message=form.message.data,
                today=date.today(),
            )
        except ValidationFailed as exc:
            status = 422
            errors_onto_form(form, exc, default="document_ids")
        else:
            flash(_("Remisión enviada."), "success")
            return redirect(url_for("review.transmittal", transmittal_id=transmittal.id))
    elif form.is_submitted():
        status = 422
    return render_template("review/transmittal_new.html", space=space, form=form), status


@bp.get("/transmittals/<transmittal_id>")
@login_required
def transmittal(transmittal_id: str) -> str:
    found = transmittals.get_transmittal(current_user, transmittal_id)
    return render_template(
        "review/transmittal.html",
        transmittal=found,
        cells=transmittals.access_table(found),
        state_labels=state_labels(review.scheme_for(found.space)),
    )


@bp.get("/spaces/<space_id>/transmittals")
@login_required
def transmittal_list(space_id: str) -> str:
    space = get_space(current_user, space_id)
    return render_template(
        "review/transmittal_list.html",
        space=space,
        transmittals=transmittals.list_transmittals(current_user, space.id),
    )


# ---------------------------------------------------------------- overview and notifications
# (CSRFProtect checks the token of every POST before these views run.)


@bp.get("/overview")
@login_required
def staff_overview() -> str:
    if not current_user.is_staff:
        return render_template(
            "review/waiting.html",
            waiting=overview.waiting_for(current_user),
            to_sign=signatures.waiting_for(current_user),
        )
    summaries = overview.staff_overview(
        current_user,
        client_id=request.args.get("client") or None,
        space_kind=request.args.get("kind") or None,
        state=request.args.get("state") or None,
    )
    total = overview.totals(summaries)
    return render_template(
        "review/overview.html",
        grouped=overview.group_by_client(summaries),
        total=total,
        peak=max(total.values(), default=0) or 1,
        states=overview.STATES,
        clients=overview.clients_for_filter(current_user),
        waiting=overview.waiting_for(current_user, client_id=request.args.get("client") or None),
    )


@bp.get("/notifications")
@login_required
def notification_list() -> str | WerkzeugResponse:
    try:
        items = notifications.list_notifications(current_user, cursor_page(request.args))
        # what is late, 50 at a time too (most overdue first), with a cursor of its own
        late = alerts.open_alerts_for(current_user, cursor_page(request.args, name="alerts_cursor"))
    except ValidationFailed as exc:  # an altered "older" link: back to the newest
        flash(exc.errors.get("cursor", exc.detail), "error")
        return redirect(url_for("review.notification_list"))
    return render_template(
        "review/notifications.html",
        items=items,
        describe=notifications.describe,
        alerts=late,
    )


@bp.post("/notifications/read")
@login_required
def notifications_read() -> WerkzeugResponse:
    notifications.mark_all_read(current_user)
    return redirect(url_for("review.notification_list"))


def state_labels(scheme) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """How the space words each review state, in the reader's language (once per page: lists
    show a state on every row). The standard scheme's wording is the catalogue's."""
    locale = str(get_locale())
    return {str(state): text.text(locale) for state, text in scheme.states.items()}


def document_context(document) -> dict:  # type: ignore[no-untyped-def]
    """What the document page needs for its review panel and comments."""
    version = document.current_version
    scheme = review.scheme_for(document.space)
    actions = review.allowed_actions_for(current_user, document, version) if version else []
    return {
        "review_form": ReviewForm(),
        "comment_form": CommentForm(),
        "actions": actions,
        "answers": scheme.answers_for(version.review_state) if version and actions else [],
        "scheme": scheme,
        # Events keep the answer's code; people read the answer as the space words it.
        "answer_labels": {a.code: a.label.text(str(get_locale())) for a in scheme.answers},
        "state_labels": state_labels(scheme),
        "comments": review.list_comments(current_user, document.id),
        "turn": review.reviewer_side_for(document, version).value if version else None,
        "events": review.review_history(current_user, document.id)[1] if version else [],
    }


__all__ = ["bp", "document_context", "get_document"]
