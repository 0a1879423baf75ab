"""A meeting that has ended becomes held on its own: once, with one event, whoever runs the
scheduler; a cancelled meeting stays cancelled and one still to come stays scheduled."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from registration.service import meeting_lifecycle, meetings
from registration.service.commands import MeetingPatch
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import PLATFORM, Given, outbox

# Meetings built by `meeting_body` start 14 days ahead and last 5 hours.
AFTER_THEY_END = datetime.now(UTC) + timedelta(days=15)


def at(ctx: ServiceContext, moment: datetime) -> ServiceContext:
    return replace(ctx, clock=PinnedClock(moment))


async def status_of(pool: asyncpg.Pool, meeting_id: uuid.UUID) -> str:
    return str(await pool.fetchval("SELECT status FROM meetings WHERE id = $1", meeting_id))


async def test_an_ended_meeting_becomes_held_with_one_event(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    before = await outbox(pool, aggregate_id=meeting_id)

    marked = await meeting_lifecycle.mark_ended_meetings_held(tx, at(ctx, AFTER_THEY_END))
    again = await meeting_lifecycle.mark_ended_meetings_held(tx, at(ctx, AFTER_THEY_END))

    assert (marked, again) == (1, 0)
    assert await status_of(pool, meeting_id) == "held"
    assert await outbox(pool, aggregate_id=meeting_id) == [*before, "MeetingUpdated"]
    event = await pool.fetchrow(
        "SELECT envelope, aggregate_version FROM outbox WHERE aggregate_id = $1 ORDER BY id DESC "
        "LIMIT 1",
        meeting_id,
    )
    envelope = event["envelope"]
    envelope = json.loads(envelope) if isinstance(envelope, str) else envelope
    assert envelope["payload"]["status"] == "held"
    assert envelope["payload"]["rescheduled"] is False
    assert envelope["payload"]["changed"] == ["status"]
    version = await pool.fetchval("SELECT version FROM meetings WHERE id = $1", meeting_id)
    assert event["aggregate_version"] == version


async def test_two_concurrent_runs_mark_a_meeting_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_ids = [await given.meeting(network_id) for _ in range(5)]
    later = at(ctx, AFTER_THEY_END)

    counts = await asyncio.gather(
        meeting_lifecycle.mark_ended_meetings_held(tx, later, batch_size=2),
        meeting_lifecycle.mark_ended_meetings_held(tx, later, batch_size=2),
    )
    leftover = await meeting_lifecycle.mark_ended_meetings_held(tx, later)

    assert sum(counts) + leftover == 5
    for meeting_id in meeting_ids:
        assert await status_of(pool, meeting_id) == "held"
        assert (await outbox(pool, aggregate_id=meeting_id)).count("MeetingUpdated") == 1


async def test_a_cancelled_meeting_and_one_still_to_come_are_left_alone(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    cancelled = await given.meeting(network_id)
    await meetings.cancel_meeting(tx, cancelled, organiser=PLATFORM, once=as_is())
    to_come = await given.meeting(network_id, days_ahead=30)
    before = {m: await outbox(pool, aggregate_id=m) for m in (cancelled, to_come)}

    marked = await meeting_lifecycle.mark_ended_meetings_held(tx, at(ctx, AFTER_THEY_END))

    assert marked == 0
    assert await status_of(pool, cancelled) == "cancelled"
    assert await status_of(pool, to_come) == "scheduled"
    assert {m: await outbox(pool, aggregate_id=m) for m in (cancelled, to_come)} == before


async def test_a_meeting_still_running_is_not_held_yet(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    starts_at = await pool.fetchval("SELECT starts_at FROM meetings WHERE id = $1", meeting_id)

    during = await meeting_lifecycle.mark_ended_meetings_held(
        tx, at(ctx, starts_at + timedelta(hours=1))
    )

    assert during == 0 and await status_of(pool, meeting_id) == "scheduled"


async def test_a_held_meeting_moved_to_end_in_the_future_is_scheduled_again(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    await pool.execute("UPDATE meetings SET status = 'held' WHERE id = $1", meeting_id)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40)
    patch = MeetingPatch.model_validate(
        {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat()}
    )

    row = await meetings.update_meeting(tx, ctx, meeting_id, patch, organiser=PLATFORM)

    assert row["status"] == "scheduled"
    assert await status_of(pool, meeting_id) == "scheduled"
