"""Reminder cadences and escalation levels for things that can be late.

Nothing here reads the clock: callers pass ``today`` (a date, in the firm's
time zone) or ``now`` (a timezone-aware datetime), so that a periodic sweep
and its tests see the same answers.

Escalation levels are cumulative. Level 1 notifies the person whose turn it
is; level 2 also alerts the space's manager (the staff owner of a request).
An alert sweep creates the missing alerts for every level up to the one
returned, at most one per thing and level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from workflows.errors import WorkflowError
from workflows.review import ReviewState

__all__ = [
    "EscalationLevel",
    "InvalidSchedule",
    "ReminderKind",
    "ReminderPolicy",
    "ReminderTiming",
    "ReviewSla",
    "escalation_level_for_request",
    "reminder_dates",
    "reminder_kind",
    "review_deadline",
    "review_escalation_level",
]


class InvalidSchedule(WorkflowError, ValueError):
    """A reminder policy or SLA has a value that cannot work."""


class EscalationLevel(IntEnum):
    """How late something is, and who must hear about it."""

    NONE = 0
    NOTIFY = 1
    ESCALATE = 2


class ReminderTiming(StrEnum):
    """When a reminder falls relative to the due date."""

    BEFORE_DUE = "before_due"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ReminderKind:
    """A reminder due today: its timing and the days before or after the due date."""

    timing: ReminderTiming
    days: int


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSchedule(f"{name} must be a whole number of days, not {value!r}")
    if value <= 0:
        raise InvalidSchedule(f"{name} must be at least 1 day, not {value}")
    return value


def _check_keys(kind: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidSchedule(f"unknown {kind} setting(s): {', '.join(unknown)}")


@dataclass(frozen=True)
class ReminderPolicy:
    """When a document request reminds the client.

    ``days_before`` are kept sorted from the furthest to the nearest day and
    without repeats; reminding on the due date itself is ``on_due_date``.
    """

    days_before: tuple[int, ...] = (7, 1)
    on_due_date: bool = True
    overdue_every_days: int = 3

    def __post_init__(self) -> None:
        if isinstance(self.days_before, str | bytes) or not isinstance(
            self.days_before, tuple | list
        ):
            raise InvalidSchedule(f"days_before must be a list of days, not {self.days_before!r}")
        days = {_check_positive_int("each of days_before", day) for day in self.days_before}
        object.__setattr__(self, "days_before", tuple(sorted(days, reverse=True)))
        if not isinstance(self.on_due_date, bool):
            raise InvalidSchedule(f"on_due_date must be true or false, not {self.on_due_date!r}")
        _check_positive_int("overdue_every_days", self.overdue_every_days)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReminderPolicy:
        """A policy from its stored JSON form; missing keys take the defaults."""
        _check_keys("reminder policy", data, {"days_before", "on_due_date", "overdue_every_days"})
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form of the policy."""
        return {
            "days_before": list(self.days_before),
            "on_due_date": self.on_due_date,
            "overdue_every_days": self.overdue_every_days,
        }


def _check_date(name: str, value: date) -> None:
    # datetime is a date subclass; mixing them would count hours, not days.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")


def reminder_kind(policy: ReminderPolicy, due: date, today: date) -> ReminderKind | None:
    """The reminder that falls on ``today`` for something due on ``due``, if any."""
    _check_date("due", due)
    _check_date("today", today)
    days_left = (due - today).days
    if days_left > 0:
        if days_left in policy.days_before:
            return ReminderKind(ReminderTiming.BEFORE_DUE, days_left)
        return None
    if days_left == 0:
        return ReminderKind(ReminderTiming.DUE_TODAY, 0) if policy.on_due_date else None
    days_overdue = -days_left
    if days_overdue % policy.overdue_every_days == 0:
        return ReminderKind(ReminderTiming.OVERDUE, days_overdue)
    return None


