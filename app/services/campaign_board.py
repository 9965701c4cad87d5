"""A campaign's board: each client's progress, the page that shows it, reminders and exports.

The progress of every client is counted by the database in one query (items and signers per
request, each client's status a CASE over them): the board, its totals and chart, the API's
campaign, the reminders (each client is sent what it still lacks) and the CSV and XLSX exports
all read those rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Date, String, and_, bindparam, case, func, or_, select

from app.extensions import db
from app.models import (
    Campaign,
    CampaignClient,
    Client,
    DocumentRequest,
    RequestItem,
    SignatureRequest,
    SignatureRequestSigner,
    User,
)
from app.services import audit, requests, signatures
from app.services.access import require_staff
from app.services.campaigns import get_campaign
from app.services.errors import ValidationFailed
from app.services.paging import Key, Page, PageArgs, keyset


@dataclass(frozen=True)
class ClientProgress:
    client_id: str
    client_name: str
    request_id: str | None
    status: str  # pending | done | overdue | open | failed | removed | closed | declined
    pending: int
    submitted: int
    accepted: int
    not_applicable: int
    total: int
    missing: list[str]
    signature_request_id: str | None = None
    signed: int = 0
    signers: int = 0
    error: str | None = None
    tax_id: str | None = None

    @property
    def is_signed(self) -> bool:
        return bool(self.signers) and self.signed == self.signers


#: The board's order: overdue first, then what went wrong, then the least advanced.
_STATUS_ORDER = {
    "overdue": 0,
    "failed": 1,
    "declined": 1,
    "open": 2,
    "pending": 3,
    "done": 4,
    "closed": 5,
    "removed": 6,
}
#: What the campaign's own row says that no request's progress can change.
_OWN_STATUSES = ("removed", "closed", "failed")


def _progress_rows(campaign: Campaign, today: date) -> Sequence[Any]:
    """One row per client of the campaign with its progress, in the board's order."""
    # on the session's connection: plain rows, without the ORM's handling of each
    return (
        db.session.connection()
        .execute(_progress_statement(), {"campaign_id": campaign.id, "today": today})
        .all()
    )


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _with_requests(query: Any) -> Any:
    """``query`` (from ``CampaignClient``) with each client's request and signature request,
    outer-joined: what ``_client_status`` reads."""
    return query.outerjoin(
        DocumentRequest, DocumentRequest.id == CampaignClient.request_id
    ).outerjoin(SignatureRequest, SignatureRequest.id == CampaignClient.signature_request_id)


