"""Conversations instead of e-mail: threads of a space, messages with files, read receipts.

A thread is ``shared`` (the firm and the client's members of the space) or ``internal``
(the firm's staff only); inside a shared thread staff may leave ``internal`` notes. The
rules of internal documents apply: a client never learns that an internal thread or note
exists, in lists, counts, notifications or e-mail. Files sent with a message become
documents of the space through the ordinary upload path (with their review state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select

from app.extensions import db
from app.models import Message, Permission, Thread, ThreadRead, User
from app.models.base import as_utc
from app.services import audit, documents, mail_addresses
from app.services.access import get_space, space_permission
from app.services.errors import NotFound, ValidationFailed
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.review import space_people
from app.services.text import checked_text

VISIBILITIES = ("shared", "internal")
MAX_FILES = 10
BODY_MAX = 20000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, as received."""

    stream: BinaryIO
    filename: str | None


# ---------------------------------------------------------------- who sees what


def can_see_thread(user: User, thread: Thread) -> bool:
    if space_permission(user, thread.space) is None:
        return False
    return thread.visibility == "shared" or user.is_staff


def get_thread(actor: User, thread_id: str) -> Thread:
    """A thread the caller may see; anything else is not found."""
    thread = db.session.get(Thread, str(thread_id or ""))
    if thread is None or not can_see_thread(actor, thread):
        raise NotFound()
    return thread


def _readers(thread: Thread, *, internal: bool) -> list[User]:
    people = [u for u in space_people(thread.space) if u.active]
    if thread.visibility == "internal" or internal:
        people = [u for u in people if u.is_staff]
    return people


# ---------------------------------------------------------------- threads and messages


def _checked_body(errors: dict[str, str], body: Any) -> str | None:
    return checked_text(errors, "body", body, max_length=BODY_MAX, required=True, multiline=True)


def create_thread(
    actor: User,
    space_id: str,
    *,
    subject: Any,
    body: Any,
    visibility: Any = None,
    files: Sequence[Attachment] = (),
) -> Thread:
    """Open a thread with its first message (a client's are always shared)."""
    space = get_space(actor, space_id, Permission.view)
    errors: dict[str, str] = {}
    clean_subject = checked_text(errors, "subject", subject, max_length=300, required=True)
    clean_body = _checked_body(errors, body)
    chosen = "shared" if visibility in (None, "") else visibility  # not said: shared
    if actor.is_client:
        chosen = "shared"  # a client never chooses, and never learns internal ones exist
    elif chosen not in VISIBILITIES:
        errors["visibility"] = _("La visibilidad debe ser shared o internal.")
    if errors:
        raise ValidationFailed(errors)
    thread = Thread(
        space_id=space.id,
        subject=clean_subject or "",
        visibility=chosen,
        created_by_id=actor.id,
        created_at=_now(),
        last_message_at=_now(),
    )
    db.session.add(thread)
    db.session.flush()
    audit.record("thread_created", actor, f"thread:{thread.id}", space=space.id, visibility=chosen)
    _add_message(actor, thread, clean_body or "", files=files, internal=False)
    return thread


def post_message(
    actor: User,
    thread_id: str,
    *,
    body: Any,
    files: Sequence[Attachment] = (),
    internal: bool = False,
    source: str = "web",
    email_message_id: str | None = None,
) -> Message:
    """Add a message (and its files as documents of the space) and tell the others."""
    thread = get_thread(actor, thread_id)
    errors: dict[str, str] = {}
    clean_body = _checked_body(errors, body)
    if internal and not actor.is_staff:
        internal = False  # a client's message is always seen by both sides
    if errors:
        raise ValidationFailed(errors)
    return _add_message(
        actor,
        thread,
        clean_body or "",
        files=files,
        internal=internal,
        source=source,
        email_message_id=email_message_id,
    )


