"""Answers to a meeting's questions are erased `answers_retention_days` after it ends (the
default where it sets none), once, whoever runs the job, and only theirs."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from registration.service import registrations
from registration.service.answers import erase_expired_answers
from registration.service.commands import AnswerIn, MemberIn, RegistrationIn
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import member
from tests.registration.service.conftest import Given

QUESTION = {"text": "Kost", "kind": "choice", "options": ["Alt", "Vegetar"]}


def at(ctx: ServiceContext, moment: datetime) -> ServiceContext:
    return replace(ctx, clock=PinnedClock(moment))


async def meeting_with_answers(
    given: Given, people: int = 1, **settings: Any
) -> tuple[uuid.UUID, datetime]:
    """A meeting with `people` registrations answering its question, and when it ends (read
    back: a suite's clock has moved on since this module was imported)."""
    network_id = await given.network()
    meeting_id = await given.meeting(
        network_id, open_to_public=True, questions=[QUESTION], **settings
    )
    stored = await given.tx.read(
        lambda conn: conn.fetchrow(
            "SELECT questions, ends_at FROM meetings WHERE id = $1", meeting_id
        )
    )
    question_id = uuid.UUID(stored["questions"][0]["question_id"])
    for _ in range(people):
        command = RegistrationIn(
            member=MemberIn.model_validate(member()),
            answers=[AnswerIn(question_id=question_id, value="Vegetar")],
        )
        await registrations.register_for_meeting(
            given.tx, given.ctx, meeting_id, command, once=as_is()
        )
    return meeting_id, stored["ends_at"]


async def kept(pool: asyncpg.Pool, meeting_id: uuid.UUID) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM registrations "
            "WHERE meeting_id = $1 AND answers_sealed IS NOT NULL",
            meeting_id,
        )
    )


async def test_answers_go_the_meetings_retention_days_after_it_ends(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id, ends = await meeting_with_answers(given, people=2, answers_retention_days=7)

    too_soon = await erase_expired_answers(tx, at(ctx, ends + timedelta(days=6, hours=23)))
    due = await erase_expired_answers(tx, at(ctx, ends + timedelta(days=7, minutes=1)))
    again = await erase_expired_answers(tx, at(ctx, ends + timedelta(days=8)))

    assert (too_soon, due, again) == (0, 2, 0)
    assert await kept(pool, meeting_id) == 0
    erased_at = await pool.fetch(
        "SELECT answers_erased_at FROM registrations WHERE meeting_id = $1", meeting_id
    )
    assert all(row["answers_erased_at"] is not None for row in erased_at)


async def test_a_meeting_without_its_own_retention_keeps_them_the_default_days(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id, ends = await meeting_with_answers(given)
    default = ctx.settings.answers_retention_days_default

    before = await erase_expired_answers(tx, at(ctx, ends + timedelta(days=default - 1)))
    after = await erase_expired_answers(tx, at(ctx, ends + timedelta(days=default, minutes=1)))

    assert (before, after) == (0, 1)
    assert await kept(pool, meeting_id) == 0


async def test_only_the_meetings_whose_time_is_up_lose_their_answers(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    short, ends = await meeting_with_answers(given, answers_retention_days=0)
    long, _ = await meeting_with_answers(given, answers_retention_days=90)

    await erase_expired_answers(tx, at(ctx, ends + timedelta(days=1)))

    assert (await kept(pool, short), await kept(pool, long)) == (0, 1)


async def test_two_processes_at_once_erase_each_answer_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id, ends = await meeting_with_answers(given, people=7, answers_retention_days=1)
    later = at(ctx, ends + timedelta(days=2))

    counts = await asyncio.gather(
        erase_expired_answers(tx, later, batch_size=2),
        erase_expired_answers(tx, later, batch_size=2),
    )
    leftover = await erase_expired_answers(tx, later)

    assert sum(counts) + leftover == 7
    assert await kept(pool, meeting_id) == 0
