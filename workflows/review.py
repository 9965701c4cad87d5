"""Review state machine of a document version, and the label schemes that show it.

Every version starts at ``received``. The first time a reviewer opens or
downloads it, it becomes ``read``; a reviewer may then mark it ``checked``, and
from any of those three states either ``validated`` or ``changes_requested``,
which end the review of that version (a new version starts again at
``received``). ``TRANSITIONS`` is the single source of truth for what moves
where; ``apply`` adds who may move it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from workflows.errors import WorkflowError

__all__ = [
    "COMMENT_REQUIRED",
    "INITIAL_STATE",
    "LABEL_SCHEMES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Answer",
    "CommentRequired",
    "InvalidTransition",
    "Label",
    "LabelScheme",
    "NotReviewer",
    "ReviewAction",
    "ReviewError",
    "ReviewState",
    "Side",
    "UnknownLabel",
    "UnknownLabelScheme",
    "action_for_label",
    "allowed_actions",
    "apply",
    "apply_answer",
    "get_label_scheme",
    "may_review",
    "reviewer_side",
]


class ReviewState(StrEnum):
    """Where a document version stands in its review."""

    RECEIVED = "received"
    READ = "read"
    CHECKED = "checked"
    VALIDATED = "validated"
    CHANGES_REQUESTED = "changes_requested"

    @property
    def is_terminal(self) -> bool:
        """Whether the review of this version has ended."""
        return self in TERMINAL_STATES


class ReviewAction(StrEnum):
    """What a reviewer can do to a version."""

    OPEN = "open"
    CHECK = "check"
    VALIDATE = "validate"
    REQUEST_CHANGES = "request_changes"


class Side(StrEnum):
    """The two parties of a space: the firm's staff and the client's members."""

    FIRM = "firm"
    CLIENT = "client"

    @property
    def other(self) -> Side:
        """The opposite side."""
        return Side.CLIENT if self is Side.FIRM else Side.FIRM


class ReviewError(WorkflowError):
    """Base class of every review rule violation."""


class InvalidTransition(ReviewError):
    """The transition table does not allow this action in this state."""

    def __init__(self, from_state: ReviewState, action: ReviewAction) -> None:
        super().__init__(f"cannot {action} a version whose review state is {from_state}")
        self.from_state = from_state
        self.action = action


class NotReviewer(ReviewError):
    """The actor is not allowed to review this version."""

    def __init__(self, actor_side: Side, reviewer_side: Side, *, own_upload: bool) -> None:
        if own_upload:
            message = "nobody reviews their own upload; another reviewer must do it"
        else:
            message = f"this version is reviewed by the {reviewer_side} side, not the {actor_side}"
        super().__init__(message)
        self.actor_side = actor_side
        self.reviewer_side = reviewer_side
        self.own_upload = own_upload


class CommentRequired(ReviewError):
    """The action needs a comment explaining it, and none was given."""

    def __init__(self, action: ReviewAction | str) -> None:
        super().__init__(f"{action} needs a comment")
        self.action = action


class UnknownLabelScheme(ReviewError):
    """No label scheme is registered under that key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"unknown label scheme {key!r}")
        self.key = key


class UnknownLabel(ReviewError):
    """The label is not an answer of the scheme."""

    def __init__(self, scheme_key: str, label: str) -> None:
        super().__init__(f"{label!r} is not an answer of the {scheme_key!r} label scheme")
        self.scheme_key = scheme_key
        self.label = label


INITIAL_STATE: Final = ReviewState.RECEIVED

_S = ReviewState
_A = ReviewAction

TRANSITIONS: Final[Mapping[tuple[ReviewState, ReviewAction], ReviewState]] = MappingProxyType(
    {
        # Opening is how `read` gets set; in every other state it changes nothing.
        (_S.RECEIVED, _A.OPEN): _S.READ,
        (_S.READ, _A.OPEN): _S.READ,
        (_S.CHECKED, _A.OPEN): _S.CHECKED,
        (_S.VALIDATED, _A.OPEN): _S.VALIDATED,
        (_S.CHANGES_REQUESTED, _A.OPEN): _S.CHANGES_REQUESTED,
        (_S.READ, _A.CHECK): _S.CHECKED,
        (_S.RECEIVED, _A.VALIDATE): _S.VALIDATED,
        (_S.READ, _A.VALIDATE): _S.VALIDATED,
        (_S.CHECKED, _A.VALIDATE): _S.VALIDATED,
        (_S.RECEIVED, _A.REQUEST_CHANGES): _S.CHANGES_REQUESTED,
        (_S.READ, _A.REQUEST_CHANGES): _S.CHANGES_REQUESTED,
        (_S.CHECKED, _A.REQUEST_CHANGES): _S.CHANGES_REQUESTED,
    }
)

TERMINAL_STATES: Final[frozenset[ReviewState]] = frozenset(
    state
    for state in ReviewState
    if all(TRANSITIONS.get((state, action), state) is state for action in ReviewAction)
)

