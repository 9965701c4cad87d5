"""A document: its versions, new version upload, download, restore, rename, delete."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import ConfirmForm, RenameForm, VersionForm, errors_onto_form
from app.blueprints.review import document_context
from app.httputil import send_version
from app.models import Permission
from app.services import documents, previews, review
from app.services.access import get_document, require_staff, space_permission
from app.services.errors import DomainError, InvalidTransition, ValidationFailed

bp = Blueprint("documents", __name__, url_prefix="/documents")


def _render(  # type: ignore[no-untyped-def]
    document_id: str,
    form: VersionForm | None = None,
    status: int = 200,
    rename: RenameForm | None = None,
):
    document = get_document(current_user, document_id)
    versions = documents.list_versions(current_user, document.id)
    if document.current_version is not None:
        review.record_open(current_user, document, document.current_version)
    permission = space_permission(current_user, document.space)
    return (
        render_template(
            "documents/detail.html",
            document=document,
            versions=versions,
            form=form or VersionForm(),
            confirm=ConfirmForm(),
            rename=rename or RenameForm(title=document.title),
            can_upload=permission in (Permission.contribute, Permission.manage),
            preview_kind=previews.kind_of(document.current_version)
            if document.current_version
            else None,
            thumbnails=previews.thumbnail_states([document.current_version]),
            **document_context(document),
        ),
        status,
    )


@bp.get("/<document_id>")
@login_required
def detail(document_id: str):  # type: ignore[no-untyped-def]
    return _render(document_id)


@bp.post("/<document_id>/versions")
@login_required
def new_version(document_id: str):  # type: ignore[no-untyped-def]
    document = get_document(current_user, document_id, Permission.contribute)
    form = VersionForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            documents.upload_version(
                current_user,
                document.id,
                upload.stream,
                filename=upload.filename,
                note=form.note.data,
            )
        except DomainError as exc:
            errors_onto_form(form, exc, default="file")
        else:
            flash(_("Nueva versión subida."), "success")
            return redirect(url_for("documents.detail", document_id=document.id))
    return _render(document.id, form=form, status=422)


@bp.post("/<document_id>/rename")
@login_required
def rename(document_id: str):  # type: ignore[no-untyped-def]
    document = get_document(current_user, document_id, Permission.contribute)
    require_staff(current_user)  # before the form: a client never gets to type a title
    form = RenameForm()
    if form.validate_on_submit():
        try:
            documents.rename_document(current_user, document.id, form.title.data)
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="title")
        else:
            flash(_("Título cambiado."), "success")
            return redirect(url_for("documents.detail", document_id=document.id))
    return _render(document.id, status=422, rename=form)


@bp.get("/<document_id>/versions/<int:number>/download")
@login_required
def download(document_id: str, number: int) -> Response:
    user = current_user._get_current_object()
    version = documents.get_version(user, document_id, number)

    # What opening records (the first read, the download count) is committed when the answer
    # leaves, before its body is sent.
    return send_version(
        version.size,
        version.sha256,
        lambda start, length: documents.open_version(
            user, document_id, number, start=start, length=length
        ),
        version.filename,
        version.content_type,
        allow_redirect=True,
    )


@bp.post("/<document_id>/versions/<int:number>/restore")
@login_required
def restore(document_id: str, number: int) -> Response:
    if ConfirmForm().validate_on_submit():
        version = documents.restore_version(current_user, document_id, number)
        flash(
            _("Versión %(old)s restaurada como versión %(new)s.", old=number, new=version.number),
            "success",
        )
    return redirect(url_for("documents.detail", document_id=document_id))


@bp.post("/<document_id>/delete")
@login_required
def delete(document_id: str) -> Response:
    document = get_document(current_user, document_id, Permission.contribute)
    space_id = document.space_id
    if ConfirmForm().validate_on_submit():
        try:
            documents.delete_document(current_user, document.id)
        except InvalidTransition as exc:
            flash(exc.detail, "error")
            return redirect(url_for("documents.detail", document_id=document.id))
        flash(_("Documento eliminado."), "success")
    return redirect(url_for("spaces.detail", space_id=space_id))
