"""A meeting's questions on a public form: the answers read from it, and what is wrong with
them said to the person beside the question (the field "question-<id>")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from registration.web.words import gettext
from tilmeld_shared.events import Question
from tilmeld_shared.problems import Invalid


def field_name(question: Question) -> str:
    return f"question-{question.question_id}"


def answers_from(form: dict[str, str], questions: Sequence[Question]) -> list[dict[str, Any]]:
    """The answers the form holds, in the order of the questions; a field left empty is no
    answer, and a scale's number is sent as a number."""
    found: list[dict[str, Any]] = []
    for question in questions:
        raw = form.get(field_name(question), "").strip()
        if not raw:
            continue
        value: str | int = raw
        if question.kind == "scale" and raw.lstrip("-").isdigit():
            value = int(raw)
        found.append({"question_id": str(question.question_id), "value": value})
    return found


def _message(question: Question, lang: str, *, missing: bool) -> str:
    if missing:
        return gettext(lang, "Answer “%(question)s”.", question=question.text)
    if question.kind == "choice":
        return gettext(lang, "Choose one of the answers to “%(question)s”.", question=question.text)
    if question.kind == "scale":
        return gettext(
            lang,
            "Choose a number from %(least)s to %(most)s for “%(question)s”.",
            least=question.min if question.min is not None else 1,
            most=question.max if question.max is not None else 5,
            question=question.text,
        )
    return gettext(lang, "Check your answer to “%(question)s”.", question=question.text)


def invalid_answers(
    error: ValidationError, sent: Sequence[dict[str, Any]], questions: Sequence[Question], lang: str
) -> dict[str, str]:
    """pydantic's errors about the answers (`answers.<n>...`), by question field."""
    by_id = {str(question.question_id): question for question in questions}
    messages: dict[str, str] = {}
    for item in error.errors():
        location = item["loc"]
        if len(location) < 2 or location[0] != "answers" or not isinstance(location[1], int):
            continue
        question = by_id.get(sent[location[1]]["question_id"])
        if question is not None:
            messages.setdefault(field_name(question), _message(question, lang, missing=False))
    return messages


def refused_answers(problem: Invalid, questions: Sequence[Question], lang: str) -> dict[str, str]:
    """The service's refusal of the answers (each error names its question), by field."""
    by_id = {str(question.question_id): question for question in questions}
    messages: dict[str, str] = {}
    for item in problem.extensions.get("errors", []):
        question = by_id.get(str(item.get("question_id")))
        if question is not None:
            missing = not str(item.get("field", "")).endswith(".value")
            messages.setdefault(field_name(question), _message(question, lang, missing=missing))
    return messages
