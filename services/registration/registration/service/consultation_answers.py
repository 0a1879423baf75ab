"""The answers to a consultation's questions: checked against their questions (each mistake
named), choice and scale answers kept in clear to be counted, free text sealed with the
person's own key (it is personal data) and opened again for the person and the organisers.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import asyncpg

from registration.service.dialogue_commands import AnswerIn
from registration.unit_of_work import ServiceContext
from tilmeld_shared.events import PersonalData, SealedPersonalData
from tilmeld_shared.problems import Invalid


def questions_of(consultation: asyncpg.Record) -> list[dict[str, Any]]:
    """The consultation's questions as stored, each with its `question_id` and `kind`."""
    return list(consultation["questions"])


class Checked(NamedTuple):
    """Answers that fit their questions: choice and scale (in clear), free text (to seal)."""

    counted: list[dict[str, Any]]
    texts: dict[str, str]


def check_answers(questions: list[dict[str, Any]], answers: list[AnswerIn]) -> Checked:
    """The answers as stored, or invalid input naming each one that does not fit: an unknown
    question, a question answered twice, a choice outside its options, a scale out of range or
    not a whole number, text for a question that is not free text; and each required question
    left unanswered (as `answers`, with its `question_id`)."""
    by_id = {question["question_id"]: question for question in questions}
    errors: list[dict[str, Any]] = []
    counted: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    seen: set[str] = set()

    def refuse(index: int, field: str, question_id: str, message: str) -> None:
        errors.append(
            {
                "field": f"answers.{index}.{field}",
                "in": "body",
                "message": message,
                "question_id": question_id,
            }
        )

    for index, answer in enumerate(answers):
        question_id = str(answer.question_id)
        question = by_id.get(question_id)
        if question is None:
            refuse(index, "question_id", question_id, "not a question of this consultation")
            continue
        if question_id in seen:
            refuse(index, "question_id", question_id, "this question is answered already")
            continue
        seen.add(question_id)
        value = answer.value
        kind = question["kind"]
        if kind == "choice":
            options = {option.casefold(): option for option in question["options"]}
            chosen = options.get(value.strip().casefold()) if isinstance(value, str) else None
            if chosen is None:
                refuse(index, "value", question_id, "not one of the question's options")
                continue
            counted.append({"question_id": question_id, "value": chosen})
        elif kind == "scale":
            least, greatest = question.get("min", 1), question.get("max", 5)
            if not isinstance(value, int) or isinstance(value, bool):
                refuse(index, "value", question_id, "a scale's answer is a whole number")
                continue
            if not least <= value <= greatest:
                refuse(index, "value", question_id, f"must be from {least} to {greatest}")
                continue
            counted.append({"question_id": question_id, "value": value})
        else:
            if not isinstance(value, str):
                refuse(index, "value", question_id, "a free-text answer is text")
                continue
            if value.strip():
                texts[question_id] = value.strip()
            else:
                seen.discard(question_id)  # an empty text is no answer
    for question in questions:
        if question.get("required") and question["question_id"] not in seen:
            errors.append(
                {
                    "field": "answers",
                    "in": "body",
                    "message": f"the question {question['text']!r} must be answered",
                    "question_id": question["question_id"],
                }
            )
    if errors:
        raise Invalid("Some answers do not fit their questions.", errors=errors)
    return Checked(counted, texts)


def seal_texts(
    ctx: ServiceContext, member: asyncpg.Record, texts: dict[str, str]
) -> dict[str, Any] | None:
    """Free-text answers sealed with the person's own key, as stored (None: there are none)."""
    if not texts:
        return None
    sealed = ctx.vault.seal(
        member["id"], member["data_key"], PersonalData(name="", email="", answers=texts)
    )
    return sealed.model_dump(mode="json")


def open_texts(ctx: ServiceContext, stored: Any, data_key: bytes | None) -> dict[str, str]:
    """The free-text answers of a stored response; none once the person is erased."""
    if not stored:
        return {}
    opened = ctx.vault.open(SealedPersonalData.model_validate(stored), data_key)
    return dict(opened.answers) if opened is not None else {}