def _add_message(
    actor: User,
    thread: Thread,
    body: str,
    *,
    files: Sequence[Attachment],
    internal: bool,
    source: str = "web",
    email_message_id: str | None = None,
) -> Message:
    if len(files) > MAX_FILES:
        raise ValidationFailed({"file": _("Como mucho %(n)s archivos por mensaje.", n=MAX_FILES)})
    need = Permission.contribute if files else Permission.view
    get_space(actor, thread.space_id, need)
    hidden = thread.visibility == "internal" or internal
    attached = [
        documents.upload_document(
            actor,
            thread.space_id,
            upload.stream,
            filename=upload.filename,
            visibility="internal" if hidden and actor.is_staff else None,
            note=_("Enviado en la conversación «%(subject)s»", subject=thread.subject[:200]),
        ).id
        for upload in files
    ]
    message = Message(
        thread_id=thread.id,
        author_id=actor.id,
        body=body,
        internal=internal,
        attachments=attached,
        source=source,
        email_message_id=email_message_id,
        created_at=_now(),
    )
    db.session.add(message)
    thread.last_message_at = message.created_at
    db.session.flush()
    _mark_read(actor, thread, message.created_at)
    audit.record(
        "message_posted",
        actor,
        f"thread:{thread.id}",
        message=message.id,
        internal=internal,
        attachments=attached,
        source=source,
    )
    others = [u for u in _readers(thread, internal=internal) if u.id != actor.id]
    notify(
        others,
        "message_posted",
        link=f"/threads/{thread.id}",
        reply_to=lambda user: mail_addresses.reply_address(thread, user),
        title=thread.subject,
        actor=actor.name,
        excerpt=body[:120],
    )
    return message


def list_threads(
    actor: User, space_id: str, page: PageArgs | None = None
) -> Page[tuple[Thread, int]]:
    """The threads of a space the caller may see, latest first, each with its unread count.

    The order follows the last message: a thread that gets one while the caller pages moves
    to the front, where a walk already past it does not see it again.
    """
    space = get_space(actor, space_id, Permission.view)
    query = select(Thread).where(Thread.space_id == space.id)
    if not actor.is_staff:
        query = query.where(Thread.visibility == "shared")
    order = (Key(Thread.last_message_at, desc=True), Key(Thread.id, desc=True))
    threads = keyset(query, order, page, scope=f"threads:{space.id}")
    counts = unread_by_thread(actor, [t.id for t in threads])
    return Page(((thread, counts.get(thread.id, 0)) for thread in threads), threads.next)


def unread_by_thread(actor: User, thread_ids: list[str]) -> dict[str, int]:
    if not thread_ids:
        return {}
    read = (
        select(ThreadRead.thread_id, ThreadRead.read_at)
        .where(ThreadRead.user_id == actor.id)
        .subquery()
    )
    query = (
        select(Message.thread_id, func.count(Message.id))
        .outerjoin(read, read.c.thread_id == Message.thread_id)
        .where(
            Message.thread_id.in_(thread_ids),
            Message.author_id != actor.id,
            (read.c.read_at.is_(None)) | (Message.created_at > read.c.read_at),
        )
        .group_by(Message.thread_id)
    )
    if not actor.is_staff:
        query = query.where(Message.internal.is_(False))
    return dict(db.session.execute(query).all())  # type: ignore[arg-type]


def _my_threads(actor: User) -> Select[tuple[Thread]]:
    """Every thread the caller may see, in every space they may see."""
    from app.services.access import in_visible_spaces

    query = in_visible_spaces(select(Thread), actor, Thread.space_id)
    if not actor.is_staff:
        query = query.where(Thread.visibility == "shared")
    return query


def list_my_threads(actor: User, page: PageArgs | None = None) -> Page[tuple[Thread, int]]:
    """Every thread the caller may see, latest first, with unread counts (their inbox)."""
    order = (Key(Thread.last_message_at, desc=True), Key(Thread.id, desc=True))
    threads = keyset(_my_threads(actor), order, page, scope="my-threads")
    counts = unread_by_thread(actor, [t.id for t in threads])
    return Page(((thread, counts.get(thread.id, 0)) for thread in threads), threads.next)


