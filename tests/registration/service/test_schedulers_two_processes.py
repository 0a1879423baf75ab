"""The schedulers every replica runs act once on each item when two processes run them at the
same moment: the held-meeting scheduler, the seat-offer expiry and notification's reminders.

Each run is a real process of its own (tests/registration/service/scheduler_process.py) with
its own pool on the same Postgres; both are held at a start line (an advisory lock) until both
are ready, then let go together. Batches are small, so the runs overlap batch by batch."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from notification.service.events import handle_event
from registration.service import offer_expiry, registrations
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.notification.conftest import Meeting, notification_settings
from tests.registration.service.conftest import Given
from tests.registration.service.scheduler_process import START_LINE
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import PersonalData, RegistrationConfirmed

ROOT = Path(__file__).resolve().parents[3]


async def run_two_processes(kind: str, database_url: str, moment: datetime) -> list[int]:
    """Start two scheduler processes, let them go at once, and return what each acted on."""
    gate = await asyncpg.connect(database_url)
    try:
        await gate.execute("SELECT pg_advisory_lock($1)", START_LINE)
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.registration.service.scheduler_process",
                kind,
                database_url,
                moment.isoformat(),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while (
            await gate.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 "
                "AND NOT granted",
                START_LINE,
            )
            < 2
        ):
            assert time.monotonic() < deadline, "the scheduler processes never reached the start"
            assert all(p.returncode is None for p in processes), "a process ended before the start"
            await asyncio.sleep(0.05)
        await gate.execute("SELECT pg_advisory_unlock($1)", START_LINE)
        outputs = await asyncio.gather(*(p.communicate() for p in processes))
    finally:
        await gate.close()
    counts = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
        counts.append(int(json.loads(out.decode().splitlines()[-1])["count"]))

    return counts


async def events_of(pool: asyncpg.Pool, aggregate_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY id", aggregate_id
    )
    return [row["event_type"] for row in rows]


async def test_two_processes_mark_each_ended_meeting_held_once(
    given: Given, pool: asyncpg.Pool, database_url: str
) -> None:
    network_id = await given.network()
    meeting_ids = [await given.meeting(network_id) for _ in range(30)]
    # Meetings built by `meeting_body` start 14 days ahead and last 5 hours.
    after_they_end = datetime.now(UTC) + timedelta(days=15)

    counts = await run_two_processes("held", database_url, after_they_end)

    assert sum(counts) == 30, counts
    for meeting_id in meeting_ids:
        status = await pool.fetchval("SELECT status FROM meetings WHERE id = $1", meeting_id)
        assert status == "held"
        assert (await events_of(pool, meeting_id)).count("MeetingUpdated") == 1


async def test_two_processes_expire_each_lapsed_offer_once_and_offer_the_seat_on_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool, database_url: str
) -> None:
    network_id = await given.network(waitlist="offer", offer_hours=24)
    meetings: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
    for _ in range(12):
        meeting_id = await given.meeting(network_id, capacity=1)
        seated = await given.register(meeting_id, await given.member(network_id))
        first = await given.register(meeting_id, await given.member(network_id))
        second = await given.register(meeting_id, await given.member(network_id))
        await registrations.cancel_registration(
            tx,
            ctx,
            seated.registration["id"],
            token=seated.cancel_token,
            organiser=None,
            once=as_is(),
        )
        meetings.append((meeting_id, first.registration["id"], second.registration["id"]))
    lapsed = await pool.fetchval(
        "SELECT max(offer_expires_at) FROM registrations WHERE offer_state = 'open'"
    )

    counts = await run_two_processes("offers", database_url, lapsed + timedelta(seconds=1))

    assert sum(counts) == 12, counts
    for meeting_id, first_id, second_id in meetings:
        events = await events_of(pool, meeting_id)
        assert events.count("SeatOfferExpired") == 1, events
        assert events.count("SeatOffered") == 2, events  # the first person's, then the next's
        states = await pool.fetch(
            "SELECT id, status, offer_state FROM registrations WHERE id = ANY($1::uuid[])",
            [first_id, second_id],
        )
        by_id = {row["id"]: (row["status"], row["offer_state"]) for row in states}
        assert by_id == {first_id: ("cancelled", "expired"), second_id: ("waitlisted", "open")}
        taken, capacity = await pool.fetchrow(
            "SELECT seats_taken, capacity FROM meetings WHERE id = $1", meeting_id
        )
        assert (taken, capacity) == (0, 1)
    # Run again by one of them: nothing left.
    later = replace(ctx, clock=PinnedClock(lapsed + timedelta(seconds=1)))
    assert await offer_expiry.expire_lapsed_offers(tx, later) == 0


async def test_two_processes_queue_each_due_reminder_once(database_url: str) -> None:
    pool = await create_pool(database_url, schema="notification")
    # A two-day lead for meetings a day ahead: due yesterday.
    settings = notification_settings(database_url, reminder_lead="2d")
    registration_ids = []
    try:
        for _ in range(4):
            meeting = Meeting(days_ahead=1, language="da")
            events = [meeting.scheduled()]
            for n in range(6):
                registration_id = uuid.uuid4()
                registration_ids.append(registration_id)
                events.append(
                    meeting.registration(
                        RegistrationConfirmed,
                        status="confirmed",
                        registration_id=registration_id,
                        registered_at=datetime.now(UTC) - timedelta(days=3),
                        personal=PersonalData(name="Karen Hansen", email=f"karen{n}@ishoj.example"),
                    )
                )
            for envelope, payload in events:
                async with pool.acquire() as conn, conn.transaction():
                    await handle_event(conn, settings, envelope, payload)
        await pool.execute("DELETE FROM notifications")  # the confirmations: not what is counted
        due = await pool.fetchval("SELECT count(*) FROM reminders WHERE due_at <= now()")
        assert due == 24

        counts = await run_two_processes("reminders", database_url, datetime.now(UTC))

        assert sum(counts) == 24, counts
        rows = await pool.fetch(
            "SELECT registration_id, count(*) AS n FROM notifications WHERE template = 'reminder' "
            "GROUP BY registration_id"
        )
        assert {row["registration_id"]: row["n"] for row in rows} == dict.fromkeys(
            registration_ids, 1
        )
        assert await pool.fetchval("SELECT count(*) FROM reminders WHERE sent_at IS NULL") == 0
    finally:
        await pool.close()
