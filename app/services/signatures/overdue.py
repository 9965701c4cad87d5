"""Signature requests past their due date, for the one alert engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Document, SignatureRequest, User
from app.services import alerts
from app.services.access import can_see_document
from app.services.signatures.requests import OPEN, whose_turn
from workflows.schedule import escalation_level_for_request

SIGNATURE_ESCALATE_AFTER_DAYS = 3


@dataclass(frozen=True)
class OverdueSignature:
    """A signature request past its due date, for the alert engine."""

    request: SignatureRequest
    document: Document
    due_date: date
    waiting_on: tuple[User, ...]  # the signers whose turn it is
    created_by: User


def overdue_signature_requests(today: date) -> list[OverdueSignature]:
    """Open requests whose due date is before ``today``, with whose turn it is."""
    query = (
        select(SignatureRequest)
        .where(
            SignatureRequest.status.in_(OPEN),
            SignatureRequest.due_date.is_not(None),
            SignatureRequest.due_date < today,
        )
        .order_by(SignatureRequest.due_date)
    )
    found: list[OverdueSignature] = []
    for request in db.session.execute(query).scalars():
        if request.document.deleted_at is not None:
            continue
        assert request.due_date is not None
        found.append(
            OverdueSignature(
                request=request,
                document=request.document,
                due_date=request.due_date,
                waiting_on=tuple(s.user for s in whose_turn(request)),
                created_by=request.created_by,
            )
        )
    return found


def _late_signatures(now: datetime) -> Iterable[alerts.LateThing]:
    """Overdue signature requests for the alert engine: the signer first, then the requester."""
    today = now.date()
    for overdue in overdue_signature_requests(today):
        level = int(
            escalation_level_for_request(
                overdue.due_date, today, escalate_after_days=SIGNATURE_ESCALATE_AFTER_DAYS
            )
        )
        if level < 1:
            continue

        def recipients(lvl: int, overdue: OverdueSignature = overdue) -> list[User]:
            if lvl >= 2:
                return [overdue.created_by]
            return [u for u in overdue.waiting_on if can_see_document(u, overdue.document)]

        yield alerts.LateThing(
            kind="signature",
            target_type="signature_request",
            target_id=overdue.request.id,
            space_id=overdue.document.space_id,
            level=level,
            due=overdue.due_date,
            summary=overdue.document.title,
            link=f"/signatures/{overdue.request.id}",
            recipients=recipients,
        )


alerts.register_finder(_late_signatures)
