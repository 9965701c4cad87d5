"""Review SLA: when a version waiting for its reviewer becomes late, and how late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.review import ReviewState
from workflows.schedule import (
    EscalationLevel,
    InvalidSchedule,
    ReviewSla,
    review_deadline,
    review_escalation_level,
)

R = ReviewState
RECEIVED_AT = datetime(2025, 5, 5, 9, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def level_while_received(elapsed: timedelta, sla: ReviewSla | None = None) -> int:
    sla = sla or ReviewSla()
    return review_escalation_level(R.RECEIVED, RECEIVED_AT, RECEIVED_AT + elapsed, sla)


@pytest.mark.parametrize(
    ("elapsed", "level"),
    [
        (timedelta(0), 0),
        (timedelta(days=2), 0),
        (timedelta(days=2) + TICK, 1),
        (timedelta(days=4), 1),
        (timedelta(days=4) + TICK, 2),
        (timedelta(days=30), 2),
    ],
)
def test_an_unopened_version_is_late_after_read_days(elapsed: timedelta, level: int) -> None:
    assert level_while_received(elapsed) == level


@pytest.mark.parametrize("state", [R.READ, R.CHECKED])
@pytest.mark.parametrize(
    ("elapsed", "level"),
    [
        (timedelta(days=5), 0),
        (timedelta(days=5) + TICK, 1),
        (timedelta(days=10), 1),
        (timedelta(days=10) + TICK, 2),
    ],
)
def test_a_decision_is_due_within_decision_days_of_receipt(
    state: ReviewState, elapsed: timedelta, level: int
) -> None:
    # Opened late, on day 4: reading does not restart the decision clock.
    entered = RECEIVED_AT + timedelta(days=4)
    now = RECEIVED_AT + elapsed
    assert (
        review_escalation_level(state, entered, now, ReviewSla(), received_at=RECEIVED_AT) == level
    )


def test_custom_sla() -> None:
    sla = ReviewSla(read_days=1, decision_days=3)
    assert level_while_received(timedelta(hours=24), sla) == 0
    assert level_while_received(timedelta(hours=25), sla) == 1
    assert level_while_received(timedelta(hours=49), sla) == 2
    read_at = RECEIVED_AT + timedelta(hours=2)
    assert (
        review_escalation_level(
            R.READ, read_at, RECEIVED_AT + timedelta(days=4), sla, received_at=RECEIVED_AT
        )
        == 1
    )


@pytest.mark.parametrize("state", [R.VALIDATED, R.CHANGES_REQUESTED])
def test_decided_versions_are_never_late(state: ReviewState) -> None:
    years_later = RECEIVED_AT + timedelta(days=3650)
    assert (
        review_escalation_level(state, RECEIVED_AT, years_later, ReviewSla(), received_at=None)
        == EscalationLevel.NONE
    )
    assert review_deadline(state, RECEIVED_AT, ReviewSla()) is None


def test_deadlines() -> None:
    assert review_deadline(R.RECEIVED, RECEIVED_AT, ReviewSla()) == RECEIVED_AT + timedelta(days=2)
    assert review_deadline(
        R.CHECKED, RECEIVED_AT + timedelta(days=1), ReviewSla(), received_at=RECEIVED_AT
    ) == RECEIVED_AT + timedelta(days=5)


def test_days_are_real_days_across_a_daylight_saving_change() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    # Clocks go forward on 30 March 2025: 48 hours later reads 13:00, not 12:00.
    received = datetime(2025, 3, 29, 12, 0, tzinfo=madrid)
    sla = ReviewSla()
    on_time = datetime(2025, 3, 31, 12, 30, tzinfo=madrid)
    just_late = datetime(2025, 3, 31, 13, 0, 1, tzinfo=madrid)
    assert review_escalation_level(R.RECEIVED, received, on_time, sla) == 0
    assert review_escalation_level(R.RECEIVED, received, just_late, sla) == 1


def test_times_from_different_zones_compare_as_instants() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    received = datetime(2025, 5, 5, 11, 30, tzinfo=madrid)  # 09:30 UTC
    assert (
        review_escalation_level(R.RECEIVED, received, RECEIVED_AT + timedelta(days=2), ReviewSla())
        == 0
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        review_escalation_level(R.RECEIVED, datetime(2025, 5, 5, 9, 30), RECEIVED_AT, ReviewSla())


def test_read_and_checked_need_the_receipt_time() -> None:
    with pytest.raises(ValueError, match="received_at"):
        review_escalation_level(R.READ, RECEIVED_AT, RECEIVED_AT, ReviewSla())


def test_receipt_cannot_follow_the_current_state() -> None:
    with pytest.raises(ValueError, match="later"):
        review_escalation_level(
            R.READ,
            RECEIVED_AT,
            RECEIVED_AT + timedelta(days=1),
            ReviewSla(),
            received_at=RECEIVED_AT + timedelta(hours=1),
        )


def test_sla_json_form() -> None:
    sla = ReviewSla(read_days=1, decision_days=10)
    assert sla.to_dict() == {"read_days": 1, "decision_days": 10}
    assert ReviewSla.from_dict(sla.to_dict()) == sla
    assert ReviewSla.from_dict({}) == ReviewSla(read_days=2, decision_days=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"read_days": 0}, "read_days must be at least 1"),
        ({"decision_days": -5}, "decision_days must be at least 1"),
        ({"read_days": 2.5}, "whole number"),
        ({"read_days": 6, "decision_days": 5}, "cannot be shorter"),
        ({"read": 2}, "unknown review SLA setting"),
    ],
)
def test_bad_slas_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message):
        ReviewSla.from_dict(data)
