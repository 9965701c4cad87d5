"""Document-request items: their lifecycle, completion and progress."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from workflows.requests import (
    InvalidItemTransition,
    ItemAction,
    ItemClosed,
    ItemStatus,
    Progress,
    ReasonRequired,
    RequestError,
    accept,
    allowed_item_actions,
    is_complete,
    is_missing,
    mark_not_applicable,
    needs_chasing,
    progress,
    reject,
    reopen,
    submit,
)

S = ItemStatus
Act = ItemAction

CALLS: dict[ItemAction, Callable[[ItemStatus], ItemStatus]] = {
    Act.SUBMIT: submit,
    Act.ACCEPT: accept,
    Act.REJECT: lambda status: reject(status, "El extracto está cortado"),
    Act.MARK_NOT_APPLICABLE: lambda status: mark_not_applicable(status, "No tuvo alquileres"),
    Act.REOPEN: reopen,
}

EXPECTED = {
    (S.PENDING, Act.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, Act.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, Act.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Act.REJECT): S.PENDING,
    (S.PENDING, Act.MARK_NOT_APPLICABLE): S.NOT_APPLICABLE,
    (S.ACCEPTED, Act.REOPEN): S.PENDING,
    (S.NOT_APPLICABLE, Act.REOPEN): S.PENDING,
}
REFUSED = [pair for pair in itertools.product(S, Act) if pair not in EXPECTED]


@pytest.mark.parametrize(("status", "action"), sorted(EXPECTED))
def test_every_allowed_step(status: ItemStatus, action: ItemAction) -> None:
    assert CALLS[action](status) == EXPECTED[(status, action)]
    assert action in allowed_item_actions(status)


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_every_other_step_is_refused(status: ItemStatus, action: ItemAction) -> None:
    expected_error = (
        ItemClosed if status in (S.ACCEPTED, S.NOT_APPLICABLE) else InvalidItemTransition
    )
    with pytest.raises(expected_error) as raised:
        CALLS[action](status)
    assert raised.value.status == status
    assert raised.value.action == action
    assert action not in allowed_item_actions(status)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.NOT_APPLICABLE])
def test_uploading_to_a_closed_item_is_a_conflict_that_says_to_reopen(status: ItemStatus) -> None:
    with pytest.raises(ItemClosed) as raised:
        submit(status)
    assert "reopen" in str(raised.value)
    # The app maps the whole transition family to 409.
    assert isinstance(raised.value, InvalidItemTransition)
    assert status.is_closed


def test_more_files_can_follow_the_first_one() -> None:
    assert submit(submit(S.PENDING)) == S.SUBMITTED


@pytest.mark.parametrize("comment", [None, "", "  "])
def test_rejecting_needs_a_comment(comment: str | None) -> None:
    with pytest.raises(ReasonRequired) as raised:
        reject(S.SUBMITTED, comment)
    assert raised.value.action == Act.REJECT


@pytest.mark.parametrize("reason", [None, "", "\n"])
def test_not_applicable_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(ReasonRequired):
        mark_not_applicable(S.PENDING, reason)


def test_a_wrong_state_is_reported_before_a_missing_comment() -> None:
    with pytest.raises(InvalidItemTransition):
        reject(S.PENDING, None)
    with pytest.raises(ItemClosed):
        mark_not_applicable(S.ACCEPTED, "")


def test_a_rejected_item_goes_back_round_and_can_be_reopened_after_acceptance() -> None:
    status = S.PENDING
    status = submit(status)
    status = reject(status, "Ilegible")
    assert status == S.PENDING and is_missing(status)
    status = accept(submit(status))
    assert status == S.ACCEPTED and not is_missing(status)
    status = reopen(status)
    assert status == S.PENDING


def test_errors_share_one_family() -> None:
    for attempt in (lambda: accept(S.PENDING), lambda: reject(S.SUBMITTED, "")):
        with pytest.raises(RequestError):
            attempt()


# --- completion and progress ----------------------------------------------


def test_complete_when_required_items_are_accepted_or_not_applicable() -> None:
    assert is_complete([(S.ACCEPTED, True), (S.NOT_APPLICABLE, True), (S.PENDING, False)])


@pytest.mark.parametrize("waiting", [S.PENDING, S.SUBMITTED])
def test_not_complete_while_a_required_item_is_missing_or_unreviewed(waiting: ItemStatus) -> None:
    assert not is_complete([(S.ACCEPTED, True), (waiting, True)])


def test_a_request_without_required_items_is_complete() -> None:
    assert is_complete([])
    assert is_complete([(S.PENDING, False), (S.SUBMITTED, False)])


def test_is_complete_accepts_a_generator() -> None:
    assert not is_complete((status, True) for status in (S.ACCEPTED, S.PENDING))


def test_progress_counts_required_items() -> None:
    items = [(S.ACCEPTED, True), (S.NOT_APPLICABLE, True), (S.SUBMITTED, True), (S.ACCEPTED, False)]
    assert progress(items) == Progress(done=2, total=3, percent=66)


def test_progress_reaches_100_only_when_complete() -> None:
    almost = [(S.ACCEPTED, True)] * 199 + [(S.SUBMITTED, True)]
    assert progress(almost).percent == 99
    assert not is_complete(almost)
    done = [(S.ACCEPTED, True)] * 200
    assert progress(done) == Progress(done=200, total=200, percent=100)
    assert is_complete(done)


def test_progress_of_a_request_with_nothing_required() -> None:
    assert progress([(S.PENDING, False)]) == Progress(done=0, total=0, percent=100)


def test_reminders_chase_only_missing_required_items() -> None:
    assert needs_chasing([(S.PENDING, True), (S.ACCEPTED, True)])
    # Once something arrives the client has done their part until staff reject it.
    assert not needs_chasing([(S.SUBMITTED, True), (S.ACCEPTED, True)])
    assert not needs_chasing([(S.NOT_APPLICABLE, True), (S.PENDING, False)])
    assert needs_chasing([(reject(S.SUBMITTED, "Falta la página 2"), True)])
