"""Campaigns: one document request per client (300 rentas in spring), made in the background.

Staff choose a request template (or items), a due date, the space each client gets (kind and
name, made when missing) and the clients (by id, tag or kind). The campaign is stored with one
row per client at once; a job then makes each client's space and request, one client at a time,
so that a run cut short goes on where it stopped and a re-run never makes anything twice (the
row of a client that has its request is done). Its board, reminders and exports: campaign_board.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import (
    Campaign,
    CampaignClient,
    Client,
    ClientKind,
    ClientTag,
    Document,
    DocumentVersion,
    Permission,
    SignatureRequest,
    Space,
    SpaceKind,
    SpaceMember,
    User,
)
from app.services import audit, campaign_sources, clients, documents, requests, signatures
from app.services.access import get_client, require_staff, visible_clients_query
from app.services.errors import DomainError, NotFound, ValidationFailed
from app.services.paging import Page, PageArgs, keyset
from app.services.runtime import enqueue_after_commit, store
from app.services.text import checked_text
from storage import StoredBlob

RUN_TASK = "portal.run_campaign"
BATCH = 100  # clients a job writes per commit
MAX_CLIENTS = 5000
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- tags


def set_tags(actor: User, client_id: str, tags: Any) -> list[str]:
    """Replace a client's tags (staff)."""
    client = get_client(actor, client_id)
    require_staff(actor)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailed({"tags": _("Envíe una lista de etiquetas.")})
    cleaned = sorted({t.strip().lower() for t in tags if t.strip()})
    bad = [t for t in cleaned if not _TAG.match(t)]
    if bad:
        raise ValidationFailed(
            {
                "tags": _(
                    "Etiquetas no válidas: %(tags)s (minúsculas, cifras, - y _).",
                    tags=", ".join(bad[:5]),
                )
            }
        )
    existing = {
        row.tag: row
        for row in db.session.execute(
            select(ClientTag).where(ClientTag.client_id == client.id)
        ).scalars()
    }
    for tag, row in existing.items():
        if tag not in cleaned:
            db.session.delete(row)
    for tag in cleaned:
        if tag not in existing:
            db.session.add(ClientTag(client_id=client.id, tag=tag))
    db.session.flush()
    audit.record("client_tags_set", actor, f"client:{client.id}", tags=cleaned)
    return cleaned