def reminder_dates(policy: ReminderPolicy, due: date, start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` (both included) on which a reminder falls."""
    for name, value in (("due", due), ("start", start), ("end", end)):
        _check_date(name, value)
    dates = {due - timedelta(days=days) for days in policy.days_before}
    if policy.on_due_date:
        dates.add(due)
    every = policy.overdue_every_days
    # Jump straight to the first overdue reminder on or after `start`.
    step = max(1, -(-(start - due).days // every))
    overdue = due + timedelta(days=step * every)
    while overdue <= end:
        dates.add(overdue)
        overdue += timedelta(days=every)
    return sorted(day for day in dates if start <= day <= end)


def escalation_level_for_request(
    due: date, today: date, *, escalate_after_days: int = 0
) -> EscalationLevel:
    """How late an incomplete request is on ``today``.

    Not late on or before the due date. From the first day after it the
    client is notified (level 1); once it has been overdue for more than
    ``escalate_after_days`` days the staff owner is alerted too (level 2).
    With the default of 0 both happen on the first overdue day; with 3 the
    client alone is chased on days 1–3 and the owner hears on day 4.
    """
    _check_date("due", due)
    _check_date("today", today)
    if isinstance(escalate_after_days, bool) or not isinstance(escalate_after_days, int):
        raise TypeError("escalate_after_days must be an int")
    if escalate_after_days < 0:
        raise InvalidSchedule(f"escalate_after_days cannot be negative ({escalate_after_days})")
    days_overdue = (today - due).days
    if days_overdue <= 0:
        return EscalationLevel.NONE
    if days_overdue > escalate_after_days:
        return EscalationLevel.ESCALATE
    return EscalationLevel.NOTIFY


@dataclass(frozen=True)
class ReviewSla:
    """How long a space gives reviewers: to open a version, and to decide on it.

    Both count calendar days from the moment the version was received.
    """

    read_days: int = 2
    decision_days: int = 5

    def __post_init__(self) -> None:
        _check_positive_int("read_days", self.read_days)
        _check_positive_int("decision_days", self.decision_days)
        if self.decision_days < self.read_days:
            raise InvalidSchedule(
                f"decision_days ({self.decision_days}) cannot be shorter than "
                f"read_days ({self.read_days}): a decision follows reading"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewSla:
        """An SLA from its stored JSON form; missing keys take the defaults."""
        _check_keys("review SLA", data, {"read_days", "decision_days"})
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form of the SLA."""
        return {"read_days": self.read_days, "decision_days": self.decision_days}


def _utc(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    # Aware datetimes sharing a tzinfo subtract as wall-clock times; UTC keeps DST honest.
    return value.astimezone(UTC)


def _review_clock(
    state: ReviewState, entered_state_at: datetime, sla: ReviewSla, received_at: datetime | None
) -> tuple[datetime, timedelta] | None:
    """When the reviewer's clock started for ``state`` and how long it runs, or None."""
    state = ReviewState(state)
    entered = _utc("entered_state_at", entered_state_at)
    received = None if received_at is None else _utc("received_at", received_at)
    if received is not None and received > entered:
        raise ValueError("received_at cannot be later than entered_state_at")
    if state.is_terminal:
        return None
    if state == ReviewState.RECEIVED:
        return entered, timedelta(days=sla.read_days)
    if received is None:
        raise ValueError(f"received_at is needed for a version that is {state}")
    return received, timedelta(days=sla.decision_days)


def review_deadline(
    state: ReviewState,
    entered_state_at: datetime,
    sla: ReviewSla,
    *,
    received_at: datetime | None = None,
) -> datetime | None:
    """The moment (UTC) after which a version in ``state`` is late; None once decided.

    A ``received`` version must be opened within ``read_days`` of entering
    that state; a ``read`` or ``checked`` one must be decided within
    ``decision_days`` of ``received_at``.
    """
    clock = _review_clock(state, entered_state_at, sla, received_at)
    if clock is None:
        return None
    started, allowance = clock
    return started + allowance


def review_escalation_level(
    state: ReviewState,
    entered_state_at: datetime,
    now: datetime,
    sla: ReviewSla,
    *,
    received_at: datetime | None = None,
) -> EscalationLevel:
    """How late the review of a version is at ``now``.

    Level 1 (notify the reviewer whose turn it is) once the wait exceeds the
    SLA; level 2 (escalate to the space's manager) once it exceeds twice the
    SLA. With the default SLA an unopened version reaches level 1 after 48 h
    and level 2 after 96 h; an undecided one after 5 and 10 days from receipt.
    ``validated`` and ``changes_requested`` are never late.
    """
    clock = _review_clock(state, entered_state_at, sla, received_at)
    if clock is None:
        return EscalationLevel.NONE
    started, allowance = clock
    waited = _utc("now", now) - started
    if waited > 2 * allowance:
        return EscalationLevel.ESCALATE
    if waited > allowance:
        return EscalationLevel.NOTIFY
    return EscalationLevel.NONE
