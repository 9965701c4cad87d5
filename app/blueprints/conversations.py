"""Conversations and incidents on the web: a space's threads, a thread as a chat, the queue."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.forms import errors_onto_form, flash_refusal
from app.models import Message, Thread
from app.services import conversations, incidents
from app.services.access import get_space
from app.services.errors import DomainError, ValidationFailed
from app.services.paging import PageArgs, cursor_page

bp = Blueprint("conversations", __name__)

PRIORITY_LABELS = {
    "low": _l("Baja"),
    "normal": _l("Normal"),
    "high": _l("Alta"),
    "urgent": _l("Urgente"),
}
STATUS_LABELS = {
    "open": _l("Abierta"),
    "in_progress": _l("En curso"),
    "waiting_client": _l("Esperando al cliente"),
    "resolved": _l("Resuelta"),
}


class ThreadForm(FlaskForm):
    subject = StringField(_l("Asunto"), validators=[Length(max=300)])
    body = TextAreaField(_l("Mensaje"), validators=[Length(max=20000)])
    internal = BooleanField(_l("Solo para el despacho (el cliente no la verá)"))
    files = MultipleFileField(_l("Adjuntar archivos"))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Mensaje"), validators=[Length(max=20000)])
    internal = BooleanField(_l("Nota interna (solo el despacho)"))
    files = MultipleFileField(_l("Adjuntar archivos"))


class IncidentForm(FlaskForm):
    title = StringField(_l("¿Qué ocurre?"), validators=[Length(max=300)])
    body = TextAreaField(_l("Cuéntenos los detalles"), validators=[Length(max=20000)])
    category = StringField(_l("Categoría (opcional)"), validators=[Optional(), Length(max=100)])
    priority = SelectField(_l("Prioridad"), choices=list(PRIORITY_LABELS.items()), default="normal")


class IncidentChangeForm(FlaskForm):
    status = SelectField(_l("Estado"), choices=list(STATUS_LABELS.items()))
    priority = SelectField(_l("Prioridad"), choices=list(PRIORITY_LABELS.items()))


def _files(field: MultipleFileField) -> list[conversations.Attachment]:
    return [
        conversations.Attachment(upload.stream, upload.filename)
        for upload in (field.data or [])
        if getattr(upload, "filename", None)
    ]


@bp.get("/threads")
@login_required
def inbox() -> str:
    try:
        rows = conversations.list_my_threads(current_user, cursor_page(request.args))
    except ValidationFailed as exc:  # an altered "more" link: the latest threads
        flash(exc.errors.get("cursor", exc.detail), "error")
        rows = conversations.list_my_threads(current_user, PageArgs())
    return render_template("conversations/inbox.html", rows=rows)


@bp.route("/spaces/<space_id>/threads", methods=["GET", "POST"])
@login_required
def space_threads(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id)
    form = ThreadForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                thread = conversations.create_thread(
                    current_user,
                    space.id,
                    subject=form.subject.data,
                    body=form.body.data,
                    visibility="internal" if form.internal.data else "shared",
                    files=_files(form.files),
                )
            except DomainError as exc:
                errors_onto_form(form, exc, default="body", fields={"file": "files"})
                status = exc.status
            else:
                return redirect(url_for("conversations.thread", thread_id=thread.id))
        else:
            status = 422
    try:
        rows = conversations.list_threads(current_user, space.id, cursor_page(request.args))
    except ValidationFailed as exc:  # an altered "more" link: the latest threads
        flash(exc.errors.get("cursor", exc.detail), "error")
        rows = conversations.list_threads(current_user, space.id, PageArgs())
    return render_template("conversations/space.html", space=space, rows=rows, form=form), status


#: Messages a thread page shows at once: the latest, and a link to the ones before.
MESSAGES_PER_PAGE = 50


def _render_thread(  # type: ignore[no-untyped-def]
    thread_id: str,
    form: MessageForm | None = None,
    status: int = 200,
    *,
    earlier: str | None = None,
):
    page = PageArgs(cursor=earlier, limit=MESSAGES_PER_PAGE)
    thread, messages = conversations.open_thread(current_user, thread_id, page)
    incident = incidents.incident_of_thread(current_user, thread)
    change = None
    if incident is not None:
        change = IncidentChangeForm(status=incident.status, priority=incident.priority)
    return (
        render_template(
            "conversations/thread.html",
            thread=thread,
            messages=messages,
            earlier=earlier,
            readers=_reader_names(thread, messages),
            form=form or MessageForm(),
            incident=incident,
            change=change,
            status_labels=STATUS_LABELS,
            priority_labels=PRIORITY_LABELS,
        ),
        status,
    )


def _reader_names(thread: Thread, messages: list[Message]) -> dict[str, list[str]]:
    names = conversations.people_names(thread)
    receipts = conversations.read_receipts(current_user, thread, messages)
    return {
        message_id: [names[user_id] for user_id in user_ids if user_id in names]
        for message_id, user_ids in receipts.items()
    }


@bp.get("/threads/<thread_id>")
@login_required
def thread(thread_id: str):  # type: ignore[no-untyped-def]
    earlier = request.args.get("antes") or None
    try:
        return _render_thread(thread_id, earlier=earlier)
    except ValidationFailed as exc:
        if "cursor" not in exc.errors:
            raise
        # an altered "earlier messages" link: the thread as it opens, with a word on why
        flash(_("Ese enlace a mensajes anteriores no es válido: aquí están los últimos."), "error")
        return redirect(url_for("conversations.thread", thread_id=thread_id))


@bp.post("/threads/<thread_id>/messages")
@login_required
def post_message(thread_id: str):  # type: ignore[no-untyped-def]
    found: Thread = conversations.get_thread(current_user, thread_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            conversations.post_message(
                current_user,
                found.id,
                body=form.body.data,
                files=_files(form.files),
                internal=bool(form.internal.data),
            )
        except DomainError as exc:
            errors_onto_form(form, exc, default="body", fields={"file": "files"})
            return _render_thread(found.id, form, exc.status)
        return redirect(url_for("conversations.thread", thread_id=found.id) + "#ultimo")
    return _render_thread(found.id, form, 422)


@bp.get("/incidents")
@login_required
def incident_queue() -> str | Response:
    status = request.args.get("status") or None
    priority = request.args.get("priority") or None
    page = cursor_page(request.args)
    try:
        rows = incidents.list_incidents(current_user, status=status, priority=priority, page=page)
    except ValidationFailed as exc:
        if "cursor" in exc.errors:  # an altered "more" link: the first page, same filters
            flash(exc.errors["cursor"], "error")
            return redirect(
                url_for("conversations.incident_queue", status=status, priority=priority)
            )
        rows, status, priority = incidents.list_incidents(current_user, page=PageArgs()), None, None
    return render_template(
        "conversations/incidents.html",
        rows=rows,
        status=status,
        priority=priority,
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
    )


@bp.route("/spaces/<space_id>/incidents/new", methods=["GET", "POST"])
@login_required
def new_incident(space_id: str) -> Response | tuple[str, int]:
    space = get_space(current_user, space_id)
    form = IncidentForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                incident = incidents.create_incident(
                    current_user,
                    space.id,
                    title=form.title.data,
                    body=form.body.data,
                    category=form.category.data or None,
                    priority=form.priority.data,
                )
            except DomainError as exc:
                errors_onto_form(form, exc, default="body")
                status = exc.status
            else:
                flash(_("Incidencia abierta: le contestaremos aquí."), "success")
                return redirect(url_for("conversations.thread", thread_id=incident.thread_id))
        else:
            status = 422
    return render_template("conversations/new_incident.html", space=space, form=form), status


@bp.get("/incidents/<incident_id>")
@login_required
def incident(incident_id: str) -> Response:
    found = incidents.get_incident(current_user, incident_id)
    return redirect(url_for("conversations.thread", thread_id=found.thread_id))


@bp.post("/incidents/<incident_id>")
@login_required
def change_incident(incident_id: str) -> Response:
    found = incidents.get_incident(current_user, incident_id)
    form = IncidentChangeForm()
    if form.validate_on_submit():
        try:
            if current_user.is_staff:
                incidents.update_incident(
                    current_user, found.id, status=form.status.data, priority=form.priority.data
                )
            else:
                incidents.update_incident(current_user, found.id, status=form.status.data)
        except DomainError as exc:
            flash_refusal(exc)
        else:
            flash(_("Incidencia actualizada."), "success")
    return redirect(url_for("conversations.thread", thread_id=found.thread_id))
