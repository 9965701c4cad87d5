"""Clients, their spaces, members and folders."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    Client,
    ClientKind,
    Folder,
    Permission,
    Space,
    SpaceKind,
    SpaceMember,
    User,
)
from app.models.base import new_id
from app.services import audit
from app.services.access import (
    get_client,
    get_space,
    require_staff,
    visible_clients_query,
    visible_spaces_query,
)
from app.services.errors import NotFound, ValidationFailed
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.text import checked_text


def create_client(
    actor: User, *, name: str, tax_id: str | None = None, kind: str = "company"
) -> Client:
    require_staff(actor)
    errors: dict[str, str] = {}
    if isinstance(name, str | None) and not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    clean_name = checked_text(errors, "name", name, max_length=200, required=True)
    clean_tax_id = checked_text(errors, "tax_id", tax_id, max_length=32)
    if kind not in {k.value for k in ClientKind}:
        errors["kind"] = _("El tipo debe ser person o company.")
    if errors:
        raise ValidationFailed(errors)
    client = Client(name=clean_name, tax_id=clean_tax_id, kind=kind)
    db.session.add(client)
    db.session.flush()
    audit.record("client_created", actor, f"client:{client.id}", name=client.name)
    return client


#: The order of the lists of clients and of spaces: by name (the id breaks ties).
CLIENT_ORDER = (Key(Client.name), Key(Client.id))
SPACE_ORDER = (Key(Space.name), Key(Space.id))


def list_clients(actor: User, page: PageArgs | None = None) -> Page[Client]:
    return keyset(visible_clients_query(actor), CLIENT_ORDER, page, scope="clients")


def count_clients(actor: User) -> int:
    """How many clients the caller sees (counted by the database, none loaded)."""
    counted = visible_clients_query(actor).with_only_columns(func.count(Client.id)).order_by(None)
    return db.session.execute(counted).scalar_one()


def list_client_users(actor: User, client_id: str) -> list[User]:
    """The people of a client, by name (for the firm: a client never lists its colleagues)."""
    client = get_client(actor, client_id)
    require_staff(actor)
    query = select(User).where(User.client_id == client.id).order_by(User.name)
    return list(db.session.execute(query).scalars())


def create_space(actor: User, client_id: str, *, name: str, kind: str = "general") -> Space:
    client = get_client(actor, client_id)
    require_staff(actor)
    errors: dict[str, str] = {}
    if isinstance(name, str | None) and not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    clean_name = checked_text(errors, "name", name, max_length=200, required=True)
    if kind not in {k.value for k in SpaceKind}:
        errors["kind"] = _("El tipo debe ser case, fiscal_year, project o general.")
    if errors:
        raise ValidationFailed(errors)
    space = Space(client_id=client.id, name=clean_name, kind=kind)
    db.session.add(space)
    db.session.flush()
    if not actor.is_admin:
        # The staff member who opens a space manages it.
        db.session.add(
            SpaceMember(space_id=space.id, user_id=actor.id, permission=Permission.manage)
        )
    audit.record("space_created", actor, f"space:{space.id}", client_id=client.id, name=space.name)
    return space


def create_spaces(actor: User, client_ids: list[str], *, name: str, kind: str) -> dict[str, Space]:
    """The same space for many clients at once (a campaign's batch), by client id: checked,
    made and audited as ``create_space`` makes one."""
    require_staff(actor)
    errors: dict[str, str] = {}
    clean_name = checked_text(errors, "name", name, max_length=200, required=True)
    if kind not in {k.value for k in SpaceKind}:
        errors["kind"] = _("El tipo debe ser case, fiscal_year, project o general.")
    if errors:
        raise ValidationFailed(errors)
    visible = set(
        db.session.execute(
            visible_clients_query(actor)
            .where(Client.id.in_(client_ids))
            .with_only_columns(Client.id)
            .order_by(None)
        ).scalars()
    )
    missing = [i for i in client_ids if i not in visible]
    if missing:
        raise NotFound()
    made = {  # ids known before the insert: the ORM writes them in one statement
        client_id: Space(id=new_id(), client_id=client_id, name=clean_name, kind=kind)
        for client_id in client_ids
    }
    db.session.add_all(made.values())
    db.session.flush()
    if not actor.is_admin:
        db.session.add_all(
            SpaceMember(space_id=space.id, user_id=actor.id, permission=Permission.manage)
            for space in made.values()
        )
    audit.record_many(
        [
            (
                "space_created",
                actor,
                f"space:{space.id}",
                {"client_id": client_id, "name": space.name},
            )
            for client_id, space in made.items()
        ]
    )
    return made


def list_spaces(
    actor: User, client_id: str | None = None, page: PageArgs | None = None
) -> Page[Space]:
    # the client's name is shown beside each space: read with the page, not one by one
    query = visible_spaces_query(actor).options(joinedload(Space.client))
    if client_id is not None:
        get_client(actor, client_id)
        query = query.where(Space.client_id == client_id)
    return keyset(query, SPACE_ORDER, page, scope="spaces")


def add_member(actor: User, space_id: str, *, user_id: str, permission: str) -> SpaceMember:
    space = get_space(actor, space_id, Permission.manage)
    errors = {}
    if permission not in {p.value for p in Permission}:
        errors["permission"] = _("El permiso debe ser view, contribute o manage.")
    user = db.session.get(User, str(user_id or ""))
    if user is None or (actor.is_client and user.client_id != actor.client_id):
        errors["user_id"] = _("Ese usuario no existe.")
    elif user.is_client and user.client_id != space.client_id:
        errors["user_id"] = _("Un usuario cliente solo puede entrar en los espacios de su cliente.")
    if errors:
        raise ValidationFailed(errors)
    assert user is not None
    if user.is_client and permission == Permission.manage:
        permission = Permission.contribute
    member = db.session.execute(
        select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user.id)
    ).scalar_one_or_none()
    before = member.permission if member else None
    if member is None:
        member = SpaceMember(space_id=space.id, user_id=user.id, permission=permission)
        db.session.add(member)
    else:
        member.permission = permission
    db.session.flush()
    audit.record(
        "permission_changed",
        actor,
        f"space:{space.id}",
        user_id=user.id,
        before=before,
        after=permission,
    )
    return member


def remove_member(actor: User, space_id: str, user_id: str) -> None:
    space = get_space(actor, space_id, Permission.manage)
    member = db.session.execute(
        select(SpaceMember).where(SpaceMember.space_id == space.id, SpaceMember.user_id == user_id)
    ).scalar_one_or_none()
    if member is None:
        raise NotFound()
    db.session.delete(member)
    audit.record(
        "permission_changed",
        actor,
        f"space:{space.id}",
        user_id=user_id,
        before=member.permission,
        after=None,
    )


def list_members(actor: User, space_id: str) -> list[SpaceMember]:
    space = get_space(actor, space_id)
    return sorted(space.members, key=lambda m: (m.user.role, m.user.name))


def create_folder(actor: User, space_id: str, *, name: str, parent_id: str | None = None) -> Folder:
    space = get_space(actor, space_id, Permission.contribute)
    require_staff(actor)
    errors: dict[str, str] = {}
    if isinstance(name, str | None) and not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    clean_name = checked_text(errors, "name", name, max_length=200, required=True)
    if errors:
        raise ValidationFailed(errors)
    if parent_id:
        parent = db.session.get(Folder, parent_id)
        if parent is None or parent.space_id != space.id:
            raise ValidationFailed({"parent_id": _("Esa carpeta no existe en este espacio.")})
    folder = Folder(space_id=space.id, name=clean_name, parent_id=parent_id or None)
    db.session.add(folder)
    db.session.flush()
    audit.record("folder_created", actor, f"space:{space.id}", folder_id=folder.id)
    return folder


def candidate_members(actor: User, space: Space) -> list[User]:
    """People who could be added to a space: staff, and the users of its client."""
    query = select(User).where(
        User.active.is_(True),
        (User.role != "client") | (User.client_id == space.client_id),
    )
    return list(db.session.execute(query.order_by(User.name)).scalars())


def update_space(
    actor: User,
    space_id: str,
    *,
    name: str | None = None,
    label_scheme: str | None = None,
    review_sla: dict | None = None,
) -> Space:
    """Rename a space, choose its review labels (default, iso19650, procore) and its review SLA."""
    from workflows.review import LABEL_SCHEMES
    from workflows.schedule import ReviewSla

    space = get_space(actor, space_id, Permission.manage)
    errors: dict[str, str] = {}
    if isinstance(name, str) and not name.strip():
        errors["name"] = _("El nombre es obligatorio.")
    clean_name = (
        checked_text(errors, "name", name, max_length=200, required=True)
        if name is not None
        else None
    )
    if label_scheme is not None and (
        not isinstance(label_scheme, str) or label_scheme not in LABEL_SCHEMES
    ):
        errors["label_scheme"] = _(
            "Las etiquetas deben ser %(schemes)s.", schemes=", ".join(sorted(LABEL_SCHEMES))
        )
    if review_sla is not None:
        try:
            review_sla = ReviewSla.from_dict(review_sla).to_dict()
        except (ValueError, TypeError) as exc:
            errors["review_sla"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    if clean_name is not None:
        space.name = clean_name
    if label_scheme is not None:
        space.label_scheme = label_scheme
    if review_sla is not None:
        space.review_sla = review_sla
    audit.record(
        "space_updated",
        actor,
        f"space:{space.id}",
        label_scheme=label_scheme,
        review_sla=review_sla,
        name=name,
    )
    return space
