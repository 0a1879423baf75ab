"""Whether answers fit a consultation's questions, judged without a database: every misfit
named by its field (and question), the rest stored as counted or as text to seal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from registration.service.consultation_answers import check_answers
from registration.service.dialogue_commands import AnswerIn, ConsultationIn
from tests.registration.dialogue_builders import consultation_body
from tilmeld_shared.problems import Invalid

TEXT, CHOICE, SCALE = (str(uuid.uuid4()) for _ in range(3))
QUESTIONS: list[dict[str, Any]] = [
    {"question_id": TEXT, "text": "Hvorfor?", "kind": "text", "options": [], "required": False},
    {
        "question_id": CHOICE,
        "text": "Hvilket?",
        "kind": "choice",
        "options": ["Kulturskole", "Bibliotek"],
        "required": True,
    },
    {
        "question_id": SCALE,
        "text": "Hvor meget?",
        "kind": "scale",
        "options": [],
        "required": False,
        "min": 0,
        "max": 10,
    },
]


def given(*answers: tuple[str, Any]) -> list[AnswerIn]:
    return [AnswerIn.model_validate({"question_id": q, "value": v}) for q, v in answers]


def test_fitting_answers_are_split_into_counted_and_text() -> None:
    checked = check_answers(
        QUESTIONS, given((TEXT, "  Fordi  "), (CHOICE, "BIBLIOTEK"), (SCALE, 0))
    )

    assert checked.counted == [
        {"question_id": CHOICE, "value": "Bibliotek"},
        {"question_id": SCALE, "value": 0},
    ]
    assert checked.texts == {TEXT: "Fordi"}


def test_an_empty_text_is_no_answer_and_optional_questions_may_be_left_out() -> None:
    checked = check_answers(QUESTIONS, given((TEXT, "   "), (CHOICE, "Kulturskole")))

    assert checked.texts == {}
    assert checked.counted == [{"question_id": CHOICE, "value": "Kulturskole"}]


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ([(str(uuid.uuid4()), "x"), (CHOICE, "Bibliotek")], ["answers.0.question_id"]),
        ([(CHOICE, "Teater")], ["answers.0.value"]),
        ([(CHOICE, 1)], ["answers.0.value"]),
        ([(CHOICE, "Bibliotek"), (SCALE, 11)], ["answers.1.value"]),
        ([(CHOICE, "Bibliotek"), (SCALE, -1)], ["answers.1.value"]),
        ([(CHOICE, "Bibliotek"), (SCALE, "5")], ["answers.1.value"]),
        ([(CHOICE, "Bibliotek"), (TEXT, 5)], ["answers.1.value"]),
        ([(CHOICE, "Bibliotek"), (CHOICE, "Bibliotek")], ["answers.1.question_id"]),
        ([(TEXT, "Ja")], ["answers"]),
        ([], ["answers"]),
    ],
)
def test_each_misfit_is_named(answers: list[tuple[str, Any]], fields: list[str]) -> None:
    with pytest.raises(Invalid) as refused:
        check_answers(QUESTIONS, given(*answers))

    assert [error["field"] for error in refused.value.extensions["errors"]] == fields
    assert all("question_id" in error for error in refused.value.extensions["errors"])


@pytest.mark.parametrize("value", [True, 2.5, None, [], {"a": 1}, "x" * 5001, "nul\u0000"])
def test_a_value_is_a_whole_number_or_text(value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        AnswerIn.model_validate({"question_id": CHOICE, "value": value})

    assert [".".join(map(str, e["loc"])) for e in refused.value.errors()] == ["value"]


def test_a_whole_float_is_a_whole_number() -> None:
    assert AnswerIn.model_validate({"question_id": SCALE, "value": 4.0}).value == 4


def test_a_scale_without_bounds_runs_from_one_to_five() -> None:
    body = consultation_body(questions=[{"text": "Hvor godt?", "kind": "scale"}])

    (question,) = ConsultationIn.model_validate(body).questions

    assert (question.min, question.max) == (1, 5)
