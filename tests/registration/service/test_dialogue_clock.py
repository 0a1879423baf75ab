"""The dialogue's clock opens consultations when their window begins and closes them when it
ends: each once, whoever runs it and however many run at once."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from registration.service import consultation_responses, consultations, dialogue_clock
from registration.service.dialogue_commands import ConsultationIn, ResponseIn
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.dialogue_builders import answers_to, consultation_body, events
from tests.registration.service.conftest import PLATFORM, Given


def at(ctx: ServiceContext, moment: datetime) -> ServiceContext:
    return replace(ctx, clock=PinnedClock(moment))


async def scheduled(
    tx: Transactions, ctx: ServiceContext, network_id: uuid.UUID, **overrides: object
) -> uuid.UUID:
    body = consultation_body(opens_in=timedelta(hours=1), lasts=timedelta(days=2), **overrides)
    row = await consultations.create_consultation(
        tx, ctx, network_id, ConsultationIn.model_validate(body), organiser=PLATFORM, once=as_is()
    )
    return uuid.UUID(str(row["id"]))


async def stored_status(pool: asyncpg.Pool, consultation_id: uuid.UUID) -> str:
    query = "SELECT status FROM consultations WHERE id = $1"
    return str(await pool.fetchval(query, consultation_id))


async def test_the_clock_opens_then_closes_a_consultation_once_each(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    for _ in range(3):
        await given.member(network_id)
    consultation_id = await scheduled(tx, ctx, network_id)
    opening = at(ctx, datetime.now(UTC) + timedelta(hours=2))
    closing = at(ctx, datetime.now(UTC) + timedelta(days=3))

    before = await dialogue_clock.run_dialogue_clock(tx, ctx)
    opened = await dialogue_clock.run_dialogue_clock(tx, opening)
    opened_again = await dialogue_clock.run_dialogue_clock(tx, opening)
    closed = await dialogue_clock.run_dialogue_clock(tx, closing)
    closed_again = await dialogue_clock.run_dialogue_clock(tx, closing)

    assert (before, opened, opened_again, closed, closed_again) == (
        (0, 0),
        (1, 0),
        (0, 0),
        (0, 1),
        (0, 0),
    )
    assert await stored_status(pool, consultation_id) == "closed"
    trail = await events(pool, aggregate_id=consultation_id)
    assert [(e["event_type"], e["aggregate_version"]) for e in trail] == [
        ("ConsultationOpened", 1),
        ("ConsultationClosed", 2),
    ]
    assert trail[1]["payload"]["status"] == "closed"
    assert trail[1]["payload"]["audience_size"] == 3
    assert len(await events(pool, "ConsultationInvitation")) == 3


async def test_two_concurrent_runs_open_each_consultation_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    for _ in range(2):
        await given.member(network_id)
    ids = [await scheduled(tx, ctx, network_id) for _ in range(7)]
    later = at(ctx, datetime.now(UTC) + timedelta(hours=2))

    counts = await asyncio.gather(
        dialogue_clock.open_due_consultations(tx, later, batch_size=2),
        dialogue_clock.open_due_consultations(tx, later, batch_size=2),
    )
    leftover = await dialogue_clock.open_due_consultations(tx, later)

    assert sum(counts) + leftover == 7
    for consultation_id in ids:
        assert await stored_status(pool, consultation_id) == "open"
        trail = await events(pool, "ConsultationOpened", aggregate_id=consultation_id)
        assert len(trail) == 1
    assert len(await events(pool, "ConsultationInvitation")) == 7 * 2


async def test_one_whose_window_passed_unseen_is_closed_without_inviting_anyone(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    await given.member(network_id)
    consultation_id = await scheduled(tx, ctx, network_id)

    opened, closed = await dialogue_clock.run_dialogue_clock(
        tx, at(ctx, datetime.now(UTC) + timedelta(days=5))
    )

    assert (opened, closed) == (0, 1)
    trail = await events(pool, aggregate_id=consultation_id)
    assert [(e["event_type"], e["aggregate_version"]) for e in trail] == [("ConsultationClosed", 1)]
    assert trail[0]["payload"]["audience_size"] == 1
    assert await events(pool, "ConsultationInvitation") == []


async def test_a_public_consultation_invites_the_members_and_has_no_audience_size(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    await given.member(network_id)
    await scheduled(tx, ctx, network_id, audience="public")

    await dialogue_clock.run_dialogue_clock(tx, at(ctx, datetime.now(UTC) + timedelta(hours=2)))

    (opened,) = await events(pool, "ConsultationOpened")
    assert opened["payload"]["audience_size"] is None
    assert len(await events(pool, "ConsultationInvitation")) == 1


async def test_the_first_answer_before_the_clock_comes_by_opens_the_consultation_first(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation_id = await scheduled(tx, ctx, network_id)
    opening = at(ctx, datetime.now(UTC) + timedelta(hours=2))
    consultation = await consultations.get_consultation(tx, opening, consultation_id)
    assert consultation is not None

    await consultation_responses.submit_response(
        tx,
        opening,
        consultation_id,
        ResponseIn(member=person, answers=answers_to(consultation["questions"])),
        once=as_is(),
    )
    opened, _ = await dialogue_clock.run_dialogue_clock(tx, opening)

    kinds = [e["event_type"] for e in await events(pool) if e["topic"].endswith("dialogue.v1")]
    assert kinds.index("ConsultationOpened") < kinds.index("ResponseSubmitted")
    assert kinds.count("ConsultationOpened") == 1
    assert opened == 0