def _unread_everywhere(actor: User) -> dict[str, int]:
    """Unread messages by thread, in every thread the caller may see that has some.

    Only threads with a message after the caller's last read are counted (the header asks
    on every page: a firm's years of threads, nearly all read, are not counted again)."""
    read = and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == actor.id)
    ids = list(
        db.session.execute(
            _my_threads(actor)
            .with_only_columns(Thread.id)
            .outerjoin(ThreadRead, read)
            .where(or_(ThreadRead.read_at.is_(None), Thread.last_message_at > ThreadRead.read_at))
        ).scalars()
    )
    return {k: v for k, v in unread_by_thread(actor, ids).items() if v}


def unread_threads(actor: User) -> list[tuple[Thread, int]]:
    """The threads with messages the caller has not read, latest first, with how many."""
    counts = _unread_everywhere(actor)
    if not counts:
        return []
    threads = db.session.execute(
        select(Thread)
        .where(Thread.id.in_(list(counts)))
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
    ).scalars()
    return [(thread, counts[thread.id]) for thread in threads]


def unread_count(actor: User) -> int:
    """Unread messages in every thread the caller may see (the header's count)."""
    return sum(_unread_everywhere(actor).values())


def open_thread(
    actor: User, thread_id: str, page: PageArgs | None = None
) -> tuple[Thread, Page[Message]]:
    """The thread and its messages as the caller sees them, oldest first; reading marks
    them read.

    ``page`` None: every message (the API's thread). Otherwise the latest ``page.limit``
    ones, and as ``next`` the cursor of those before them: a thread of a few years opens
    on its last messages, as a messaging app does, and earlier ones come on demand.
    """
    thread = get_thread(actor, thread_id)
    query = select(Message).where(Message.thread_id == thread.id)
    if not actor.is_staff:  # a client never sees the firm's internal notes
        query = query.where(Message.internal.is_(False))
    order = (Key(Message.created_at, desc=True), Key(Message.id, desc=True))
    latest_first = keyset(query, order, page, scope=f"messages:{thread.id}")
    messages = Page(reversed(latest_first), latest_first.next)
    if messages:
        _mark_read(actor, thread, max(m.created_at for m in messages))
    return thread, messages


def _mark_read(actor: User, thread: Thread, until: datetime) -> None:
    row = db.session.execute(
        select(ThreadRead).where(ThreadRead.thread_id == thread.id, ThreadRead.user_id == actor.id)
    ).scalar_one_or_none()
    if row is None:
        db.session.add(ThreadRead(thread_id=thread.id, user_id=actor.id, read_at=until))
    elif as_utc(row.read_at) < as_utc(until):
        row.read_at = until
    db.session.flush()


def read_receipts(actor: User, thread: Thread, messages: Sequence[Message]) -> dict[str, list[str]]:
    """For each of ``messages`` (as the caller sees them), the ids of the people (the caller
    may know of) who have read it."""
    rows = db.session.execute(
        select(ThreadRead.user_id, ThreadRead.read_at).where(ThreadRead.thread_id == thread.id)
    ).all()
    people = {u.id: u for u in space_people(thread.space)}
    receipts: dict[str, list[str]] = {}
    for message in messages:
        receipts[message.id] = [
            user_id
            for user_id, read_at in rows
            if user_id != message.author_id
            and as_utc(read_at) >= as_utc(message.created_at)
            and (user_id in people or user_id == actor.id)
            and (not message.internal or (people.get(user_id) and people[user_id].is_staff))
        ]
    return receipts


def people_names(thread: Thread) -> dict[str, str]:
    """Names of the space's people, for read receipts and authors."""
    return {user.id: user.name for user in space_people(thread.space)}
