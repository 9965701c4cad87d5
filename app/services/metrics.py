"""What a firm watches month by month (admin): requests done on time and how fast, clients who
used the portal, signatures completed and how fast.

Every figure is read from what the portal already keeps: requests' due and completion dates,
signature requests' creation and completion times, and the audit trail (who did anything,
when). A month with nothing to measure has no figure (None), never a made-up zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from statistics import median

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Client, DocumentRequest, SignatureRequest, User
from app.models.base import as_utc
from app.services.access import require_admin

MONTHS = 12


@dataclass(frozen=True)
class Month:
    start: date
    requests_due: int
    on_time_share: float | None  # 0..1, of the requests due that month (and already due)
    requests_completed: int
    median_days_to_complete: float | None
    clients: int
    active_clients: int
    active_share: float | None
    signatures_completed: int
    median_days_to_sign: float | None

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")


def _month_starts(today: date, months: int) -> list[date]:
    starts = []
    year, month = today.year, today.month
    for _i in range(months):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def _next(start: date) -> date:
    return date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _days(start: datetime, end: datetime) -> float:
    return (as_utc(end) - as_utc(start)).total_seconds() / 86400


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def monthly(actor: User, *, today: date, months: int = MONTHS) -> list[Month]:
    """The last ``months`` months, oldest first, the current one last (so far)."""
    require_admin(actor)
    starts = _month_starts(today, months)
    first = _moment(starts[0])
    requests = db.session.execute(
        select(
            DocumentRequest.created_at, DocumentRequest.due_date, DocumentRequest.completed_at
        ).where((DocumentRequest.due_date >= starts[0]) | (DocumentRequest.completed_at >= first))
    ).all()
    signed = db.session.execute(
        select(SignatureRequest.created_at, SignatureRequest.completed_at).where(
            SignatureRequest.completed_at >= first
        )
    ).all()
    result = []
    for start in starts:
        end = _next(start)
        due = [r for r in requests if start <= r.due_date < end and r.due_date < today]
        on_time = [
            r
            for r in due
            if r.completed_at is not None and as_utc(r.completed_at).date() <= r.due_date
        ]
        done = [
            r for r in requests if r.completed_at and start <= as_utc(r.completed_at).date() < end
        ]
        signatures = [
            s for s in signed if s.completed_at and start <= as_utc(s.completed_at).date() < end
        ]
        clients = db.session.execute(
            select(func.count(Client.id)).where(Client.created_at < _moment(end))
        ).scalar_one()
        active = db.session.execute(
            select(func.count(func.distinct(User.client_id)))
            .select_from(AuditEvent)
            .join(User, User.id == AuditEvent.actor_id)
            .where(
                User.client_id.is_not(None),
                AuditEvent.at >= _moment(start),
                AuditEvent.at < _moment(end),
            )
        ).scalar_one()
        result.append(
            Month(
                start=start,
                requests_due=len(due),
                on_time_share=round(len(on_time) / len(due), 3) if due else None,
                requests_completed=len(done),
                median_days_to_complete=_median(
                    [_days(r.created_at, r.completed_at) for r in done]
                ),
                clients=clients,
                active_clients=active,
                active_share=round(active / clients, 3) if clients else None,
                signatures_completed=len(signatures),
                median_days_to_sign=_median(
                    [_days(s.created_at, s.completed_at) for s in signatures]
                ),
            )
        )
    return result


def as_csv(rows: list[Month]) -> bytes:
    """The same table for a spreadsheet (UTF-8 with a BOM, so that Excel reads the accents)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Mes"),
            _("Solicitudes vencidas"),
            _("A tiempo (%)"),
            _("Solicitudes completadas"),
            _("Mediana hasta completar (días)"),
            _("Clientes"),
            _("Clientes que usaron el portal"),
            _("Uso del portal (%)"),
            _("Firmas completadas"),
            _("Mediana hasta firmar (días)"),
        ]
    )
    for m in rows:
        writer.writerow(
            [
                m.label,
                m.requests_due,
                "" if m.on_time_share is None else round(m.on_time_share * 100, 1),
                m.requests_completed,
                "" if m.median_days_to_complete is None else m.median_days_to_complete,
                m.clients,
                m.active_clients,
                "" if m.active_share is None else round(m.active_share * 100, 1),
                m.signatures_completed,
                "" if m.median_days_to_sign is None else m.median_days_to_sign,
            ]
        )
    return out.getvalue().encode("utf-8-sig")
