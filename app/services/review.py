"""Review of document versions: states, who reviews, reading receipts, comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Alert,
    Comment,
    Document,
    DocumentVersion,
    ReviewEvent,
    Space,
    SpaceMember,
    User,
    VersionAccess,
    Visibility,
)
from app.models.base import new_id
from app.services import audit
from app.services.access import can_see_document, get_document
from app.services.errors import AccessDenied, InvalidTransition, NotFound, ValidationFailed
from app.services.notifications import notify
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.text import checked_text
from workflows import review as rules
from workflows.review import ReviewAction, ReviewState, Side

#: Longer than any comment a person types; a longer one is refused, never cut.
COMMENT_MAX_LENGTH = 5000


def side_of(user: User) -> Side:
    return Side.CLIENT if user.is_client else Side.FIRM


def _now() -> datetime:
    return datetime.now(UTC)


def scheme_for(space: Space) -> rules.LabelScheme:
    try:
        return rules.get_label_scheme(space.label_scheme or "default")
    except rules.UnknownLabelScheme:
        return rules.get_label_scheme("default")


def reviewer_side_for(document: Document, version: DocumentVersion) -> Side:
    return rules.reviewer_side(
        side_of(version.uploaded_by), document.visibility == Visibility.internal
    )


def may_review(user: User, document: Document, version: DocumentVersion) -> bool:
    return rules.may_review(
        actor_side=side_of(user),
        uploader_side=side_of(version.uploaded_by),
        internal=document.visibility == Visibility.internal,
        actor_is_uploader=user.id == version.uploaded_by_id,
    )


def allowed_actions_for(user: User, document: Document, version: DocumentVersion) -> list[str]:
    if not may_review(user, document, version):
        return []
    state = ReviewState(version.review_state)
    return [a.value for a in rules.allowed_actions(state) if a != ReviewAction.OPEN]


def space_people(space: Space) -> list[User]:
    rows = db.session.execute(
        select(User)
        .join(SpaceMember, SpaceMember.user_id == User.id)
        .where(SpaceMember.space_id == space.id)
    ).scalars()
    return list(rows)


def whose_turn(document: Document, version: DocumentVersion) -> list[User]:
    """The people who should review this version now (never a client for internal documents)."""
    side = reviewer_side_for(document, version)
    people = [
        u
        for u in space_people(document.space)
        if side_of(u) == side and u.id != version.uploaded_by_id and can_see_document(u, document)
    ]
    if not people and side == Side.FIRM:
        people = list(
            db.session.execute(
                select(User).where(User.role == "admin", User.active.is_(True))
            ).scalars()
        )
    return people


def managers_of(space: Space) -> list[User]:
    rows = db.session.execute(
        select(User)
        .join(SpaceMember, SpaceMember.user_id == User.id)
        .where(
            SpaceMember.space_id == space.id,
            SpaceMember.permission == "manage",
            User.role != "client",
        )
    ).scalars()
    managers = list(rows)
    if not managers:
        managers = list(
            db.session.execute(
                select(User).where(User.role == "admin", User.active.is_(True))
            ).scalars()
        )
    return managers


def _resolve_alerts(version_id: str) -> None:
    db.session.execute(
        update(Alert)
        .where(Alert.kind == "review", Alert.target_id == version_id, Alert.resolved_at.is_(None))
        .values(resolved_at=_now())
    )


def _apply(
    actor: User,
    document: Document,
    version: DocumentVersion,
    action: ReviewAction,
    *,
    comment: str | None,
    label: str | None = None,
) -> str:
    old = ReviewState(version.review_state)
    try:
        new = rules.apply(
            old,
            action,
            actor_side=side_of(actor),
            uploader_side=side_of(version.uploaded_by),
            internal=document.visibility == Visibility.internal,
            actor_is_uploader=actor.id == version.uploaded_by_id,
            comment=comment,
        )
    except rules.CommentRequired:
        raise ValidationFailed({"comment": _("Explique qué hay que cambiar.")}) from None
    except rules.NotReviewer:
        raise AccessDenied(
            _("Esta versión la revisa la otra parte, y nadie revisa lo que ha subido él mismo.")
        ) from None
    except rules.InvalidTransition as exc:
        raise InvalidTransition(
            _(
                "No se puede «%(action)s» una versión en estado «%(state)s».",
                action=action.value,
                state=old.value,
            ),
        ) from exc
    if new == old:
        return new.value
    version.review_state = new.value
    version.review_state_at = _now()
    db.session.add(
        ReviewEvent(
            version_id=version.id,
            actor_id=actor.id,
            from_state=old.value,
            to_state=new.value,
            action=action.value,
            label=label,
            comment=(comment or "").strip() or None,
        )
    )
    _resolve_alerts(version.id)
    audit.record(
        f"review_{action.value}",
        actor,
        f"document:{document.id}",
        version=version.number,
        from_state=old.value,
        to_state=new.value,
        label=label,
    )
    if action != ReviewAction.OPEN:
        audience = [version.uploaded_by] if can_see_document(version.uploaded_by, document) else []
        notify(
            audience,
            "review_decision",
            link=f"/documents/{document.id}",
            title=document.title,
            version=version.number,
            state=new.value,
            actor=actor.name,
        )
    db.session.flush()
    return new.value


def review_document(
    actor: User,
    document_id: str,
    action: Any,
    *,
    comment: Any = None,
    label: Any = None,
) -> DocumentVersion:
    """Check, validate or request changes on the current version (or answer with a label)."""
    document = get_document(actor, document_id)
    version = document.current_version
    if version is None:
        raise NotFound()
    errors: dict[str, str] = {}
    comment = checked_text(
        errors, "comment", comment, max_length=COMMENT_MAX_LENGTH, multiline=True
    )
    for name, value in (("action", action), ("label", label)):
        if value is not None and not isinstance(value, str):
            errors[name] = _("Debe ser un texto.")
    if errors:
        raise ValidationFailed(errors)
    if label:
        try:
            answer = scheme_for(document.space).answer(label)
        except rules.UnknownLabel:
            raise ValidationFailed(
                {"label": _("Esa respuesta no existe en este espacio.")}
            ) from None
        if answer.requires_comment and not (comment or "").strip():
            raise ValidationFailed({"comment": _("Esta respuesta necesita un comentario.")})
        chosen = answer.action
        label = answer.code
    else:
        try:
            chosen = ReviewAction(action or "")
        except ValueError:
            raise ValidationFailed(
                {"action": _("La acción debe ser check, validate o request_changes.")}
            ) from None
        if chosen == ReviewAction.OPEN:
            raise ValidationFailed(
                {"action": _("La acción debe ser check, validate o request_changes.")}
            )
    _apply(actor, document, version, chosen, comment=comment, label=label)
    if comment:
        db.session.add(
            Comment(
                document_id=document.id,
                version_number=version.number,
                author_id=actor.id,
                body=comment,
            )
        )
    return version


def record_open(
    actor: User, document: Document, version: DocumentVersion, *, downloaded: bool = False
) -> None:
    """Remember who opened or downloaded a version; a reviewer's first look marks it read.

    Written as single statements (insert-if-absent, then conditional updates) because a
    browser opens the same version in parallel requests (the page and its PDF viewer).
    """
    now = _now()
    table = VersionAccess.__table__
    dialect = db.session.get_bind().dialect.name
    values = {
        "id": new_id(),
        "version_id": version.id,
        "user_id": actor.id,
        "first_opened_at": now,
        "downloads": 0,
    }
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    db.session.execute(
        upsert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["version_id", "user_id"])
    )
    mine = (table.c.version_id == version.id) & (table.c.user_id == actor.id)
    if downloaded:
        db.session.execute(update(table).where(mine).values(downloads=table.c.downloads + 1))
        db.session.execute(
            update(table)
            .where(mine & table.c.first_downloaded_at.is_(None))
            .values(first_downloaded_at=now)
        )
    if version.review_state == ReviewState.RECEIVED and may_review(actor, document, version):
        _apply(actor, document, version, ReviewAction.OPEN, comment=None)
    db.session.flush()


def version_started(document: Document, version: DocumentVersion) -> None:
    """A new version starts at received; the previous one's alerts end; reviewers are told."""
    version.review_state = ReviewState.RECEIVED.value
    version.review_state_at = version.created_at or _now()
    for older in document.versions:
        if older.id != version.id:
            _resolve_alerts(older.id)
    notify(
        whose_turn(document, version),
        "review_requested",
        link=f"/documents/{document.id}",
        title=document.title,
        version=version.number,
    )


