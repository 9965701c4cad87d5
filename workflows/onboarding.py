"""Onboarding of a new client: from the invitation to an active space.

``invited`` → (the person sets a password) → ``identity`` → (they confirm what was read
off their identity document) → ``review`` → (staff approve) → ``engagement`` → (the
engagement letter is signed by both sides) → ``active``. Staff may send an onboarding
back from ``review`` to ``identity`` (a photo to take again), reject it at any step before
``active``, and one that waits too long ``expired``. An active client who takes one more
service starts a new onboarding at ``engagement``: only the letter (an addendum) is signed.

``TRANSITIONS`` is the single source of truth; ``apply`` raises ``InvalidTransition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from workflows.errors import WorkflowError

__all__ = [
    "STEPS",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "InvalidTransition",
    "OnboardingAction",
    "OnboardingError",
    "OnboardingStatus",
    "Stall",
    "StallPolicy",
    "StepState",
    "allowed_actions",
    "apply",
    "initial_status",
    "stall",
    "steps",
    "waits_on",
]


class OnboardingStatus(StrEnum):
    """Where an onboarding stands."""

    INVITED = "invited"
    IDENTITY = "identity"
    REVIEW = "review"
    ENGAGEMENT = "engagement"
    ACTIVE = "active"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Whether nothing more can happen to this onboarding."""
        return self in TERMINAL_STATUSES


class OnboardingAction(StrEnum):
    """What moves an onboarding on."""

    ACCEPT_INVITATION = "accept_invitation"
    CONFIRM_IDENTITY = "confirm_identity"
    ASK_IDENTITY_AGAIN = "ask_identity_again"
    APPROVE = "approve"
    ACTIVATE = "activate"
    REJECT = "reject"
    EXPIRE = "expire"


TERMINAL_STATUSES: Final = frozenset(
    {OnboardingStatus.ACTIVE, OnboardingStatus.REJECTED, OnboardingStatus.EXPIRED}
)

_S = OnboardingStatus
_A = OnboardingAction
_OPEN = (_S.INVITED, _S.IDENTITY, _S.REVIEW, _S.ENGAGEMENT)

TRANSITIONS: Final[Mapping[tuple[OnboardingStatus, OnboardingAction], OnboardingStatus]] = (
    MappingProxyType(
        {
            (_S.INVITED, _A.ACCEPT_INVITATION): _S.IDENTITY,
            (_S.IDENTITY, _A.CONFIRM_IDENTITY): _S.REVIEW,
            (_S.REVIEW, _A.ASK_IDENTITY_AGAIN): _S.IDENTITY,
            (_S.REVIEW, _A.APPROVE): _S.ENGAGEMENT,
            (_S.ENGAGEMENT, _A.ACTIVATE): _S.ACTIVE,
            **{(status, _A.REJECT): _S.REJECTED for status in _OPEN},
            **{(status, _A.EXPIRE): _S.EXPIRED for status in _OPEN},
        }
    )
)

#: The steps a person sees, in order, and the status during which each one is worked on.
STEPS: Final[tuple[tuple[str, OnboardingStatus], ...]] = (
    ("invitation", _S.INVITED),
    ("identity", _S.IDENTITY),
    ("review", _S.REVIEW),
    ("engagement", _S.ENGAGEMENT),
    ("activation", _S.ACTIVE),
)
_ORDER: Final = {status: index for index, (_name, status) in enumerate(STEPS)}


class OnboardingError(WorkflowError):
    """Base class of every onboarding rule violation."""


class InvalidTransition(OnboardingError):
    """The transition table does not allow this action in this status."""

    def __init__(self, status: OnboardingStatus, action: OnboardingAction) -> None:
        super().__init__(f"cannot {action} an onboarding whose status is {status}")
        self.status = status
        self.action = action


def initial_status(*, existing_client: bool) -> OnboardingStatus:
    """A new person starts invited; an active client taking one more service signs only."""
    return _S.ENGAGEMENT if existing_client else _S.INVITED


def allowed_actions(status: OnboardingStatus | str) -> frozenset[OnboardingAction]:
    """The actions the table allows from ``status``."""
    current = OnboardingStatus(status)
    return frozenset(action for (state, action) in TRANSITIONS if state is current)


def apply(status: OnboardingStatus | str, action: OnboardingAction | str) -> OnboardingStatus:
    """The status after ``action``, or ``InvalidTransition``."""
    current = OnboardingStatus(status)
    chosen = OnboardingAction(action)
    try:
        return TRANSITIONS[(current, chosen)]
    except KeyError:
        raise InvalidTransition(current, chosen) from None


class StepState(StrEnum):
    """How one step of an onboarding stands."""

    DONE = "done"
    CURRENT = "current"
    PENDING = "pending"
    SKIPPED = "skipped"
    FAILED = "failed"


def steps(
    status: OnboardingStatus | str,
    *,
    reached: OnboardingStatus | str | None = None,
    addendum: bool = False,
) -> list[tuple[str, StepState]]:
    """Each step's name and state, for the person and for the board.

    ``reached`` is the last open status the onboarding was in before it was rejected or
    expired (that step is shown as failed); ``addendum`` marks the steps a client taking
    one more service skips.
    """
    current = OnboardingStatus(status)
    stopped = current in (_S.REJECTED, _S.EXPIRED)
    at = OnboardingStatus(reached) if stopped and reached is not None else current
    position = _ORDER.get(at, 0)
    answer: list[tuple[str, StepState]] = []
    for index, (name, _status) in enumerate(STEPS):
        if addendum and name in ("invitation", "identity", "review"):
            state = StepState.SKIPPED
        elif current is _S.ACTIVE or index < position:
            state = StepState.DONE
        elif index == position:
            state = StepState.FAILED if stopped else StepState.CURRENT
        else:
            state = StepState.PENDING
        answer.append((name, state))
    return answer


def waits_on(status: OnboardingStatus | str) -> str | None:
    """Whose turn it is: ``client``, ``firm``, or nobody once it has ended.

    During ``engagement`` both sign, the client first; the service knows who signed.
    """
    current = OnboardingStatus(status)
    if current in (_S.INVITED, _S.IDENTITY, _S.ENGAGEMENT):
        return "client"
    if current is _S.REVIEW:
        return "firm"
    return None


@dataclass(frozen=True)
class StallPolicy:
    """How long an onboarding may wait before the one alert engine acts."""

    remind_after: timedelta = timedelta(days=3)
    escalate_after: timedelta = timedelta(days=7)
    expire_after: timedelta = timedelta(days=30)


class Stall(StrEnum):
    """What a stalled onboarding calls for."""

    NONE = "none"
    REMIND = "remind"
    ESCALATE = "escalate"
    EXPIRE = "expire"


def stall(
    status: OnboardingStatus | str,
    since: datetime,
    now: datetime,
    policy: StallPolicy = StallPolicy(),
) -> Stall:
    """What an onboarding that has been in ``status`` since ``since`` calls for at ``now``."""
    current = OnboardingStatus(status)
    if current.is_terminal:
        return Stall.NONE
    waited = now - since
    if waited >= policy.expire_after:
        return Stall.EXPIRE
    if waited >= policy.escalate_after:
        return Stall.ESCALATE
    if waited >= policy.remind_after:
        return Stall.REMIND
    return Stall.NONE