COMMENT_REQUIRED: Final[frozenset[ReviewAction]] = frozenset({ReviewAction.REQUEST_CHANGES})


def allowed_actions(state: ReviewState) -> frozenset[ReviewAction]:
    """The actions the transition table accepts in ``state`` (``open`` always is)."""
    return frozenset(action for (from_state, action) in TRANSITIONS if from_state == state)


def reviewer_side(uploader_side: Side, internal: bool) -> Side:
    """The side that reviews a version: the other side, or the firm for internal documents."""
    return Side.FIRM if internal else uploader_side.other


def may_review(
    *, actor_side: Side, uploader_side: Side, internal: bool, actor_is_uploader: bool
) -> bool:
    """Whether the actor is a reviewer of the version (reviewer side, not its uploader)."""
    return actor_side == reviewer_side(uploader_side, internal) and not actor_is_uploader


def apply(
    state: ReviewState,
    action: ReviewAction,
    *,
    actor_side: Side,
    uploader_side: Side,
    internal: bool,
    actor_is_uploader: bool,
    comment: str | None = None,
) -> ReviewState:
    """The state after ``action``, or a `ReviewError` saying why it is refused.

    ``open`` never raises: every download calls it, and only a reviewer's first
    opening of a ``received`` version changes anything. For the other actions
    the actor is checked before the state, so someone who may not review is
    told so rather than told the state is wrong.
    """
    reviewer = reviewer_side(uploader_side, internal)
    allowed = actor_side == reviewer and not actor_is_uploader
    if action == ReviewAction.OPEN:
        return TRANSITIONS[(state, action)] if allowed else state
    if not allowed:
        raise NotReviewer(actor_side, reviewer, own_upload=actor_is_uploader)
    try:
        target = TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state, action) from None
    if action in COMMENT_REQUIRED and not (comment and comment.strip()):
        raise CommentRequired(action)
    return target


@dataclass(frozen=True)
class Label:
    """A text in each language of the UI; Spanish is the fallback."""

    es: str
    en: str

    def text(self, locale: str = "es") -> str:
        """The text for ``locale`` (``"en"``, ``"en-GB"``, ``"es_ES"``…)."""
        language = locale.replace("_", "-").split("-", 1)[0].lower()
        return self.en if language == "en" else self.es


@dataclass(frozen=True)
class Answer:
    """One answer a reviewer can pick, and the action it performs."""

    code: str
    action: ReviewAction
    label: Label
    requires_comment: bool = False

    def __post_init__(self) -> None:
        if self.action == ReviewAction.OPEN:
            raise ValueError("an answer cannot be 'open': reading is recorded automatically")
        if self.action in COMMENT_REQUIRED and not self.requires_comment:
            object.__setattr__(self, "requires_comment", True)


def _normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a label, for matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class LabelScheme:
    """How a space names review states and the answers reviewers give."""

    key: str
    name: Label
    states: Mapping[ReviewState, Label] = field(hash=False)
    answers: tuple[Answer, ...]
    _index: Mapping[str, Answer] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        missing = [state.value for state in ReviewState if state not in self.states]
        if missing:
            raise ValueError(f"label scheme {self.key!r} has no label for {', '.join(missing)}")
        index: dict[str, Answer] = {}
        for answer in self.answers:
            for text in (answer.code, answer.label.es, answer.label.en):
                key = _normalise(text)
                if index.get(key, answer) is not answer:
                    raise ValueError(f"label scheme {self.key!r} uses {text!r} for two answers")
                index[key] = answer
        object.__setattr__(self, "states", MappingProxyType(dict(self.states)))
        object.__setattr__(self, "_index", MappingProxyType(index))

    def state_label(self, state: ReviewState, locale: str = "es") -> str:
        """The display label of ``state`` in ``locale``."""
        return self.states[state].text(locale)

    def answer(self, label: str) -> Answer:
        """The answer whose code or label (any language, any case or accents) is ``label``."""
        try:
            return self._index[_normalise(label)]
        except KeyError:
            raise UnknownLabel(self.key, label) from None

    def answers_for(self, state: ReviewState) -> tuple[Answer, ...]:
        """The answers a reviewer can give to a version in ``state``, in scheme order."""
        possible = allowed_actions(state)
        return tuple(answer for answer in self.answers if answer.action in possible)


def _scheme(
    key: str, name: Label, states: dict[ReviewState, Label], *answers: Answer
) -> LabelScheme:
    return LabelScheme(key=key, name=name, states=states, answers=answers)


_DEFAULT = _scheme(
    "default",
    Label("Estándar", "Standard"),
    {
        _S.RECEIVED: Label("Recibido", "Received"),
        _S.READ: Label("Leído", "Read"),
        _S.CHECKED: Label("Revisado", "Checked"),
        _S.VALIDATED: Label("Validado", "Validated"),
        _S.CHANGES_REQUESTED: Label("Cambios solicitados", "Changes requested"),
    },
    Answer("check", _A.CHECK, Label("Revisado", "Checked")),
    Answer("validate", _A.VALIDATE, Label("Validado", "Validated")),
    Answer(
        "request_changes", _A.REQUEST_CHANGES, Label("Cambios solicitados", "Changes requested")
    ),
)

