"""Reminder cadence of document requests and their escalation levels."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from workflows.errors import WorkflowError
from workflows.schedule import (
    EscalationLevel,
    InvalidSchedule,
    ReminderKind,
    ReminderPolicy,
    ReminderTiming,
    escalation_level_for_request,
    reminder_dates,
    reminder_kind,
)

T = ReminderTiming


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def reminders_day_by_day(
    policy: ReminderPolicy, due: date, start: date, end: date
) -> dict[date, ReminderKind]:
    found = {}
    for day in days(start, end):
        kind = reminder_kind(policy, due, day)
        if kind is not None:
            found[day] = kind
    return found


def test_default_cadence_over_a_month() -> None:
    due = date(2025, 3, 15)
    found = reminders_day_by_day(ReminderPolicy(), due, date(2025, 3, 1), date(2025, 3, 31))
    assert found == {
        date(2025, 3, 8): ReminderKind(T.BEFORE_DUE, 7),
        date(2025, 3, 14): ReminderKind(T.BEFORE_DUE, 1),
        date(2025, 3, 15): ReminderKind(T.DUE_TODAY, 0),
        date(2025, 3, 18): ReminderKind(T.OVERDUE, 3),
        date(2025, 3, 21): ReminderKind(T.OVERDUE, 6),
        date(2025, 3, 24): ReminderKind(T.OVERDUE, 9),
        date(2025, 3, 27): ReminderKind(T.OVERDUE, 12),
        date(2025, 3, 30): ReminderKind(T.OVERDUE, 15),
    }
    assert reminder_dates(ReminderPolicy(), due, date(2025, 3, 1), date(2025, 3, 31)) == sorted(
        found
    )


def test_custom_cadence_across_a_leap_february() -> None:
    policy = ReminderPolicy(days_before=(3, 14), on_due_date=False, overdue_every_days=7)
    due = date(2024, 2, 20)
    found = reminders_day_by_day(policy, due, date(2024, 2, 1), date(2024, 3, 31))
    assert found == {
        date(2024, 2, 6): ReminderKind(T.BEFORE_DUE, 14),
        date(2024, 2, 17): ReminderKind(T.BEFORE_DUE, 3),
        date(2024, 2, 27): ReminderKind(T.OVERDUE, 7),
        date(2024, 3, 5): ReminderKind(T.OVERDUE, 14),
        date(2024, 3, 12): ReminderKind(T.OVERDUE, 21),
        date(2024, 3, 19): ReminderKind(T.OVERDUE, 28),
        date(2024, 3, 26): ReminderKind(T.OVERDUE, 35),
    }


def test_daily_chasing_after_the_due_date_with_no_early_reminders() -> None:
    policy = ReminderPolicy(days_before=(), overdue_every_days=1)
    due = date(2025, 6, 28)
    found = reminders_day_by_day(policy, due, date(2025, 6, 1), date(2025, 7, 10))
    assert sorted(found) == days(due, date(2025, 7, 10))
    assert found[date(2025, 7, 1)] == ReminderKind(T.OVERDUE, 3)


POLICIES = [
    ReminderPolicy(),
    ReminderPolicy(days_before=(30, 10, 2), on_due_date=False, overdue_every_days=5),
    ReminderPolicy(days_before=(), on_due_date=True, overdue_every_days=1),
    ReminderPolicy(days_before=(1,), overdue_every_days=30),
]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 1), date(2025, 3, 31)),  # before, on and after the due date
        (date(2025, 2, 14), date(2025, 4, 2)),  # starts while already overdue
        (date(2025, 2, 11), date(2025, 2, 11)),  # a single day
        (date(2024, 12, 1), date(2025, 1, 15)),  # ends before any reminder might fall
    ],
)
def test_reminder_dates_are_the_days_reminder_kind_fires(
    policy: ReminderPolicy, start: date, end: date
) -> None:
    due = date(2025, 2, 10)
    assert reminder_dates(policy, due, start, end) == sorted(
        reminders_day_by_day(policy, due, start, end)
    )


def test_an_empty_or_reversed_range_has_no_reminders() -> None:
    assert (
        reminder_dates(ReminderPolicy(), date(2025, 3, 15), date(2025, 4, 1), date(2025, 3, 1))
        == []
    )


def test_reminder_days_are_sorted_and_deduplicated() -> None:
    assert ReminderPolicy(days_before=(1, 7, 7, 3)).days_before == (7, 3, 1)
    assert ReminderPolicy(days_before=[1, 7]) == ReminderPolicy()  # type: ignore[arg-type]


def test_policy_survives_a_json_round_trip() -> None:
    policy = ReminderPolicy(days_before=(10, 2), on_due_date=False, overdue_every_days=4)
    stored = json.dumps(policy.to_dict())
    assert json.loads(stored) == {
        "days_before": [10, 2],
        "on_due_date": False,
        "overdue_every_days": 4,
    }
    assert ReminderPolicy.from_dict(json.loads(stored)) == policy


def test_missing_settings_take_the_default_cadence() -> None:
    assert ReminderPolicy.from_dict({}) == ReminderPolicy()
    assert ReminderPolicy.from_dict({"overdue_every_days": 2}) == ReminderPolicy(
        overdue_every_days=2
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"overdue_every_days": 0}, "overdue_every_days must be at least 1"),
        ({"overdue_every_days": -3}, "overdue_every_days must be at least 1"),
        ({"days_before": [7, 0]}, "days_before must be at least 1"),
        ({"days_before": [-1]}, "days_before must be at least 1"),
        ({"days_before": [1.5]}, "whole number"),
        ({"days_before": ["7"]}, "whole number"),
        ({"days_before": 7}, "list of days"),
        ({"days_before": "7"}, "list of days"),
        ({"overdue_every_days": True}, "whole number"),
        ({"on_due_date": "yes"}, "on_due_date must be true or false"),
        ({"every": 3}, "unknown reminder policy setting"),
    ],
)
def test_bad_policies_are_refused_with_a_clear_message(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        ReminderPolicy.from_dict(data)
    assert isinstance(raised.value, InvalidSchedule)
    assert isinstance(raised.value, WorkflowError)


def test_datetimes_are_refused_where_dates_are_meant() -> None:
    with pytest.raises(TypeError, match="date"):
        reminder_kind(ReminderPolicy(), date(2025, 3, 15), datetime(2025, 3, 15, 9, 0))


# --- escalation of overdue requests ---------------------------------------


def test_by_default_the_owner_hears_on_the_first_overdue_day() -> None:
    due = date(2025, 3, 31)
    assert escalation_level_for_request(due, date(2025, 3, 30)) == EscalationLevel.NONE
    assert escalation_level_for_request(due, due) == EscalationLevel.NONE
    assert escalation_level_for_request(due, date(2025, 4, 1)) == EscalationLevel.ESCALATE


def test_the_client_alone_is_chased_during_the_grace_days() -> None:
    due = date(2025, 3, 31)
    levels = [
        escalation_level_for_request(due, day, escalate_after_days=3)
        for day in days(date(2025, 3, 30), date(2025, 4, 5))
    ]
    assert levels == [0, 0, 1, 1, 1, 2, 2]


def test_negative_grace_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="negative"):
        escalation_level_for_request(date(2025, 1, 1), date(2025, 1, 2), escalate_after_days=-1)