def review_history(actor: User, document_id: str) -> tuple[DocumentVersion, list[ReviewEvent]]:
    document = get_document(actor, document_id)
    version = document.current_version
    if version is None:
        raise NotFound()
    events = list(
        db.session.execute(
            select(ReviewEvent).where(ReviewEvent.version_id == version.id).order_by(ReviewEvent.at)
        ).scalars()
    )
    return version, events


# ---------------------------------------------------------------- comments


def add_comment(
    actor: User,
    document_id: str,
    *,
    body: str,
    version: int | None = None,
    page: int | None = None,
    x: float | None = None,
    y: float | None = None,
) -> Comment:
    document = get_document(actor, document_id)
    errors: dict[str, str] = {}
    if body is None or (isinstance(body, str) and not body.strip()):
        errors["body"] = _("Escriba el comentario.")
    text = checked_text(
        errors, "body", body, max_length=COMMENT_MAX_LENGTH, required=True, multiline=True
    )
    number = version or document.current_version_number
    if not any(v.number == number for v in document.versions):
        errors["version"] = _("Esa versión no existe.")
    if page is not None and (not isinstance(page, int) or page < 1):
        errors["page"] = _("La página debe ser un número a partir de 1.")
    for name, value in (("x", x), ("y", y)):
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            errors[name] = _("La posición va de 0 a 1 (fracción del ancho o alto de la página).")
    if (x is None) != (y is None) or (x is not None and page is None):
        errors.setdefault("page", _("Un comentario fijado necesita página, x e y."))
    if errors:
        raise ValidationFailed(errors)
    comment = Comment(
        document_id=document.id,
        version_number=number,
        author_id=actor.id,
        body=text,
        page=page,
        x=float(x) if x is not None else None,
        y=float(y) if y is not None else None,
    )
    db.session.add(comment)
    db.session.flush()
    audit.record("comment_added", actor, f"document:{document.id}", comment_id=comment.id)
    others = [
        u
        for u in space_people(document.space)
        if u.id != actor.id and can_see_document(u, document)
    ]
    notify(
        others,
        "comment_added",
        link=f"/documents/{document.id}",
        title=document.title,
        actor=actor.name,
        excerpt=comment.body[:80],
    )
    return comment


def list_comments(actor: User, document_id: str, page: PageArgs | None = None) -> Page[Comment]:
    """A document's comments, oldest first."""
    document = get_document(actor, document_id)
    query = select(Comment).where(Comment.document_id == document.id)
    order = (Key(Comment.created_at), Key(Comment.id))
    return keyset(query, order, page, scope=f"comments:{document.id}")


def resolve_comment(actor: User, comment_id: str) -> Comment:
    comment = db.session.get(Comment, str(comment_id))
    if comment is None:
        raise NotFound()
    get_document(actor, comment.document_id)
    if comment.resolved_at is None:
        comment.resolved_at = _now()
        comment.resolved_by_id = actor.id
        audit.record(
            "comment_resolved", actor, f"document:{comment.document_id}", comment_id=comment.id
        )
    return comment
