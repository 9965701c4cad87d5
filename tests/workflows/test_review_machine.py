"""The review state machine: every transition, every refusal, and who may review."""

from __future__ import annotations

import itertools

import pytest

from workflows.errors import WorkflowError
from workflows.review import (
    INITIAL_STATE,
    CommentRequired,
    InvalidTransition,
    NotReviewer,
    ReviewAction,
    ReviewError,
    ReviewState,
    Side,
    allowed_actions,
    apply,
    may_review,
    reviewer_side,
)

R = ReviewState
A = ReviewAction

# Written out by hand from DESIGN.md so that a change to the library's table shows up here.
EXPECTED = {
    (R.RECEIVED, A.OPEN): R.READ,
    (R.READ, A.OPEN): R.READ,
    (R.CHECKED, A.OPEN): R.CHECKED,
    (R.VALIDATED, A.OPEN): R.VALIDATED,
    (R.CHANGES_REQUESTED, A.OPEN): R.CHANGES_REQUESTED,
    (R.READ, A.CHECK): R.CHECKED,
    (R.RECEIVED, A.VALIDATE): R.VALIDATED,
    (R.READ, A.VALIDATE): R.VALIDATED,
    (R.CHECKED, A.VALIDATE): R.VALIDATED,
    (R.RECEIVED, A.REQUEST_CHANGES): R.CHANGES_REQUESTED,
    (R.READ, A.REQUEST_CHANGES): R.CHANGES_REQUESTED,
    (R.CHECKED, A.REQUEST_CHANGES): R.CHANGES_REQUESTED,
}
REFUSED = [pair for pair in itertools.product(R, A) if pair not in EXPECTED]

# A client uploads; a member of the firm who did not upload it reviews.
STAFF_REVIEWS_CLIENT_UPLOAD = {
    "actor_side": Side.FIRM,
    "uploader_side": Side.CLIENT,
    "internal": False,
    "actor_is_uploader": False,
}


def staff_reviewer(state: ReviewState, action: ReviewAction, comment: str | None = None) -> R:
    return apply(state, action, comment=comment, **STAFF_REVIEWS_CLIENT_UPLOAD)