# ISO 19650 (UK National Annex) mapped onto the review path:
#   received / read   shared container waiting for / under review
#   S1–S5  -> check             the reviewer confirms what the container is suitable for
#   A      -> validate          authorised and accepted (published)
#   B      -> validate          partially authorised, accepted with comments (comment required)
#   S0     -> request_changes   rejected: back to work in progress for a new revision
_ISO19650 = _scheme(
    "iso19650",
    Label("ISO 19650 (códigos de idoneidad)", "ISO 19650 (suitability codes)"),
    {
        _S.RECEIVED: Label("Compartido, pendiente de revisión", "Shared, awaiting review"),
        _S.READ: Label("En revisión", "Under review"),
        _S.CHECKED: Label("Idoneidad asignada (S1–S5)", "Suitability assigned (S1–S5)"),
        _S.VALIDATED: Label("Publicado (A/B)", "Published (A/B)"),
        _S.CHANGES_REQUESTED: Label("Devuelto a trabajo en curso (S0)", "Returned to WIP (S0)"),
    },
    Answer("S1", _A.CHECK, Label("Apto para coordinación", "Suitable for coordination")),
    Answer("S2", _A.CHECK, Label("Apto para información", "Suitable for information")),
    Answer(
        "S3",
        _A.CHECK,
        Label("Apto para revisión y comentarios", "Suitable for review and comment"),
    ),
    Answer(
        "S4",
        _A.CHECK,
        Label("Apto para revisión y autorización", "Suitable for review and authorisation"),
    ),
    Answer(
        "S5",
        _A.CHECK,
        Label("Apto para revisión y aceptación", "Suitable for review and acceptance"),
    ),
    Answer("A", _A.VALIDATE, Label("Autorizado y aceptado", "Authorised and accepted")),
    Answer(
        "B",
        _A.VALIDATE,
        Label(
            "Autorizado y aceptado parcialmente, con comentarios",
            "Partially authorised and accepted, with comments",
        ),
        requires_comment=True,
    ),
    Answer(
        "S0",
        _A.REQUEST_CHANGES,
        Label("Devuelto a trabajo en curso", "Returned to work in progress"),
    ),
)

_PROCORE = _scheme(
    "procore",
    Label("Respuestas tipo Procore", "Procore-style responses"),
    {
        _S.RECEIVED: Label("Pendiente de respuesta", "Awaiting response"),
        _S.READ: Label("En revisión", "Under review"),
        _S.CHECKED: Label("Revisado", "Reviewed"),
        _S.VALIDATED: Label("Aprobado", "Approved"),
        _S.CHANGES_REQUESTED: Label("Devuelto", "Returned"),
    },
    Answer("approved", _A.VALIDATE, Label("Aprobado", "Approved")),
    Answer(
        "approved_as_noted",
        _A.VALIDATE,
        Label("Aprobado con comentarios", "Approved as noted"),
        requires_comment=True,
    ),
    Answer(
        "revise_and_resubmit",
        _A.REQUEST_CHANGES,
        Label("Revisar y reenviar", "Revise and resubmit"),
    ),
    Answer("rejected", _A.REQUEST_CHANGES, Label("Rechazado", "Rejected")),
)

LABEL_SCHEMES: Final[dict[str, LabelScheme]] = {
    scheme.key: scheme for scheme in (_DEFAULT, _ISO19650, _PROCORE)
}


def get_label_scheme(key: str | None) -> LabelScheme:
    """The registered scheme called ``key``; ``None`` or ``""`` means ``"default"``."""
    try:
        return LABEL_SCHEMES[key or "default"]
    except KeyError:
        raise UnknownLabelScheme(str(key)) from None


def action_for_label(scheme: LabelScheme | str, label: str) -> ReviewAction:
    """The action that answering ``label`` performs in ``scheme`` (a scheme or its key)."""
    if isinstance(scheme, str):
        scheme = get_label_scheme(scheme)
    return scheme.answer(label).action


def apply_answer(
    state: ReviewState,
    answer: Answer,
    *,
    actor_side: Side,
    uploader_side: Side,
    internal: bool,
    actor_is_uploader: bool,
    comment: str | None = None,
) -> ReviewState:
    """`apply` the answer's action, also requiring the comment some answers need."""
    target = apply(
        state,
        answer.action,
        actor_side=actor_side,
        uploader_side=uploader_side,
        internal=internal,
        actor_is_uploader=actor_is_uploader,
        comment=comment,
    )
    if answer.requires_comment and not (comment and comment.strip()):
        raise CommentRequired(answer.code)
    return target
