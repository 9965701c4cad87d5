"""Campaigns: one document request per client (300 rentas in spring), made in the background.

Staff choose a request template (or items), a due date, the space each client gets (kind and
name, made when missing) and the clients (by id, tag or kind). The campaign is stored with one
row per client at once; a job then makes each client's space and request, one client at a time,
so that a run cut short goes on where it stopped and a re-run never makes anything twice (the
row of a client that has its request is done). The board and the exports read the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Campaign,
    CampaignClient,
    Client,
    ClientKind,
    ClientTag,
    DocumentRequest,
    Permission,
    Space,
    SpaceKind,
    SpaceMember,
    User,
)
from app.services import audit, clients, requests
from app.services.access import get_client, require_staff, visible_clients_query
from app.services.errors import NotFound, ValidationFailed
from app.services.paging import Page, PageArgs, keyset
from app.services.runtime import enqueue_after_commit
from app.services.text import checked_text

RUN_TASK = "portal.run_campaign"
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
    space_kind: Any,
    space_name: Any,
    today: date,
) -> Campaign:
    """Store the campaign and one row per client; the job that makes the requests follows."""
    require_staff(actor)
    errors: dict[str, str] = {}
    clean_name = checked_text(errors, "name", name, max_length=300, required=True)
    clean_space = checked_text(errors, "space_name", space_name, max_length=200, required=True)
    if kind != "request":
        errors["kind"] = _("Por ahora las campañas piden documentos (kind: request).")
    if space_kind not in {k.value for k in SpaceKind}:
        errors["space_kind"] = _("El tipo debe ser case, fiscal_year, project o general.")
    due = _parse_due(due_date)
    if due is None:
        errors["due_date"] = _("Indique la fecha límite (AAAA-MM-DD).")
    elif due < today:
        errors["due_date"] = _("La fecha límite no puede estar en el pasado.")
    if template is not None and (
        not isinstance(template, str) or requests.get_template(template) is None
    ):
        errors["template"] = _("Esa plantilla no existe.")
    if items is not None and not isinstance(items, list):
        errors["items"] = _("Envíe los documentos como una lista.")
    if not template and not items:
        errors["items"] = _("Elija una plantilla o escriba la lista de documentos.")
    chosen = _chosen_clients(actor, client_ids, client_filter, errors)
    if errors:
        raise ValidationFailed(errors)
    campaign = Campaign(
        name=clean_name or "",
        kind="request",
        template=template or None,
        items=list(items or []),
        due_date=due,
        space_kind=space_kind,
        space_name=clean_space or "",
        client_filter=client_filter if isinstance(client_filter, dict) else None,
        status="queued",
        created_by_id=actor.id,
    )
    db.session.add(campaign)
    db.session.flush()
    for client in chosen:
        db.session.add(CampaignClient(campaign_id=campaign.id, client_id=client.id))
    db.session.flush()
    audit.record("campaign_created", actor, f"campaign:{campaign.id}", clients=len(chosen))
    enqueue_after_commit(RUN_TASK, campaign.id)
    return campaign


def _chosen_clients(
    actor: User, client_ids: Any, client_filter: Any, errors: dict[str, str]
) -> list[Client]:
    if client_ids is not None:
        if not isinstance(client_ids, list) or not all(isinstance(i, str) for i in client_ids):
            errors["clients"] = _("Envíe una lista de ids de clientes.")
            return []
        visible = {c.id: c for c in filter_clients(actor)}
        unknown = [i for i in client_ids if i not in visible]
        if unknown:
            errors["clients"] = _("Clientes que no existen: %(ids)s.", ids=", ".join(unknown[:5]))
            return []
        chosen = [visible[i] for i in dict.fromkeys(client_ids)]
    elif isinstance(client_filter, dict):
        kind = client_filter.get("kind")
        if kind is not None and kind not in {k.value for k in ClientKind}:
            errors["client_filter"] = _("El tipo debe ser person o company.")
            return []
        chosen = filter_clients(actor, tag=client_filter.get("tag"), kind=kind)
    else:
        errors["clients"] = _("Elija los clientes: una lista, o una etiqueta o un tipo.")
        return []
    if not chosen:
        errors.setdefault("clients", _("Ningún cliente cumple esa selección."))
    if len(chosen) > MAX_CLIENTS:
        errors["clients"] = _("Como mucho %(n)s clientes por campaña.", n=MAX_CLIENTS)
    return chosen


def get_campaign(actor: User, campaign_id: str) -> Campaign:
    require_staff(actor)
    found = db.session.get(Campaign, str(campaign_id or ""))
    if found is None:
        raise NotFound()
    return found


def pending_rows(campaign_id: str) -> list[str]:
    return list(
        db.session.execute(
            select(CampaignClient.id).where(
                CampaignClient.campaign_id == campaign_id,
                CampaignClient.status.in_(("pending", "failed")),
                CampaignClient.attempts < 3,
            )
        ).scalars()
    )


def run_one(row_id: str, *, today: date) -> None:
    """Make one client's space (if missing) and request; nothing if it already has them."""
    row = db.session.get(CampaignClient, row_id)
    if row is None or row.status in ("created", "removed"):
        return
    campaign = row.campaign
    acting = campaign.created_by
    row.attempts += 1
    try:
        space = _space_for(acting, campaign, row.client_id)
        request = requests.create_request(
            acting,
            space.id,
            title=campaign.name,
            due_date=campaign.due_date,
            items=campaign.items or None,
            template=campaign.template,
            today=min(today, campaign.due_date),
        )
    except ValidationFailed as exc:
        row.status, row.error = "failed", "; ".join(exc.errors.values())[:1000]
        return
    row.space_id, row.request_id, row.status, row.error = space.id, request.id, "created", None
    db.session.flush()


