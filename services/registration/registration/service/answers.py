"""Answers to a meeting's questions: checked against the questions, sealed for storage, opened
for the roster and the person's export, and erased when their time is up.

A meeting asks at registration for what the organiser must know to receive the person (dietary
needs, accessibility): often health data. So every answer, whatever its kind, is stored only
sealed with the member's own data key (crypto-shredded when the person is erased), and none
travels in any event: no consumer needs them, and the event log is kept, so an answer written
there could not be erased `answers_retention_days` after the meeting, as it is here.

The same checks serve the feedback asked of attendees after the meeting (service/feedback.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from registration.personal_data import PersonalDataVault
from registration.repository import answers as answer_rows
from registration.service.commands import AnswerIn
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import PersonalData, Question, SealedPersonalData
from tilmeld_shared.problems import Invalid

log = logging.getLogger(__name__)

BATCH_SIZE = 200
Value = str | int


def questions_of(stored: Sequence[Mapping[str, Any]] | None) -> list[Question]:
    """A meeting's questions (or feedback) as stored on its row."""
    return [Question.model_validate(question) for question in stored or []]


def checked_answers(
    questions: Sequence[Question], answers: Sequence[AnswerIn], *, field: str = "answers"
) -> dict[str, Value]:
    """The answers by question id, each fitting its question; else Invalid naming every
    offending field (`answers.0.value`, as the API names fields) and nothing is kept."""
    by_id = {question.question_id: question for question in questions}
    errors: list[dict[str, Any]] = []
    checked: dict[str, Value] = {}

    def refuse(where: str, message: str, question_id: uuid.UUID) -> None:
        errors.append(
            {"field": where, "in": "body", "message": message, "question_id": str(question_id)}
        )

    for number, answer in enumerate(answers):
        question = by_id.get(answer.question_id)
        if question is None:
            refuse(f"{field}.{number}.question_id", "not a question here", answer.question_id)
            continue
        if str(question.question_id) in checked:
            refuse(f"{field}.{number}.question_id", "answered twice", answer.question_id)
            continue
        problem = _misfit(question, answer.value)
        if problem:
            refuse(f"{field}.{number}.value", problem, answer.question_id)
            continue
        checked[str(question.question_id)] = answer.value
    for question in questions:
        named = str(question.question_id)
        # A required question answered wrongly is named once, where the wrong answer is.
        if (
            question.required
            and named not in checked
            and not any(error["question_id"] == named for error in errors)
        ):
            refuse(field, f"an answer to “{question.text}” is required", question.question_id)
    if errors:
        raise Invalid("Some answers do not fit the questions; see `errors`.", errors=errors)
    return checked


def _misfit(question: Question, value: Value) -> str | None:
    """Why the value does not answer the question, or None when it does."""
    if question.kind == "choice":
        if not isinstance(value, str) or value not in question.options:
            return "not one of the options: " + ", ".join(question.options)
    elif question.kind == "scale":
        least = question.min if question.min is not None else 1
        greatest = question.max if question.max is not None else 5
        if not isinstance(value, int) or not least <= value <= greatest:
            return f"a whole number from {least} to {greatest}"
    elif not isinstance(value, str):
        return "text, not a number"
    return None


def typed(questions: Sequence[Question], stored: Mapping[str, str]) -> dict[str, Value]:
    """Answers as opened (all text inside the seal) back to their kinds' values."""
    kinds = {str(question.question_id): question.kind for question in questions}
    values: dict[str, Value] = {}
    for question_id, value in stored.items():
        if kinds.get(question_id) == "scale" and value.lstrip("-").isdigit():
            values[question_id] = int(value)
        else:
            values[question_id] = value
    return values


def seal(
    vault: PersonalDataVault, member_id: uuid.UUID, data_key: bytes, answers: Mapping[str, Value]
) -> SealedPersonalData:
    """The answers sealed with the member's key. The vault seals PersonalData; the answers ride
    in its `answers` with no name or address beside them, so the seal holds nothing else."""
    return vault.seal(
        member_id,
        data_key,
        PersonalData(name="", email="", answers={key: str(v) for key, v in answers.items()}),
    )


def opened(
    vault: PersonalDataVault, sealed: Mapping[str, Any] | None, data_key: bytes | None
) -> dict[str, str]:
    """The stored answers as text by question id; empty once erased (or the key is gone)."""
    if not sealed:
        return {}
    personal = vault.open(SealedPersonalData.model_validate(sealed), data_key)
    return dict(personal.answers) if personal else {}


# --- retention -----------------------------------------------------------------------------


async def erase_expired_answers(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Erase the answers of every meeting ended more than its `answers_retention_days` ago (the
    setting's default where the meeting names none), by the context's clock; how many."""
    now = ctx.clock.now()
    default_days = ctx.settings.answers_retention_days_default

    async def batch(conn: Connection) -> int:
        return await answer_rows.erase_expired(
            conn, now=now, default_days=default_days, limit=batch_size
        )

    erased = 0
    while True:
        count = await tx.run(batch)
        erased += count
        # A short batch: nothing left, or what is left is locked by another process erasing it.
        if count < batch_size:
            return erased


async def keep_erasing_answers(tx: Transactions, ctx: ServiceContext) -> None:
    """Run `erase_expired_answers` every `answers_retention_check_interval_s`, for ever."""
    while True:
        await asyncio.sleep(ctx.settings.answers_retention_check_interval_s)
        try:
            if erased := await erase_expired_answers(tx, ctx):
                log.info("registration answers erased", extra={"count": erased})
        except Exception:  # the database away a while: the next run tries again
            log.exception("erasing expired registration answers failed")


def retention_ends(ends_at: Any, days: int | None, default_days: int) -> Any:
    """When a meeting's answers go: its end plus its retention (or the default)."""
    return ends_at + timedelta(days=default_days if days is None else days)