def tags_of(client_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if not client_ids:
        return found
    for client_id, tag in db.session.execute(
        select(ClientTag.client_id, ClientTag.tag)
        .where(ClientTag.client_id.in_(client_ids))
        .order_by(ClientTag.tag)
    ).all():
        found.setdefault(client_id, []).append(tag)
    return found


def filter_clients(
    actor: User, *, tag: str | None = None, kind: str | None = None, page: PageArgs | None = None
) -> Page[Client]:
    """The clients the caller sees with that tag and of that kind, by name (a page of them)."""
    query = visible_clients_query(actor)
    if tag:
        query = query.where(
            Client.id.in_(select(ClientTag.client_id).where(ClientTag.tag == tag.lower()))
        )
    if kind:
        query = query.where(Client.kind == kind)
    return keyset(query, clients.CLIENT_ORDER, page, scope="clients")


# ---------------------------------------------------------------- campaigns


def _parse_due(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def create_campaign(
    actor: User,
    *,
    name: Any,
    kind: Any = "request",
    template: Any = None,
    items: Any = None,
    due_date: Any,
    client_ids: Any = None,
    client_filter: Any = None,
    tax_ids: Any = None,
    clients_csv: BinaryIO | None = None,
    documents_zip: BinaryIO | None = None,
    space_kind: Any,
    space_name: Any,
    today: date,
) -> Campaign:
    """Store the campaign and one row per client; the job that makes the requests follows.

    A request campaign asks each client for the template's (or the given) items; a signature
    campaign asks each client to sign their own PDF, taken from a ZIP of PDFs named by tax id.
    """
    require_staff(actor)
    errors: dict[str, str] = {}
    clean_name = checked_text(errors, "name", name, max_length=300, required=True)
    clean_space = checked_text(errors, "space_name", space_name, max_length=200, required=True)
    if kind not in ("request", "signature"):
        errors["kind"] = _("El tipo de campaña debe ser request o signature.")
    if not isinstance(space_kind, str) or space_kind not in {k.value for k in SpaceKind}:
        errors["space_kind"] = _("El tipo debe ser case, fiscal_year, project o general.")
    due = _parse_due(due_date)
    if due is None:
        errors["due_date"] = _("Indique la fecha límite (AAAA-MM-DD).")
    elif due < today:
        errors["due_date"] = _("La fecha límite no puede estar en el pasado.")
    if kind == "request":
        if template is not None and (
            not isinstance(template, str) or requests.get_template(template) is None
        ):
            errors["template"] = _("Esa plantilla no existe.")
        if items is not None and not isinstance(items, list):
            errors["items"] = _("Envíe los documentos como una lista.")
        if not template and not items:
            errors["items"] = _("Elija una plantilla o escriba la lista de documentos.")
        if "items" not in errors and "template" not in errors:
            items = _checked_items(clean_name, template, items, errors, today=today)
    elif kind == "signature" and documents_zip is None:
        if not _selection_given(client_ids, client_filter, tax_ids, clients_csv):
            errors["documents_zip"] = _(
                "Elija los clientes (cada uno firmará el último PDF de su espacio) o suba un "
                "ZIP con un PDF por cliente, nombrado por su NIF."
            )
    notices: list[dict[str, Any]] = []
    chosen: list[Client] = []
    if kind != "signature" or _selection_given(client_ids, client_filter, tax_ids, clients_csv):
        chosen = _chosen_clients(
            actor, client_ids, client_filter, tax_ids, clients_csv, errors, notices
        )
    if errors:
        raise ValidationFailed(errors)
    pdfs: dict[str, campaign_sources.ZipFile] = {}
    if kind == "signature" and documents_zip is not None:
        pdfs, chosen = _pdfs_for(actor, documents_zip, chosen, notices)
    stored: list[str] = []
    try:
        campaign = Campaign(
            name=clean_name or "",
            kind=kind,
            template=(template or None) if kind == "request" else None,
            items=list(items or []) if kind == "request" else [],
            due_date=due,
            space_kind=space_kind,
            space_name=clean_space or "",
            client_filter=_checked_filter(client_filter, {})
            if isinstance(client_filter, dict)
            else None,
            notices=notices or None,
            status="queued",
            created_by_id=actor.id,
        )
        db.session.add(campaign)
        db.session.flush()
        rows = []
        for client in chosen:
            source = None
            pdf = pdfs.get(client.id)
            if pdf is not None:
                blob = documents.store_blob(io.BytesIO(pdf.data))
                stored.append(blob.key)
                source = {
                    "key": blob.key,
                    "sha256": blob.sha256,
                    "size": blob.size,
                    "filename": pdf.name,
                }
            rows.append({"campaign_id": campaign.id, "client_id": client.id, "source": source})
        if rows:
            db.session.execute(insert(CampaignClient), rows)
    except Exception:
        for key in stored:
            store().delete(key)
        raise
    audit.record(
        "campaign_created",
        actor,
        f"campaign:{campaign.id}",
        kind=kind,
        clients=len(chosen),
        left_out=len(notices),
    )
    enqueue_after_commit(RUN_TASK, campaign.id)
    return campaign


def _checked_items(
    name: str | None, template: Any, items: Any, errors: dict[str, str], *, today: date
) -> Any:
    """The items as each client's request will take them (``None`` when the template's are
    asked for), refused now as a request would refuse them, rather than row by row in the
    job; a problem goes into ``errors``."""
    try:
        plan = requests.plan_request(
            title=name, due_date=today, items=items or None, template=template, today=today
        )
    except ValidationFailed as exc:
        for field in ("items", "template"):
            if field in exc.errors:
                errors.setdefault(field, exc.errors[field])
        return items
    return plan.items if items else None


def _selection_given(*choices: Any) -> bool:
    return any(c is not None and c != "" for c in choices)


def _known_tax_ids(actor: User) -> dict[str, list[str]]:
    """Every visible client's tax id in compact form (two clients may share one)."""
    known: dict[str, list[str]] = {}
    query = visible_clients_query(actor).where(Client.tax_id.is_not(None))
    for client_id, tax_id in db.session.execute(
        query.with_only_columns(Client.id, Client.tax_id)
    ).all():
        key = campaign_sources.compact(tax_id or "")
        if key:
            known.setdefault(key, []).append(client_id)
    return known


def _pdfs_for(
    actor: User,
    archive: BinaryIO,
    chosen: list[Client],
    notices: list[dict[str, Any]],
) -> tuple[dict[str, campaign_sources.ZipFile], list[Client]]:
    """Each client's PDF from the ZIP; only clients with one file (and in the selection, if any)."""
    contents = campaign_sources.read_zip(
        archive, _known_tax_ids(actor), max_pdf=signatures.MAX_PDF_SIZE
    )
    notices.extend(contents.left_out)
    allowed = {c.id for c in chosen} if chosen else None
    pdfs: dict[str, campaign_sources.ZipFile] = {}
    for pdf in contents.files:
        if allowed is not None and pdf.client_id not in allowed:
            notices.append(
                {
                    "kind": "file",
                    "value": pdf.name,
                    "message": _("el cliente no está en la selección"),
                }
            )
            continue
        pdfs[pdf.client_id] = pdf
    if not pdfs:
        raise ValidationFailed(
            {
                "documents_zip": _(
                    "Ningún PDF del ZIP es de un cliente: %(list)s",
                    list=campaign_sources.listed(
                        [f"{n['value']} ({n['message']})" for n in contents.left_out]
                    )
                    or _("el ZIP no tiene PDF"),
                )
            }
        )
    found = {
        c.id: c
        for c in db.session.execute(select(Client).where(Client.id.in_(list(pdfs)))).scalars()
    }
    return pdfs, sorted(found.values(), key=lambda c: c.name)


#: What a ``client_filter`` may say.
_FILTER_KEYS = ("tag", "kind")


def _checked_filter(client_filter: Any, errors: dict[str, str]) -> dict[str, str] | None:
    """The filter with its tag (lower case) and kind, or ``None`` with ``errors["client_filter"]``
    saying why: only tag and kind are accepted, neither may be empty, and one is needed (a
    filter that says nothing would choose every client)."""
    if not isinstance(client_filter, dict):
        errors["client_filter"] = _(
            "El filtro de clientes es un objeto con tag (una etiqueta), kind (person o company) "
            "o los dos."
        )
        return None
    unknown = sorted(str(key) for key in client_filter if key not in _FILTER_KEYS)
    if unknown:
        errors["client_filter"] = _(
            "Claves no admitidas en el filtro: %(keys)s. Se admiten tag y kind.",
            keys=", ".join(unknown[:5]),
        )
        return None
    cleaned: dict[str, str] = {}
    if "tag" in client_filter:
        tag = client_filter["tag"]
        if tag is not None and not isinstance(tag, str):
            errors["client_filter"] = _("La etiqueta (tag) debe ser un texto.")
            return None
        if tag is None or not tag.strip():
            errors["client_filter"] = _("La etiqueta (tag) no puede estar vacía.")
            return None
        cleaned["tag"] = tag.strip().lower()
    if "kind" in client_filter:
        kind = client_filter["kind"]
        if not isinstance(kind, str) or kind not in {k.value for k in ClientKind}:
            errors["client_filter"] = _("El tipo debe ser person o company.")
            return None
        cleaned["kind"] = kind
    if not cleaned:
        errors["client_filter"] = _(
            "El filtro de clientes es un objeto con tag (una etiqueta), kind (person o company) "
            "o los dos."
        )
        return None
    return cleaned


def _chosen_clients(
    actor: User,
    client_ids: Any,
    client_filter: Any,
    tax_ids: Any,
    clients_csv: BinaryIO | None,
    errors: dict[str, str],
    notices: list[dict[str, Any]],
) -> list[Client]:
    given = [
        field
        for field, value in (
            ("clients", client_ids),
            ("client_filter", client_filter),
            ("tax_ids", tax_ids),
            ("clients_csv", clients_csv),
        )
        if value is not None and value != ""
    ]
    if len(given) > 1:
        # choosing by one silently would leave out what the other asked for
        message = _(
            "Elija los clientes de una sola forma (clients, client_filter, tax_ids o un CSV de "
            "NIF), no de varias: ha enviado %(fields)s.",
            fields=", ".join(given),
        )
        for field in given:
            errors[field] = message
        return []
    if clients_csv is not None or tax_ids is not None:
        field = "clients_csv" if clients_csv is not None else "tax_ids"
        try:
            if clients_csv is not None:
                selection = campaign_sources.select_by_csv(clients_csv, _known_tax_ids(actor))
            elif isinstance(tax_ids, list):
                selection = campaign_sources.select_by_tax_ids(tax_ids, _known_tax_ids(actor))
            else:
                errors["tax_ids"] = _("Envíe una lista de NIF.")
                return []
        except ValidationFailed as exc:
            errors.update(exc.errors)
            return []
        if selection.unknown:
            errors[field] = campaign_sources.unknown_message(selection)
            return []
        notices.extend(selection.notices())
        by_id = {
            c.id: c
            for c in db.session.execute(
                select(Client).where(Client.id.in_(selection.client_ids))
            ).scalars()
        }
        chosen = [by_id[i] for i in selection.client_ids if i in by_id]
    elif client_ids is not None:
        if not isinstance(client_ids, list) or not all(isinstance(i, str) for i in client_ids):
            errors["clients"] = _("Envíe una lista de ids de clientes.")
            return []
        visible = {c.id: c for c in filter_clients(actor)}
        unknown = [i for i in client_ids if i not in visible]
        if unknown:
            errors["clients"] = _("Clientes que no existen: %(ids)s.", ids=", ".join(unknown[:5]))
            return []
        chosen = [visible[i] for i in dict.fromkeys(client_ids)]
    elif client_filter is not None and client_filter != "":
        cleaned = _checked_filter(client_filter, errors)
        if cleaned is None:
            return []
        chosen = filter_clients(actor, tag=cleaned.get("tag"), kind=cleaned.get("kind"))
    else:
        errors["clients"] = _(
            "Elija los clientes: una lista, una etiqueta o un tipo, o un CSV de NIF."
        )
        return []
    field = given[0] if given else "clients"  # the field the clients were chosen with
    if not chosen:
        errors.setdefault(field, _("Ningún cliente cumple esa selección."))
    if len(chosen) > MAX_CLIENTS:
        errors[field] = _("Como mucho %(n)s clientes por campaña.", n=MAX_CLIENTS)
    return chosen


def get_campaign(actor: User, campaign_id: str) -> Campaign:
    """A campaign, for staff. It is the firm's internal work, which a client may not know
    exists: to anyone else it is not found (404), never forbidden."""
    if not actor.is_staff:
        raise NotFound()
    found = db.session.get(Campaign, str(campaign_id or ""))
    if found is None:
        raise NotFound()
    return found


def pending_rows(campaign_id: str) -> list[str]:
    """The rows the job has still to do. A failed row waits for the firm: what makes one fail
    (a client with nobody to sign, no PDF to sign) does not go away by running again, so it
    does not hold the campaign; the board shows it failed, with its reason, until staff fix
    that and ask for it again (``retry``)."""
    return list(
        db.session.execute(
            select(CampaignClient.id)
            .where(
                CampaignClient.campaign_id == campaign_id,
                CampaignClient.status == "pending",
                CampaignClient.attempts < 3,
            )
            .order_by(CampaignClient.created_at, CampaignClient.id)
        ).scalars()
    )


def batches(row_ids: list[str]) -> list[list[str]]:
    return [row_ids[i : i + BATCH] for i in range(0, len(row_ids), BATCH)]


def run_batch(row_ids: list[str], *, today: date) -> None:
    """Make the spaces and requests of several clients of a request campaign at once: the
    request checked once, each table written in one go (the job commits each batch, so a run
    cut short goes on from the last batch and a re-run makes nothing twice). Signature
    campaigns go client by client (``run_one``)."""
    rows = list(
        db.session.execute(
            select(CampaignClient)
            .where(CampaignClient.id.in_(row_ids), CampaignClient.status.in_(("pending", "failed")))
            .order_by(CampaignClient.created_at, CampaignClient.id)
        ).scalars()
    )
    if not rows:
        return
    campaign = rows[0].campaign
    if campaign.kind != "request" or any(r.campaign_id != campaign.id for r in rows):
        for row in rows:
            run_one(row.id, today=today)
        return
    acting = campaign.created_by
    for row in rows:
        row.attempts += 1
    try:
        plan = requests.plan_request(
            title=campaign.name,
            due_date=campaign.due_date,
            items=campaign.items or None,
            template=campaign.template,
            today=min(today, campaign.due_date),
        )
    except ValidationFailed as exc:
        message = "; ".join(exc.errors.values())[:1000]
        for row in rows:
            row.status, row.error = "failed", message
        db.session.flush()
        return
    client_ids = [row.client_id for row in rows]
    spaces, people = _spaces_of(acting, campaign, client_ids)
    made = requests.create_requests(
        acting, {spaces[c].id: people.get(c, []) for c in client_ids}, plan
    )
    for row in rows:
        space = spaces[row.client_id]
        row.space_id, row.request_id = space.id, made[space.id].id
        row.status, row.error = "created", None
    db.session.flush()


def _people_by_client(client_ids: list[str]) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    for user in db.session.execute(
        select(User)
        .where(User.client_id.in_(client_ids), User.role == "client", User.active.is_(True))
        .order_by(User.name)
    ).scalars():
        found.setdefault(user.client_id or "", []).append(user)
    return found


def _spaces_of(
    acting: User, campaign: Campaign, client_ids: list[str]
) -> tuple[dict[str, Space], dict[str, list[User]]]:
    """Each client's space of the campaign (made when missing) with the acting staff member
    and the client's people as members; and those people, by client."""
    name = campaign.space_name.replace("{year}", str(campaign.due_date.year))
    spaces: dict[str, Space] = {}
    for space in db.session.execute(
        select(Space)
        .where(
            Space.client_id.in_(client_ids),
            Space.kind == campaign.space_kind,
            Space.name == name,
        )
        .order_by(Space.created_at)
    ).scalars():
        spaces.setdefault(space.client_id, space)
    missing = [c for c in client_ids if c not in spaces]
    if missing:
        spaces.update(clients.create_spaces(acting, missing, name=name, kind=campaign.space_kind))
    people = _people_by_client(client_ids)
    members = {
        (space_id, user_id)
        for space_id, user_id in db.session.execute(
            select(SpaceMember.space_id, SpaceMember.user_id).where(
                SpaceMember.space_id.in_([s.id for s in spaces.values()])
            )
        )
    }
    added = []
    for client_id in client_ids:
        space = spaces[client_id]
        wanted = [] if acting.is_admin else [(acting.id, Permission.manage)]
        wanted += [(u.id, Permission.contribute) for u in people.get(client_id, [])]
        for user_id, permission in wanted:
            if (space.id, user_id) not in members:
                members.add((space.id, user_id))
                added.append(
                    {"space_id": space.id, "user_id": user_id, "permission": permission.value}
                )
    if added:
        db.session.execute(insert(SpaceMember), added)
    return spaces, people


def run_one(row_id: str, *, today: date) -> None:
    """Make one client's space (if missing) and request; nothing if it already has them."""
    row = db.session.get(CampaignClient, row_id)
    if row is None or row.status in ("created", "removed", "closed"):
        return
    campaign = row.campaign
    acting = campaign.created_by
    row.attempts += 1
    try:
        space = _space_for(acting, campaign, row.client_id)
        if campaign.kind == "signature":
            _sign_request_for(acting, campaign, row, space)
        else:
            request = requests.create_request(
                acting,
                space.id,
                title=campaign.name,
                due_date=campaign.due_date,
                items=campaign.items or None,
                template=campaign.template,
                today=min(today, campaign.due_date),
            )
            row.request_id = request.id
    except DomainError as exc:
        errors = getattr(exc, "errors", None)
        message = "; ".join(errors.values()) if errors else exc.detail
        row.status, row.error = "failed", str(message)[:1000]
        db.session.flush()
        return
    row.space_id, row.status, row.error = space.id, "created", None
    db.session.flush()


def _client_people(client_id: str) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(User.client_id == client_id, User.role == "client", User.active.is_(True))
            .order_by(User.name)
        ).scalars()
    )