def _space_for(acting: User, campaign: Campaign, client_id: str) -> Space:
    name = campaign.space_name.replace("{year}", str(campaign.due_date.year))
    space = db.session.execute(
        select(Space).where(
            Space.client_id == client_id, Space.kind == campaign.space_kind, Space.name == name
        )
    ).scalar_one_or_none()
    if space is None:
        space = clients.create_space(acting, client_id, name=name, kind=campaign.space_kind)
    if (
        not acting.is_admin
        and not db.session.execute(
            select(SpaceMember.id).where(
                SpaceMember.space_id == space.id, SpaceMember.user_id == acting.id
            )
        ).first()
    ):
        db.session.add(
            SpaceMember(space_id=space.id, user_id=acting.id, permission=Permission.manage)
        )
        db.session.flush()
    return space


def finish(campaign_id: str) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None and not pending_rows(campaign_id):
        campaign.status = "done"
        campaign.finished_at = _now()
        db.session.flush()


@dataclass(frozen=True)
class ClientProgress:
    client_id: str
    client_name: str
    request_id: str | None
    status: str  # pending | done | overdue | open | failed | removed
    pending: int
    submitted: int
    accepted: int
    not_applicable: int
    total: int
    missing: list[str]


def board(actor: User, campaign_id: str, *, today: date) -> tuple[Campaign, list[ClientProgress]]:
    """One row per client, overdue first, then the least advanced."""
    campaign = get_campaign(actor, campaign_id)
    rows = []
    for row in campaign.clients:
        request: DocumentRequest | None = row.request
        if request is None:
            rows.append(
                ClientProgress(
                    row.client_id,
                    row.client.name,
                    None,
                    "failed" if row.status == "failed" else row.status,
                    0,
                    0,
                    0,
                    0,
                    0,
                    [],
                )
            )
            continue
        counts = {"pending": 0, "submitted": 0, "accepted": 0, "not_applicable": 0}
        for item in request.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        missing = [
            item.title for item in request.items if item.required and item.status == "pending"
        ]
        if request.completed_at is not None or not missing and not counts["submitted"]:
            status = "done"
        elif request.due_date < today:
            status = "overdue"
        else:
            status = "open"
        rows.append(
            ClientProgress(
                row.client_id,
                row.client.name,
                request.id,
                status,
                counts["pending"],
                counts["submitted"],
                counts["accepted"],
                counts["not_applicable"],
                len(request.items),
                missing,
            )
        )
    order = {"overdue": 0, "failed": 1, "open": 2, "pending": 3, "done": 4, "removed": 5}
    rows.sort(key=lambda r: (order.get(r.status, 9), -r.pending, r.client_name))
    return campaign, rows


def totals(rows: list[ClientProgress]) -> dict[str, int]:
    return {
        "clients": len(rows),
        "done": sum(r.status == "done" for r in rows),
        "pending": sum(r.status in ("open", "pending", "failed") for r in rows),
        "overdue": sum(r.status == "overdue" for r in rows),
    }


def remind(actor: User, campaign_id: str, *, today: date) -> int:
    """One reminder to each client still missing something, listing only what is missing."""
    _campaign, rows = board(actor, campaign_id, today=today)
    sent = 0
    for row in rows:
        if row.request_id and row.missing:
            request = db.session.get(DocumentRequest, row.request_id)
            if request is not None:
                sent += requests.remind_now(request, today)
    audit.record("campaign_reminded", actor, f"campaign:{campaign_id}", sent=sent)
    return sent


def export(actor: User, campaign_id: str, *, today: date, kind: str) -> tuple[bytes, str, str]:
    """The progress table as CSV or XLSX: (bytes, media type, file name)."""
    campaign, rows = board(actor, campaign_id, today=today)
    header = [
        _("Cliente"),
        _("Estado"),
        _("Pendientes"),
        _("Enviados"),
        _("Aceptados"),
        _("No aplica"),
        _("Total"),
        _("Falta"),
    ]
    table = [
        [
            r.client_name,
            r.status,
            r.pending,
            r.submitted,
            r.accepted,
            r.not_applicable,
            r.total,
            "; ".join(r.missing),
        ]
        for r in rows
    ]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", campaign.name).strip("-")[:60] or "campana"
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=campaign.name[:31] or "Campaña")
        sheet.append(header)
        for line in table:
            sheet.append([_safe_cell(v) for v in line])
        out = io.BytesIO()
        book.save(out)
        return (
            out.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{stem}.xlsx",
        )
    if kind != "csv":
        raise ValidationFailed({"format": _("El formato debe ser csv o xlsx.")})
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for line in table:
        writer.writerow([_safe_cell(v) for v in line])
    return text.getvalue().encode("utf-8-sig"), "text/csv", f"{stem}.csv"


def _safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