def test_a_new_version_starts_received() -> None:
    assert INITIAL_STATE == R.RECEIVED


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED))
def test_every_allowed_transition_reaches_its_target(
    state: ReviewState, action: ReviewAction
) -> None:
    assert staff_reviewer(state, action, comment="Falta la firma") == EXPECTED[(state, action)]


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_every_other_transition_is_refused_naming_state_and_action(
    state: ReviewState, action: ReviewAction
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        staff_reviewer(state, action, comment="Falta la firma")
    assert raised.value.from_state == state
    assert raised.value.action == action
    assert str(state) in str(raised.value)


def test_refused_transitions_cover_the_terminal_and_skipped_steps() -> None:
    assert set(REFUSED) == {
        (R.RECEIVED, A.CHECK),  # checking needs the version to have been read
        (R.CHECKED, A.CHECK),
        (R.VALIDATED, A.CHECK),
        (R.VALIDATED, A.VALIDATE),
        (R.VALIDATED, A.REQUEST_CHANGES),
        (R.CHANGES_REQUESTED, A.CHECK),
        (R.CHANGES_REQUESTED, A.VALIDATE),
        (R.CHANGES_REQUESTED, A.REQUEST_CHANGES),
    }


@pytest.mark.parametrize("state", list(R))
def test_allowed_actions_match_what_apply_accepts(state: ReviewState) -> None:
    expected = {action for (from_state, action) in EXPECTED if from_state == state}
    assert allowed_actions(state) == expected


def test_decided_versions_only_allow_opening() -> None:
    for state in (R.VALIDATED, R.CHANGES_REQUESTED):
        assert allowed_actions(state) == {A.OPEN}
        assert state.is_terminal
    for state in (R.RECEIVED, R.READ, R.CHECKED):
        assert not state.is_terminal


def test_a_full_review_by_staff_of_a_client_upload() -> None:
    state = INITIAL_STATE
    state = staff_reviewer(state, A.OPEN)
    assert state == R.READ
    state = staff_reviewer(state, A.OPEN)  # downloading again changes nothing
    assert state == R.READ
    state = staff_reviewer(state, A.CHECK)
    assert state == R.CHECKED
    state = staff_reviewer(state, A.VALIDATE)
    assert state == R.VALIDATED
    assert staff_reviewer(state, A.OPEN) == R.VALIDATED
    with pytest.raises(InvalidTransition):
        staff_reviewer(state, A.REQUEST_CHANGES, comment="Demasiado tarde")


# --- who reviews -----------------------------------------------------------


@pytest.mark.parametrize(
    ("uploader", "internal", "reviewer"),
    [
        (Side.CLIENT, False, Side.FIRM),
        (Side.FIRM, False, Side.CLIENT),
        (Side.FIRM, True, Side.FIRM),
        (Side.CLIENT, True, Side.FIRM),
    ],
)
def test_reviewer_is_the_other_side_or_the_firm_for_internal_documents(
    uploader: Side, internal: bool, reviewer: Side
) -> None:
    assert reviewer_side(uploader, internal) == reviewer


def test_client_members_review_what_the_firm_shares() -> None:
    shared_by_firm = {"uploader_side": Side.FIRM, "internal": False}
    assert (
        apply(R.READ, A.VALIDATE, actor_side=Side.CLIENT, actor_is_uploader=False, **shared_by_firm)
        == R.VALIDATED
    )
    with pytest.raises(NotReviewer) as raised:
        apply(R.READ, A.VALIDATE, actor_side=Side.FIRM, actor_is_uploader=False, **shared_by_firm)
    assert raised.value.reviewer_side == Side.CLIENT
    assert not raised.value.own_upload


def test_a_client_colleague_cannot_validate_a_client_upload() -> None:
    with pytest.raises(NotReviewer) as raised:
        apply(
            R.READ,
            A.VALIDATE,
            actor_side=Side.CLIENT,
            uploader_side=Side.CLIENT,
            internal=False,
            actor_is_uploader=False,
        )
    assert raised.value.reviewer_side == Side.FIRM
    assert "firm" in str(raised.value)


@pytest.mark.parametrize("action", [A.CHECK, A.VALIDATE, A.REQUEST_CHANGES])
def test_staff_never_review_their_own_internal_upload(action: ReviewAction) -> None:
    with pytest.raises(NotReviewer) as raised:
        apply(
            R.READ,
            action,
            actor_side=Side.FIRM,
            uploader_side=Side.FIRM,
            internal=True,
            actor_is_uploader=True,
            comment="Revisar cifras",
        )
    assert raised.value.own_upload
    assert "own upload" in str(raised.value)


def test_another_staff_member_reviews_an_internal_document() -> None:
    internal = {"actor_side": Side.FIRM, "uploader_side": Side.FIRM, "internal": True}
    assert apply(R.RECEIVED, A.OPEN, actor_is_uploader=False, **internal) == R.READ
    assert apply(R.READ, A.CHECK, actor_is_uploader=False, **internal) == R.CHECKED
    assert apply(R.CHECKED, A.VALIDATE, actor_is_uploader=False, **internal) == R.VALIDATED


def test_clients_never_review_internal_documents() -> None:
    for uploader in Side:
        with pytest.raises(NotReviewer):
            apply(
                R.READ,
                A.VALIDATE,
                actor_side=Side.CLIENT,
                uploader_side=uploader,
                internal=True,
                actor_is_uploader=False,
            )


def test_may_review_agrees_with_apply() -> None:
    for actor, uploader, internal, own in itertools.product(
        Side, Side, (False, True), (False, True)
    ):
        context = {
            "actor_side": actor,
            "uploader_side": uploader,
            "internal": internal,
            "actor_is_uploader": own,
        }
        try:
            apply(R.READ, A.VALIDATE, **context)
        except NotReviewer:
            assert not may_review(**context)
        else:
            assert may_review(**context)


def test_someone_who_may_not_review_is_told_so_even_after_the_decision() -> None:
    with pytest.raises(NotReviewer):
        apply(
            R.VALIDATED,
            A.VALIDATE,
            actor_side=Side.CLIENT,
            uploader_side=Side.CLIENT,
            internal=False,
            actor_is_uploader=True,
        )


# --- opening is never an error ---------------------------------------------


@pytest.mark.parametrize("state", list(R))
def test_the_uploader_opening_their_own_version_does_not_mark_it_read(state: ReviewState) -> None:
    assert (
        apply(
            state,
            A.OPEN,
            actor_side=Side.CLIENT,
            uploader_side=Side.CLIENT,
            internal=False,
            actor_is_uploader=True,
        )
        == state
    )


def test_a_non_reviewer_opening_a_received_version_leaves_it_received() -> None:
    assert (
        apply(
            R.RECEIVED,
            A.OPEN,
            actor_side=Side.FIRM,
            uploader_side=Side.FIRM,
            internal=False,
            actor_is_uploader=False,
        )
        == R.RECEIVED
    )


# --- comments --------------------------------------------------------------


@pytest.mark.parametrize("comment", [None, "", "   \n\t"])
@pytest.mark.parametrize("state", [R.RECEIVED, R.READ, R.CHECKED])
def test_requesting_changes_needs_a_real_comment(state: ReviewState, comment: str | None) -> None:
    with pytest.raises(CommentRequired) as raised:
        staff_reviewer(state, A.REQUEST_CHANGES, comment=comment)
    assert raised.value.action == A.REQUEST_CHANGES


def test_validating_needs_no_comment() -> None:
    assert staff_reviewer(R.READ, A.VALIDATE) == R.VALIDATED


def test_every_refusal_belongs_to_one_family_the_app_can_catch() -> None:
    attempts = [
        lambda: staff_reviewer(R.VALIDATED, A.VALIDATE),
        lambda: staff_reviewer(R.READ, A.REQUEST_CHANGES),
        lambda: apply(
            R.READ,
            A.VALIDATE,
            actor_side=Side.CLIENT,
            uploader_side=Side.CLIENT,
            internal=False,
            actor_is_uploader=True,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ReviewError) as raised:
            attempt()
        assert isinstance(raised.value, WorkflowError)