def _sign_request_for(acting: User, campaign: Campaign, row: CampaignClient, space: Space) -> None:
    """The client's PDF filed as a document of the space, and one request that its people sign."""
    source = row.source or {}
    if row.document_id is None and not source.get("key"):
        # no ZIP: what the firm filed in the client's space for this, its latest PDF
        row.document_id = _latest_pdf(space)
        if row.document_id is None:
            raise ValidationFailed(
                {
                    "document": _(
                        "No hay ningún PDF que firmar en «%(space)s»: súbalo al espacio o "
                        "envíe un ZIP con un PDF por cliente.",
                        space=space.name,
                    )
                }
            )
    if row.document_id is None:
        blob = StoredBlob(key=source["key"], sha256=source["sha256"], size=int(source["size"]))
        document = documents.add_document_from_blob(
            acting,
            space.id,
            blob,
            filename=source.get("filename"),
            title=campaign.name,
            visibility="shared",
        )
        row.document_id = document.id
        db.session.flush()
    already = db.session.execute(
        select(SignatureRequest.id)
        .where(
            SignatureRequest.document_id == row.document_id,
            SignatureRequest.status.in_(signatures.OPEN),
            SignatureRequest.created_by_id == acting.id,
            SignatureRequest.due_date == campaign.due_date,
        )
        .limit(1)
    ).scalar_one_or_none()
    if already is not None:
        # made for this row by another run (a job delivered twice, two retries at once)
        row.signature_request_id = already
        return
    people = _client_people(row.client_id)
    if not people:
        raise ValidationFailed(
            {"signers": _("El cliente no tiene ninguna persona con acceso al portal que firme.")}
        )
    signature = signatures.request_signatures(
        acting,
        row.document_id,
        signer_ids=[u.id for u in people[: signatures.MAX_SIGNERS]],
        due_date=campaign.due_date,
        any_order=True,
    )
    row.signature_request_id = signature.id