def _client_status(today: Any) -> Any:
    """A campaign client's status, as the board shows it, from its row, its request (and
    that request's item counts) or its signature request, joined by ``_with_requests``."""
    signature_status = case(
        (SignatureRequest.status == "completed", "done"),
        (SignatureRequest.status == "declined", "declined"),
        (SignatureRequest.status.in_(("cancelled", "failed")), "failed"),
        (
            and_(SignatureRequest.due_date.is_not(None), SignatureRequest.due_date < today),
            "overdue",
        ),
        else_="open",
    )
    request_status = case(
        (
            or_(
                DocumentRequest.completed_at.is_not(None),
                and_(DocumentRequest.items_missing == 0, DocumentRequest.items_submitted == 0),
            ),
            "done",
        ),
        (DocumentRequest.due_date < today, "overdue"),
        else_="open",
    )
    return case(
        (CampaignClient.status.in_(_OWN_STATUSES), CampaignClient.status),
        (SignatureRequest.id.is_not(None), signature_status),
        (DocumentRequest.id.is_(None), CampaignClient.status),
        else_=request_status,
    )


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign in the list: how many clients it has, made by its job, done and late."""

    campaign: Campaign
    clients: int
    made: int
    done: int
    late: int


#: The campaigns list's order: the newest first.
_NEWEST_FIRST = (Key(Campaign.created_at, desc=True), Key(Campaign.id, desc=True))


def campaign_summaries(
    actor: User, page: PageArgs | None = None, *, today: date
) -> Page[CampaignSummary]:
    """The campaigns, newest first, a page at a time, each with its clients counted by the
    database (the board's own status for done and late) for the page's campaigns only."""
    require_staff(actor)
    shown = keyset(select(Campaign), _NEWEST_FIRST, page, scope="campaigns")
    if not shown:
        return Page([], shown.next)
    counts = {
        campaign_id: (clients, made, done, late)
        for campaign_id, clients, made, done, late in db.session.connection().execute(
            _summary_statement(), {"ids": [c.id for c in shown], "today": today}
        )
    }
    return Page((CampaignSummary(c, *counts.get(c.id, (0, 0, 0, 0))) for c in shown), shown.next)


@cache
def _summary_statement() -> Any:
    status = _client_status(bindparam("today", type_=Date))
    return (
        _with_requests(
            select(
                CampaignClient.campaign_id,
                func.count(),
                _count_if(CampaignClient.status.in_(("created", "closed"))),
                _count_if(status.in_(("done", "closed"))),
                _count_if(status == "overdue"),
            )
        )
        .where(
            CampaignClient.campaign_id.in_(bindparam("ids", expanding=True)),
            CampaignClient.status != "removed",
        )
        .group_by(CampaignClient.campaign_id)
    )


@cache
def _late_statement() -> Any:
    """How many clients are late in each campaign a staff member made (built once)."""
    today = bindparam("today", type_=Date)
    return (
        _with_requests(
            select(CampaignClient.campaign_id, func.count()).join(
                Campaign, Campaign.id == CampaignClient.campaign_id
            )
        )
        .where(
            Campaign.created_by_id == bindparam("actor_id", type_=String),
            # only a client whose request or signature was due before today can be late
            Campaign.due_date < today,
            _client_status(today) == "overdue",
        )
        .group_by(CampaignClient.campaign_id)
    )


def late_clients(actor: User, today: date) -> list[tuple[Campaign, int]]:
    """The campaigns ``actor`` made that have clients late, and how many, most first."""
    counts = dict(
        db.session.connection()
        .execute(_late_statement(), {"actor_id": actor.id, "today": today})
        .all()
    )
    if not counts:
        return []
    campaigns = db.session.execute(select(Campaign).where(Campaign.id.in_(counts))).scalars()
    return sorted(((c, counts[c.id]) for c in campaigns), key=lambda found: -found[1])


@cache
def _progress_statement() -> Any:
    """The board's query, built once: made anew for each page, its construction (a dozen
    CASE expressions) and cache key cost more than running it.

    Each request carries its items' counts by status (``DocumentRequest.items_*``, kept by
    ``requests._recount`` as items move); signers are counted per request with GROUP BY;
    each client's status is a CASE over them, so neither the board nor its totals bring a row
    per item or per signer into Python (500 clients in about a millisecond).
    """
    campaign_id = bindparam("campaign_id", type_=String)
    today = bindparam("today", type_=Date)
    signed_mine = select(CampaignClient.signature_request_id).where(
        CampaignClient.campaign_id == campaign_id
    )

    signers = (
        select(
            SignatureRequestSigner.request_id.label("request_id"),
            func.count().label("signers"),
            _count_if(SignatureRequestSigner.status == "signed").label("signed"),
        )
        .where(SignatureRequestSigner.request_id.in_(signed_mine))
        .group_by(SignatureRequestSigner.request_id)
        .subquery()
    )
    pending = DocumentRequest.items_pending
    submitted = DocumentRequest.items_submitted
    status = _client_status(today)
    has_signature = SignatureRequest.id.is_not(None)
    columns = select(
        CampaignClient.client_id.label("client_id"),
        Client.name.label("client_name"),
        Client.tax_id.label("tax_id"),
        CampaignClient.error.label("error"),
        case((has_signature, None), else_=DocumentRequest.id).label("request_id"),
        case((has_signature, SignatureRequest.id), else_=None).label("signature_request_id"),
        status.label("status"),
        # a signature counts as one thing to do, pending until it is complete
        case(
            (has_signature, case((status == "done", 0), else_=1)),
            (DocumentRequest.id.is_(None), 0),
            else_=pending,
        ).label("pending"),
        case((has_signature, 0), (DocumentRequest.id.is_(None), 0), else_=submitted).label(
            "submitted"
        ),
        case(
            (has_signature, 0),
            else_=func.coalesce(DocumentRequest.items_accepted, 0),
        ).label("accepted"),
        case(
            (has_signature, 0),
            else_=func.coalesce(DocumentRequest.items_not_applicable, 0),
        ).label("not_applicable"),
        case(
            (has_signature, 1),
            (DocumentRequest.id.is_(None), 0),
            else_=DocumentRequest.items_total,
        ).label("total"),
        func.coalesce(signers.c.signed, 0).label("signed"),
        func.coalesce(signers.c.signers, 0).label("signers"),
        # for the progress bar of the job and the chart, without asking again
        CampaignClient.status.label("job_status"),
        DocumentRequest.completed_at.label("request_completed_at"),
        SignatureRequest.completed_at.label("signature_completed_at"),
    )
    progress = (
        _with_requests(columns.join(Client, Client.id == CampaignClient.client_id))
        .outerjoin(signers, signers.c.request_id == CampaignClient.signature_request_id)
        .where(CampaignClient.campaign_id == campaign_id)
        .subquery()
    )
    rank = case(
        *[(progress.c.status == key, value) for key, value in _STATUS_ORDER.items()], else_=9
    )
    return select(progress).order_by(
        rank, progress.c.pending.desc(), progress.c.client_name, progress.c.client_id
    )


def _row(found: Any) -> ClientProgress:
    signature = found.signature_request_id is not None
    return ClientProgress(
        found.client_id,
        found.client_name,
        found.request_id,
        found.status,
        found.pending,
        found.submitted,
        found.accepted,
        found.not_applicable,
        found.total,
        [_("Firma")] if signature and found.status != "done" else [],
        signature_request_id=found.signature_request_id,
        signed=found.signed,
        signers=found.signers,
        error=found.error,
        tax_id=found.tax_id,
    )


def board(
    actor: User, campaign_id: str, *, today: date, with_missing: bool = True
) -> tuple[Campaign, list[ClientProgress]]:
    """One row per client, overdue first, then the least advanced (reminders, exports, API)."""
    campaign = get_campaign(actor, campaign_id)
    rows = [_row(found) for found in _progress_rows(campaign, today)]
    if with_missing:
        rows = with_missing_titles(rows)
    return campaign, rows


@dataclass(frozen=True)
class BoardPage:
    """What the board page shows: one page of rows and the figures of the whole campaign."""

    campaign: Campaign
    rows: list[ClientProgress]  # this page's, with the titles of what each still lacks
    shown: int  # clients matching the filters
    clients: int  # clients of the campaign, removed ones included
    totals: dict[str, int]
    series: list[tuple[date, int]]
    made: int  # clients the campaign's job has gone through (its progress bar)


def board_page(  # noqa: PLR0913 - the board's filters and page
    actor: User,
    campaign_id: str,
    *,
    today: date,
    status: str = "",
    query: str = "",
    page: int = 1,
    per_page: int = 50,
) -> BoardPage:
    """The board as its page shows it: every client's progress is read in one query (its
    totals need them all), as plain rows; only the page's rows are made into ``ClientProgress``
    and get the titles of what they still lack."""
    campaign = get_campaign(actor, campaign_id)
    every = _progress_rows(campaign, today)
    folded = query.casefold()
    chosen = [
        found
        for found in every
        if (not status or found.status == status)
        and (not folded or folded in found.client_name.casefold())
    ]
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(1, page), pages)
    shown = chosen[(page - 1) * per_page : page * per_page]
    return BoardPage(
        campaign,
        with_missing_titles([_row(found) for found in shown]),
        len(chosen),
        len(every),
        totals(every),
        progress_series(campaign, every, today=today),
        sum(found.job_status != "pending" for found in every),
    )


def with_missing_titles(rows: list[ClientProgress]) -> list[ClientProgress]:
    """The rows with the titles of what each client still lacks (the board counts them only;
    a page fills in the rows it shows, reminders and exports all of them)."""
    wanted = [r.request_id for r in rows if r.request_id and r.pending]
    titles: dict[str, list[str]] = {}
    for start in range(0, len(wanted), 500):
        for request_id, title in db.session.connection().execute(
            select(RequestItem.request_id, RequestItem.title)
            .where(
                RequestItem.request_id.in_(wanted[start : start + 500]),
                RequestItem.required.is_(True),
                RequestItem.status == "pending",
            )
            .order_by(RequestItem.request_id, RequestItem.position)
        ):
            titles.setdefault(request_id, []).append(title)
    return [replace(r, missing=titles.get(r.request_id, [])) if r.request_id else r for r in rows]


def totals(rows: Sequence[Any]) -> dict[str, int]:
    """Clients, done, in progress, late and failed among ``rows`` (``ClientProgress`` or query
    rows); a failed client (the job could not prepare it) is not in progress."""
    by_status = Counter(row.status for row in rows)

    def count(*statuses: str) -> int:
        return sum(by_status.get(s, 0) for s in statuses)

    return {
        "clients": sum(n for s, n in by_status.items() if s != "removed"),
        "done": count("done", "closed"),
        "pending": count("open", "pending", "declined"),
        "overdue": count("overdue"),
        "failed": count("failed"),
    }


def remind(actor: User, campaign_id: str, *, today: date) -> int:
    """One reminder to each client still missing something, listing only what is missing."""
    _campaign, rows = board(actor, campaign_id, today=today)
    sent = 0
    for row in rows:
        if row.status not in ("open", "overdue"):
            continue
        if row.request_id and row.missing:
            request = db.session.get(DocumentRequest, row.request_id)
            if request is not None:
                sent += requests.remind_now(request, today)
        elif row.signature_request_id:
            signature = db.session.get(SignatureRequest, row.signature_request_id)
            if signature is not None:
                sent += signatures.remind_turn(signature)
    audit.record("campaign_reminded", actor, f"campaign:{campaign_id}", sent=sent)
    return sent


def export(actor: User, campaign_id: str, *, today: date, kind: str) -> tuple[bytes, str, str]:
    """The progress table as CSV or XLSX: (bytes, media type, file name)."""
    campaign, rows = board(actor, campaign_id, today=today)
    header = [
        _("Cliente"),
        _("NIF"),
        _("Estado"),
        _("Firmado"),
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
            r.tax_id or "",
            r.status,
            (_("sí") if r.is_signed else _("no")) if r.signers else "",
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


# ---------------------------------------------------------------- pages


def progress_series(
    campaign: Campaign, progress: Sequence[Any], *, today: date
) -> list[tuple[date, int]]:
    """Clients complete at the end of each day, from the campaign's first day to today (or
    its due date, if later): the board's chart, from its rows (``_progress_rows``)."""
    finished: list[datetime] = [
        moment
        for row in progress
        if row.status != "removed"
        for moment in (row.request_completed_at, row.signature_completed_at)
        if moment is not None
    ]
    start = campaign.created_at.date()
    end = max(today, start)
    days = (end - start).days
    step = max(1, days // 60 + 1)  # at most about 60 points
    per_day: dict[date, int] = {}
    for moment in finished:
        per_day[moment.date()] = per_day.get(moment.date(), 0) + 1
    series: list[tuple[date, int]] = []
    total = sum(n for d, n in per_day.items() if d < start)
    for offset in range(0, days + 1):
        day = start + timedelta(days=offset)
        total += per_day.get(day, 0)
        if offset % step == 0 or offset == days:
            series.append((day, total))
    return series
