"""The onboarding state machine: every pair of status and action, steps, whose turn, stalls."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import WorkflowError
from workflows.onboarding import (
    InvalidTransition,
    OnboardingAction,
    OnboardingStatus,
    Stall,
    StallPolicy,
    StepState,
    allowed_actions,
    apply,
    initial_status,
    stall,
    steps,
    waits_on,
)

S = OnboardingStatus
A = OnboardingAction
OPEN = (S.INVITED, S.IDENTITY, S.REVIEW, S.ENGAGEMENT)

# Written out by hand from DESIGN.md so that a change to the library's table shows up here.
EXPECTED = {
    (S.INVITED, A.ACCEPT_INVITATION): S.IDENTITY,
    (S.IDENTITY, A.CONFIRM_IDENTITY): S.REVIEW,
    (S.REVIEW, A.ASK_IDENTITY_AGAIN): S.IDENTITY,
    (S.REVIEW, A.APPROVE): S.ENGAGEMENT,
    (S.ENGAGEMENT, A.ACTIVATE): S.ACTIVE,
    **{(status, A.REJECT): S.REJECTED for status in OPEN},
    **{(status, A.EXPIRE): S.EXPIRED for status in OPEN},
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(S, A)))
def test_every_pair_of_status_and_action(status, action):
    if (status, action) in EXPECTED:
        assert apply(status, action) is EXPECTED[(status, action)]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(InvalidTransition) as raised:
            apply(status, action)
        assert isinstance(raised.value, WorkflowError)
        assert raised.value.status is status and raised.value.action is action
        assert action not in allowed_actions(status)


def test_an_ended_onboarding_allows_nothing():
    for status in (S.ACTIVE, S.REJECTED, S.EXPIRED):
        assert status.is_terminal
        assert allowed_actions(status) == frozenset()


def test_a_new_person_starts_invited_and_an_active_client_signs_only():
    assert initial_status(existing_client=False) is S.INVITED
    assert initial_status(existing_client=True) is S.ENGAGEMENT


def test_steps_show_what_is_done_current_and_pending():
    assert steps(S.REVIEW) == [
        ("invitation", StepState.DONE),
        ("identity", StepState.DONE),
        ("review", StepState.CURRENT),
        ("engagement", StepState.PENDING),
        ("activation", StepState.PENDING),
    ]
    assert {state for _name, state in steps(S.ACTIVE)} == {StepState.DONE}


def test_a_rejected_onboarding_shows_the_step_it_failed_at():
    shown = dict(steps(S.REJECTED, reached=S.REVIEW))
    assert shown["identity"] is StepState.DONE
    assert shown["review"] is StepState.FAILED
    assert shown["engagement"] is StepState.PENDING


def test_an_addendum_skips_invitation_identity_and_review():
    shown = dict(steps(S.ENGAGEMENT, addendum=True))
    assert [shown[n] for n in ("invitation", "identity", "review")] == [StepState.SKIPPED] * 3
    assert shown["engagement"] is StepState.CURRENT


def test_whose_turn_it_is():
    assert [waits_on(s) for s in S] == ["client", "client", "firm", "client", None, None, None]


def test_a_stalled_onboarding_is_reminded_then_escalated_then_expired():
    policy = StallPolicy(
        remind_after=timedelta(days=2),
        escalate_after=timedelta(days=5),
        expire_after=timedelta(days=10),
    )
    since = datetime(2026, 3, 1, 9, tzinfo=UTC)
    at = {
        days: stall(S.IDENTITY, since, since + timedelta(days=days), policy)
        for days in (1, 2, 5, 10)
    }
    assert at == {1: Stall.NONE, 2: Stall.REMIND, 5: Stall.ESCALATE, 10: Stall.EXPIRE}
    assert stall(S.ACTIVE, since, since + timedelta(days=99), policy) is Stall.NONE
