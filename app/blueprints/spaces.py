"""A space: its documents, folders, upload form and members."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import (
    PERMISSIONS,
    FolderForm,
    MemberForm,
    SpaceSettingsForm,
    UploadForm,
    errors_onto_form,
)
from app.blueprints.review import state_labels
from app.models import Permission
from app.page_cache import cached_page
from app.services import clients, documents, previews, requests, review
from app.services.access import can_manage_space, get_space, space_permission
from app.services.errors import DomainError, ValidationFailed

bp = Blueprint("spaces", __name__, url_prefix="/spaces")


def _upload_form(space) -> UploadForm:  # type: ignore[no-untyped-def]
    form = UploadForm(prefix="up")
    form.folder_id.choices = [("", _("(sin carpeta)"))] + [(f.id, f.name) for f in space.folders]
    return form


def _member_form(space) -> MemberForm:  # type: ignore[no-untyped-def]
    form = MemberForm(prefix="mem")
    form.user_id.choices = [
        (u.id, f"{u.name} <{u.email}>") for u in clients.candidate_members(current_user, space)
    ]
    return form


@bp.get("/<space_id>")
@login_required
@cached_page
def detail(space_id: str) -> str:
    return _render(space_id)


def _settings_form(space):  # type: ignore[no-untyped-def]
    sla = space.review_sla or {}
    return SpaceSettingsForm(
        prefix="cfg",
        label_scheme=space.label_scheme,
        read_days=sla.get("read_days", 2),
        decision_days=sla.get("decision_days", 5),
    )


def _render(
    space_id: str,
    upload_form=None,
    member_form=None,
    folder_form=None,
    status=200,
    settings_form=None,
):  # type: ignore[no-untyped-def]
    space = get_space(current_user, space_id)
    permission = space_permission(current_user, space)
    listing = documents.page_of_documents(
        current_user,
        space.id,
        q=request.args.get("q"),
        state=request.args.get("state"),
        folder_id=request.args.get("folder"),
        sort=request.args.get("sort"),
        page=request.args.get("page", 1, type=int) or 1,
    )
    found = listing.documents
    manage = can_manage_space(current_user, space)
    return (
        render_template(
            "spaces/detail.html",
            space=space,
            documents=found,
            listing=listing,
            thumbnails=previews.thumbnail_states(version for _document, version in listing.rows),
            state_labels=state_labels(review.scheme_for(space)),
            permission=permission,
            can_upload=permission in (Permission.contribute, Permission.manage),
            can_manage=manage,
            members=clients.list_members(current_user, space.id) if current_user.is_staff else [],
            upload_form=upload_form or _upload_form(space),
            member_form=member_form or (_member_form(space) if manage else None),
            folder_form=folder_form or FolderForm(prefix="fold"),
            settings_form=settings_form or (_settings_form(space) if manage else None),
            requests_list=requests.list_requests(current_user, space.id),
            request_progress=requests.progress_of,
            permission_labels=dict(PERMISSIONS),
        ),
        status,
    )


@bp.post("/<space_id>/upload")
@login_required
def upload(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.contribute)
    form = _upload_form(space)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            document = documents.upload_document(
                current_user,
                space.id,
                upload.stream,
                filename=upload.filename,
                title=form.title.data,
                visibility=form.visibility.data,
                category=form.category.data,
                folder_id=form.folder_id.data or None,
                note=form.note.data,
            )
        except DomainError as exc:
            errors_onto_form(form, exc, default="file")
        else:
            flash(_("Documento subido."), "success")
            return redirect(url_for("documents.detail", document_id=document.id))
    return _render(space.id, upload_form=form, status=422)


@bp.post("/<space_id>/members")
@login_required
def add_member(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.manage)
    form = _member_form(space)
    if form.validate_on_submit():
        try:
            clients.add_member(
                current_user,
                space.id,
                user_id=form.user_id.data or "",
                permission=form.permission.data or "",
            )
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="user_id")
        else:
            flash(_("Permisos actualizados."), "success")
            return redirect(url_for("spaces.detail", space_id=space.id))
    return _render(space.id, member_form=form, status=422)


@bp.post("/<space_id>/members/<user_id>/remove")
@login_required
def remove_member(space_id: str, user_id: str) -> Response:
    clients.remove_member(current_user, space_id, user_id)
    flash(_("Miembro retirado del espacio."), "success")
    return redirect(url_for("spaces.detail", space_id=space_id))


@bp.post("/<space_id>/folders")
@login_required
def add_folder(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.contribute)
    form = FolderForm(prefix="fold")
    if form.validate_on_submit():
        clients.create_folder(current_user, space.id, name=form.name.data or "")
        flash(_("Carpeta creada."), "success")
        return redirect(url_for("spaces.detail", space_id=space.id))
    return _render(space.id, folder_form=form, status=422)


@bp.post("/<space_id>/settings")
@login_required
def settings(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id, Permission.manage)
    form = SpaceSettingsForm(prefix="cfg")
    if form.validate_on_submit():
        try:
            clients.update_space(
                current_user,
                space.id,
                label_scheme=form.label_scheme.data,
                review_sla={
                    "read_days": form.read_days.data,
                    "decision_days": form.decision_days.data,
                },
            )
        except ValidationFailed as exc:
            errors_onto_form(form, exc, default="decision_days")
        else:
            flash(_("Ajustes de revisión guardados."), "success")
            return redirect(url_for("spaces.detail", space_id=space.id))
    return _render(space.id, settings_form=form, status=422)
