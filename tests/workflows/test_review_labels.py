"""Label schemes: what states and answers are called in each kind of space."""

from __future__ import annotations

import pytest

from workflows.review import (
    LABEL_SCHEMES,
    Answer,
    CommentRequired,
    Label,
    LabelScheme,
    ReviewAction,
    ReviewState,
    Side,
    UnknownLabel,
    UnknownLabelScheme,
    action_for_label,
    apply_answer,
    get_label_scheme,
)

R = ReviewState
A = ReviewAction

STAFF_REVIEWER = {
    "actor_side": Side.FIRM,
    "uploader_side": Side.CLIENT,
    "internal": False,
    "actor_is_uploader": False,
}


def test_the_default_scheme_speaks_spanish_and_english() -> None:
    scheme = LABEL_SCHEMES["default"]
    assert [scheme.state_label(state) for state in R] == [
        "Recibido",
        "Leído",
        "Revisado",
        "Validado",
        "Cambios solicitados",
    ]
    assert [scheme.state_label(state, "en") for state in R] == [
        "Received",
        "Read",
        "Checked",
        "Validated",
        "Changes requested",
    ]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("es", "Leído"), ("es_ES", "Leído"), ("en", "Read"), ("en-GB", "Read"), ("fr", "Leído")],
)
def test_regional_locales_use_their_language_and_others_fall_back_to_spanish(
    locale: str, expected: str
) -> None:
    assert LABEL_SCHEMES["default"].state_label(R.READ, locale) == expected


@pytest.mark.parametrize("key", ["default", "iso19650", "procore"])
def test_each_scheme_tells_every_state_apart_in_both_languages(key: str) -> None:
    scheme = LABEL_SCHEMES[key]
    for locale in ("es", "en"):
        labels = [scheme.state_label(state, locale) for state in R]
        assert all(label.strip() for label in labels)
        assert len(set(labels)) == len(labels), labels


@pytest.mark.parametrize("key", ["default", "iso19650", "procore"])
def test_each_scheme_lets_a_reviewer_accept_and_send_back(key: str) -> None:
    actions = {answer.action for answer in LABEL_SCHEMES[key].answers}
    assert {A.VALIDATE, A.REQUEST_CHANGES} <= actions


@pytest.mark.parametrize(
    ("label", "action"),
    [
        ("Validado", A.VALIDATE),
        ("validated", A.VALIDATE),
        ("validate", A.VALIDATE),
        ("Cambios solicitados", A.REQUEST_CHANGES),
        ("  CAMBIOS   solicitados ", A.REQUEST_CHANGES),
        ("Revisado", A.CHECK),
    ],
)
def test_default_answers(label: str, action: ReviewAction) -> None:
    assert action_for_label("default", label) == action


@pytest.mark.parametrize(
    ("label", "action"),
    [
        ("S1", A.CHECK),
        ("s2", A.CHECK),
        ("S3", A.CHECK),
        ("S4", A.CHECK),
        ("S5", A.CHECK),
        ("Apto para coordinación", A.CHECK),
        ("apto para coordinacion", A.CHECK),
        ("Suitable for information", A.CHECK),
        ("A", A.VALIDATE),
        ("Autorizado y aceptado", A.VALIDATE),
        ("B", A.VALIDATE),
        ("S0", A.REQUEST_CHANGES),
        ("Devuelto a trabajo en curso", A.REQUEST_CHANGES),
    ],
)
def test_iso19650_suitability_codes(label: str, action: ReviewAction) -> None:
    assert action_for_label(LABEL_SCHEMES["iso19650"], label) == action


def test_iso19650_shows_the_codes_on_the_states_they_lead_to() -> None:
    scheme = LABEL_SCHEMES["iso19650"]
    assert "S1–S5" in scheme.state_label(R.CHECKED)
    assert "A/B" in scheme.state_label(R.VALIDATED, "en")
    assert scheme.answer("S1").label.es == "Apto para coordinación"


