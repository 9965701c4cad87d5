"""Lifecycle of the items of a document request, and when a request is complete.

An item is ``pending`` until the client uploads something for it
(``submitted``; more files may follow), then staff ``accept`` it or reject it
back to ``pending`` with a comment. Staff may instead mark a pending item
``not_applicable`` with a reason. ``accepted`` and ``not_applicable`` close the
item; only ``reopen`` moves a closed item again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from workflows.errors import WorkflowError

__all__ = [
    "CLOSED_STATUSES",
    "ITEM_TRANSITIONS",
    "InvalidItemTransition",
    "ItemAction",
    "ItemClosed",
    "ItemStatus",
    "Progress",
    "ReasonRequired",
    "RequestError",
    "accept",
    "allowed_item_actions",
    "is_complete",
    "is_missing",
    "mark_not_applicable",
    "needs_chasing",
    "progress",
    "reject",
    "reopen",
    "submit",
]


class ItemStatus(StrEnum):
    """Where one requested document stands."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NOT_APPLICABLE = "not_applicable"

    @property
    def is_closed(self) -> bool:
        """Whether the item is settled (accepted or not applicable)."""
        return self in CLOSED_STATUSES


class ItemAction(StrEnum):
    """What can happen to a requested item."""

    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    MARK_NOT_APPLICABLE = "mark_not_applicable"
    REOPEN = "reopen"


class RequestError(WorkflowError):
    """Base class of every document-request rule violation."""


class InvalidItemTransition(RequestError):
    """The item's status does not allow this action."""

    def __init__(self, status: ItemStatus, action: ItemAction) -> None:
        super().__init__(self._message(status, action))
        self.status = status
        self.action = action

    @staticmethod
    def _message(status: ItemStatus, action: ItemAction) -> str:
        return f"cannot {action.replace('_', ' ')} an item that is {status.replace('_', ' ')}"


class ItemClosed(InvalidItemTransition):
    """The item is accepted or not applicable; it must be reopened first."""

    @staticmethod
    def _message(status: ItemStatus, action: ItemAction) -> str:
        doing = action.replace("_", " ")
        return f"the item is {status.replace('_', ' ')}; reopen it before you {doing}"


class ReasonRequired(RequestError):
    """The action needs a comment or reason, and none was given."""

    def __init__(self, action: ItemAction) -> None:
        super().__init__(f"{action.replace('_', ' ')} needs a reason")
        self.action = action


_P = ItemStatus
_I = ItemAction

ITEM_TRANSITIONS: Final[Mapping[tuple[ItemStatus, ItemAction], ItemStatus]] = MappingProxyType(
    {
        (_P.PENDING, _I.SUBMIT): _P.SUBMITTED,
        (_P.SUBMITTED, _I.SUBMIT): _P.SUBMITTED,
        (_P.SUBMITTED, _I.ACCEPT): _P.ACCEPTED,
        (_P.SUBMITTED, _I.REJECT): _P.PENDING,
        (_P.PENDING, _I.MARK_NOT_APPLICABLE): _P.NOT_APPLICABLE,
        (_P.ACCEPTED, _I.REOPEN): _P.PENDING,
        (_P.NOT_APPLICABLE, _I.REOPEN): _P.PENDING,
    }
)

CLOSED_STATUSES: Final[frozenset[ItemStatus]] = frozenset(
    {ItemStatus.ACCEPTED, ItemStatus.NOT_APPLICABLE}
)


def allowed_item_actions(status: ItemStatus) -> frozenset[ItemAction]:
    """The actions the transition table accepts for an item in ``status``."""
    return frozenset(action for (from_status, action) in ITEM_TRANSITIONS if from_status == status)


def _transition(status: ItemStatus, action: ItemAction) -> ItemStatus:
    try:
        return ITEM_TRANSITIONS[(status, action)]
    except KeyError:
        if status in CLOSED_STATUSES:
            raise ItemClosed(status, action) from None
        raise InvalidItemTransition(status, action) from None


def _require_text(text: str | None, action: ItemAction) -> None:
    if not (text and text.strip()):
        raise ReasonRequired(action)


def submit(status: ItemStatus) -> ItemStatus:
    """The status after the client uploads a file for the item (more files may follow)."""
    return _transition(status, ItemAction.SUBMIT)


def accept(status: ItemStatus) -> ItemStatus:
    """The status after staff accept what was submitted."""
    return _transition(status, ItemAction.ACCEPT)


def reject(status: ItemStatus, comment: str | None) -> ItemStatus:
    """The status after staff send a submission back, saying why in ``comment``."""
    target = _transition(status, ItemAction.REJECT)
    _require_text(comment, ItemAction.REJECT)
    return target


def mark_not_applicable(status: ItemStatus, reason: str | None) -> ItemStatus:
    """The status after a pending item is declared not applicable, with ``reason``."""
    target = _transition(status, ItemAction.MARK_NOT_APPLICABLE)
    _require_text(reason, ItemAction.MARK_NOT_APPLICABLE)
    return target


def reopen(status: ItemStatus) -> ItemStatus:
    """The status after a closed item is opened again."""
    return _transition(status, ItemAction.REOPEN)


def is_missing(status: ItemStatus) -> bool:
    """Whether the client still owes something for the item (reminders stop otherwise)."""
    return status == ItemStatus.PENDING


def needs_chasing(items: Iterable[tuple[ItemStatus, bool]]) -> bool:
    """Whether any required item is still missing, so reminders should go out."""
    return any(required and is_missing(status) for status, required in items)


def is_complete(items: Iterable[tuple[ItemStatus, bool]]) -> bool:
    """Whether every required item is accepted or not applicable.

    Optional items never hold a request open; a request with no required items
    is complete.
    """
    return all(status in CLOSED_STATUSES for status, required in items if required)


@dataclass(frozen=True)
class Progress:
    """How far a request is: required items settled out of required items."""

    done: int
    total: int
    percent: int


def progress(items: Iterable[tuple[ItemStatus, bool]]) -> Progress:
    """Progress over the required items; ``percent`` reaches 100 only when complete.

    The percentage is rounded down so that 199 of 200 shows 99 %, not 100 %.
    """
    required = [status for status, is_required in items if is_required]
    done = sum(1 for status in required if status in CLOSED_STATUSES)
    total = len(required)
    percent = 100 if total == 0 else done * 100 // total
    return Progress(done=done, total=total, percent=percent)