def _latest_pdf(space: Space) -> str | None:
    """The id of the shared PDF of `space` changed last (its current version is a PDF)."""
    return db.session.execute(
        select(Document.id)
        .join(
            DocumentVersion,
            (DocumentVersion.document_id == Document.id)
            & (DocumentVersion.number == Document.current_version_number),
        )
        .where(
            Document.space_id == space.id,
            Document.deleted_at.is_(None),
            Document.visibility == "shared",
            DocumentVersion.content_type == "application/pdf",
        )
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _space_for(acting: User, campaign: Campaign, client_id: str) -> Space:
    name = campaign.space_name.replace("{year}", str(campaign.due_date.year))
    # spaces may share a name: the oldest, as ``_spaces_of`` takes for a batch
    space = db.session.execute(
        select(Space)
        .where(Space.client_id == client_id, Space.kind == campaign.space_kind, Space.name == name)
        .order_by(Space.created_at, Space.id)
        .limit(1)
    ).scalar_one_or_none()
    if space is None:
        space = clients.create_space(acting, client_id, name=name, kind=campaign.space_kind)
    members = set(
        db.session.execute(
            select(SpaceMember.user_id).where(SpaceMember.space_id == space.id)
        ).scalars()
    )
    wanted = [] if acting.is_admin else [(acting.id, Permission.manage)]
    # the client's people see (and send to) the space their campaign is in
    wanted += [(u.id, Permission.contribute) for u in _client_people(client_id)]
    for user_id, permission in wanted:
        if user_id not in members:
            db.session.add(SpaceMember(space_id=space.id, user_id=user_id, permission=permission))
    db.session.flush()
    return space


def preparation_failed(row_id: str) -> None:
    """A client the job could not prepare for a reason no check foresaw (logged by the job):
    the row fails, for staff to retry, instead of holding the campaign."""
    row = db.session.get(CampaignClient, row_id)
    if row is not None and row.status == "pending":
        row.status = "failed"
        row.error = _("No se pudo preparar por un error inesperado; vuelva a intentarlo.")
        db.session.flush()


def finish(campaign_id: str) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None and not pending_rows(campaign_id):
        campaign.status = "done"
        campaign.finished_at = _now()
        db.session.flush()


def start(campaign_id: str) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None and campaign.status == "queued":
        campaign.status = "running"
        db.session.flush()


def _rows_of(campaign: Campaign, client_ids: Any) -> list[CampaignClient]:
    if client_ids is None:
        return list(campaign.clients)
    if not isinstance(client_ids, list) or not all(isinstance(i, str) for i in client_ids):
        raise ValidationFailed({"client_ids": _("Envíe una lista de ids de clientes.")})
    by_client = {row.client_id: row for row in campaign.clients}
    unknown = [i for i in client_ids if i not in by_client]
    if unknown:
        raise ValidationFailed(
            {
                "client_ids": _(
                    "Estos clientes no están en la campaña: %(ids)s.", ids=", ".join(unknown[:5])
                )
            }
        )
    return [by_client[i] for i in dict.fromkeys(client_ids)]


def close(actor: User, campaign_id: str, client_ids: Any = None) -> int:
    """Stop asking the chosen clients (all, if none chosen): what is still missing is marked
    «no aplica» (a signature request is cancelled); what they sent stays. Returns how many."""
    campaign = get_campaign(actor, campaign_id)
    closed = 0
    reason = _("Campaña cerrada por el despacho.")
    for row in _rows_of(campaign, client_ids):
        if row.status in ("removed", "closed"):
            continue
        if row.request is not None:
            requests.close_missing(actor, row.request, reason)
        signature = row.signature_request
        if signature is not None and signature.status in signatures.OPEN:
            signatures.cancel_checked(actor, signature)
        row.status = "closed"
        closed += 1
    db.session.flush()
    audit.record("campaign_closed", actor, f"campaign:{campaign.id}", clients=closed)
    return closed


def retry(actor: User, campaign_id: str, client_ids: Any = None) -> int:
    """Prepare again the chosen clients whose row failed (all failed ones, if none chosen),
    once the firm has fixed what the reason said (a person to sign, the PDF in the space):
    the job runs again for them only; what was already made is found, not made twice.
    Returns how many."""
    campaign = get_campaign(actor, campaign_id)
    chosen = {row.id: row for row in _rows_of(campaign, client_ids) if row.status == "failed"}
    # Only the rows still failed as this writes: of two retries sent at once, the second
    # finds the rows the first has put back in the queue, and queues nothing again.
    claimed = (
        set(
            db.session.execute(
                update(CampaignClient)
                .where(CampaignClient.id.in_(list(chosen)), CampaignClient.status == "failed")
                .values(status="pending", error=None, attempts=0)
                .returning(CampaignClient.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        if chosen
        else set()
    )
    failed = [row for row_id, row in chosen.items() if row_id in claimed]
    if client_ids is not None and not failed:
        raise ValidationFailed(
            {"client_ids": _("Ninguno de esos clientes tiene la preparación fallida.")}
        )
    for row in failed:
        for name, value in (("status", "pending"), ("error", None), ("attempts", 0)):
            set_committed_value(row, name, value)
    if failed:
        campaign.status, campaign.finished_at = "queued", None
        enqueue_after_commit(RUN_TASK, campaign.id)
        audit.record(
            "campaign_retried",
            actor,
            f"campaign:{campaign.id}",
            clients=[row.client_id for row in failed][:100],
        )
    db.session.flush()
    return len(failed)


def remove_clients(actor: User, campaign_id: str, client_ids: Any) -> int:
    """Take clients out of the campaign: the job skips them, the board shows them removed;
    what was already made for them (space, request, documents) stays as it is."""
    campaign = get_campaign(actor, campaign_id)
    if not client_ids:
        raise ValidationFailed({"client_ids": _("Elija los clientes que quiere quitar.")})
    removed = 0
    for row in _rows_of(campaign, client_ids):
        if row.status != "removed":
            row.status = "removed"
            removed += 1
    db.session.flush()
    audit.record(
        "campaign_clients_removed",
        actor,
        f"campaign:{campaign.id}",
        clients=[str(i) for i in client_ids][:100],
    )
    return removed