@pytest.mark.parametrize(
    ("label", "action"),
    [
        ("aprobado", A.VALIDATE),
        ("aprobado con comentarios", A.VALIDATE),
        ("Approved as noted", A.VALIDATE),
        ("revisar y reenviar", A.REQUEST_CHANGES),
        ("Revise and resubmit", A.REQUEST_CHANGES),
        ("rechazado", A.REQUEST_CHANGES),
        ("Rejected", A.REQUEST_CHANGES),
    ],
)
def test_procore_answers(label: str, action: ReviewAction) -> None:
    assert action_for_label("procore", label) == action


@pytest.mark.parametrize(
    ("key", "label"), [("default", "Leído"), ("iso19650", "S6"), ("procore", "maybe")]
)
def test_labels_that_are_not_answers_are_refused(key: str, label: str) -> None:
    with pytest.raises(UnknownLabel) as raised:
        action_for_label(key, label)
    assert raised.value.label == label
    assert key in str(raised.value)


def test_unknown_scheme() -> None:
    with pytest.raises(UnknownLabelScheme):
        action_for_label("bs1192", "A")
    assert get_label_scheme(None) is LABEL_SCHEMES["default"]
    assert get_label_scheme("") is LABEL_SCHEMES["default"]


def test_answers_offered_follow_the_state() -> None:
    scheme = LABEL_SCHEMES["iso19650"]
    # Suitability is assigned after reading; an unopened version can only be decided.
    assert [answer.code for answer in scheme.answers_for(R.RECEIVED)] == ["A", "B", "S0"]
    assert [answer.code for answer in scheme.answers_for(R.READ)] == [
        "S1",
        "S2",
        "S3",
        "S4",
        "S5",
        "A",
        "B",
        "S0",
    ]
    assert scheme.answers_for(R.VALIDATED) == ()


@pytest.mark.parametrize(("key", "label"), [("iso19650", "B"), ("procore", "Approved as noted")])
def test_answers_accepted_with_comments_need_the_comments(key: str, label: str) -> None:
    answer = LABEL_SCHEMES[key].answer(label)
    with pytest.raises(CommentRequired):
        apply_answer(R.READ, answer, **STAFF_REVIEWER)
    assert apply_answer(R.READ, answer, comment="Cota 3 a revisar", **STAFF_REVIEWER) == (
        R.VALIDATED
    )


def test_sending_back_by_label_needs_a_comment() -> None:
    answer = LABEL_SCHEMES["procore"].answer("rechazado")
    with pytest.raises(CommentRequired):
        apply_answer(R.READ, answer, comment=" ", **STAFF_REVIEWER)
    assert apply_answer(R.READ, answer, comment="Faltan planos", **STAFF_REVIEWER) == (
        R.CHANGES_REQUESTED
    )


def test_plain_approval_needs_no_comment() -> None:
    answer = LABEL_SCHEMES["procore"].answer("aprobado")
    assert apply_answer(R.CHECKED, answer, **STAFF_REVIEWER) == R.VALIDATED


def _states(text: str) -> dict[ReviewState, Label]:
    return {state: Label(f"{text} {state}", f"{text} {state}") for state in R}


def test_a_scheme_must_label_every_state() -> None:
    states = _states("x")
    del states[R.CHECKED]
    with pytest.raises(ValueError, match="checked"):
        LabelScheme(key="partial", name=Label("P", "P"), states=states, answers=())


def test_a_scheme_cannot_use_one_label_for_two_answers() -> None:
    with pytest.raises(ValueError, match="two answers"):
        LabelScheme(
            key="ambiguous",
            name=Label("A", "A"),
            states=_states("x"),
            answers=(
                Answer("yes", A.VALIDATE, Label("Vale", "Ok")),
                Answer("no", A.REQUEST_CHANGES, Label("No", "OK")),
            ),
        )


def test_reading_is_not_an_answer() -> None:
    with pytest.raises(ValueError, match="automatically"):
        Answer("read", A.OPEN, Label("Leído", "Read"))
