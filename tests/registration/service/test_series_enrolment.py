"""Series enrolment: an auto_register network's members are registered for each upcoming
members' meeting, once, durably, whoever runs it; the term's end ends the enrolments and
invites the members to the next term."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from registration.outbox import OutboxSignal
from registration.service import (
    enrolments,
    meetings,
    networks,
    registrations,
    renewal,
    series_enrolment,
)
from registration.service.commands import EnrolmentIn, MeetingIn, MemberIn, NetworkPatch
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import meeting_body, member
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import SealedPersonalData
from tilmeld_shared.problems import Conflict, Forbidden

NOW = datetime.now(UTC)


def at(ctx: ServiceContext, moment: datetime) -> ServiceContext:
    return replace(ctx, clock=PinnedClock(moment))


def days(n: int) -> str:
    return (NOW + timedelta(days=n)).isoformat()


async def registrations_of(pool: asyncpg.Pool, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM registrations WHERE meeting_id = $1 ORDER BY position", meeting_id
        )
    )


async def events(pool: asyncpg.Pool, event_type: str) -> list[dict[str, Any]]:
    """The payloads of the event type written, in order."""
    rows = await pool.fetch(
        "SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id", event_type
    )
    envelopes = [
        json.loads(row["envelope"]) if isinstance(row["envelope"], str) else row["envelope"]
        for row in rows
    ]
    return [envelope["payload"] for envelope in envelopes]


async def enrol_only(given: Given, network_id: uuid.UUID) -> MemberIn:
    """Enrolled, with nothing after the commit (as if the process stopped right there)."""
    person = MemberIn.model_validate(member())
    command = EnrolmentIn(member=person, consent=True)
    await given.tx.run(lambda conn: enrolments.enrol_within(conn, given.ctx, network_id, command))
    return person


async def test_enrolling_registers_the_member_for_each_upcoming_members_meeting_only(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    first = await given.meeting(network_id, days_ahead=14)
    second = await given.meeting(network_id, days_ahead=40)
    conference = await given.meeting(network_id, days_ahead=60, open_to_public=True)
    closed = await given.meeting(network_id, days_ahead=20, registration_deadline=days(-1))
    cancelled = await given.meeting(network_id, days_ahead=25)
    await pool.execute("UPDATE meetings SET status = 'cancelled' WHERE id = $1", cancelled)

    await given.member(network_id)

    for meeting_id in (first, second):
        (row,) = await registrations_of(pool, meeting_id)
        assert (row["status"], row["seats"], row["automatic"]) == ("confirmed", 1, True)
    for meeting_id in (conference, closed, cancelled):
        assert await registrations_of(pool, meeting_id) == []
    confirmed = await events(pool, "RegistrationConfirmed")
    assert [e["meeting_id"] for e in confirmed] == [str(first), str(second)]
    assert all(e["automatic"] is True for e in confirmed)


async def test_a_network_without_auto_register_registers_nobody(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)

    await given.member(network_id)

    assert await registrations_of(pool, meeting_id) == []


async def test_seats_go_in_enrolment_order_and_the_rest_wait(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    for _ in range(3):
        await enrol_only(given, network_id)
    meeting_id = await given.meeting(network_id, capacity=2)

    made = await series_enrolment.register_owed(tx, ctx)

    rows = await registrations_of(pool, meeting_id)
    assert made == 3
    assert [row["status"] for row in rows] == ["confirmed", "confirmed", "waitlisted"]
    enrolled = await pool.fetch(
        "SELECT member_id FROM enrolments WHERE network_id = $1 ORDER BY created_at, id",
        network_id,
    )
    assert [row["member_id"] for row in rows] == [row["member_id"] for row in enrolled]
    # One transaction for the meeting: every registration written by the same one.
    assert (
        len(
            {
                row["xmin"]
                for row in await pool.fetch(
                    "SELECT xmin::text FROM registrations WHERE meeting_id = $1", meeting_id
                )
            }
        )
        == 1
    )
    assert await pool.fetchval("SELECT seats_taken FROM meetings WHERE id = $1", meeting_id) == 2


async def test_a_meeting_scheduled_later_registers_every_active_member(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    staying = [await given.member(network_id) for _ in range(2)]
    leaving = await given.enrol(network_id, MemberIn.model_validate(member()))
    await enrolments.cancel_enrolment(
        tx, ctx, leaving.enrolment["id"], token=None, organiser=PLATFORM, once=as_is()
    )
    row = await meetings.schedule_meeting(
        tx,
        network_id,
        MeetingIn.model_validate(meeting_body()),
        organiser=PLATFORM,
        once=as_is(),
        ctx=ctx,
    )

    rows = await registrations_of(pool, row["id"])
    emails = {
        await pool.fetchval("SELECT email FROM members WHERE id = $1", r["member_id"]) for r in rows
    }
    assert emails == {person.email for person in staying}


async def test_a_cancelled_automatic_registration_is_never_made_again(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    meeting_id = await given.meeting(network_id)
    await given.member(network_id)
    (automatic,) = await registrations_of(pool, meeting_id)

    await registrations.cancel_registration(
        tx, ctx, automatic["id"], token=None, organiser=PLATFORM, once=as_is()
    )
    again = await series_enrolment.register_owed(tx, ctx)

    assert again == 0
    assert [row["status"] for row in await registrations_of(pool, meeting_id)] == ["cancelled"]


async def test_someone_who_cancelled_their_own_registration_is_not_registered_by_the_series(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    person = await given.member(network_id)
    own = await given.register(meeting_id, person, companions=1)
    await registrations.cancel_registration(
        tx, ctx, own.registration["id"], token=own.cancel_token, organiser=None, once=as_is()
    )
    kept = await given.member(network_id)
    await given.register(meeting_id, kept)

    await networks.update_network(
        tx, network_id, NetworkPatch(auto_register=True), organiser=PLATFORM
    )
    made = await series_enrolment.register_owed(tx, ctx)

    rows = await registrations_of(pool, meeting_id)
    assert made == 0
    assert [(row["status"], row["automatic"]) for row in rows] == [
        ("cancelled", False),
        ("confirmed", False),
    ]
    outcomes = await pool.fetch(
        "SELECT outcome FROM series_registrations WHERE meeting_id = $1 ORDER BY outcome",
        meeting_id,
    )
    assert [row["outcome"] for row in outcomes] == ["already_registered", "cancelled_before"]


async def test_work_a_stopped_process_left_is_done_by_the_next_run_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    meeting_id = await given.meeting(network_id)
    for _ in range(2):
        await enrol_only(given, network_id)
    # The process stops halfway through the meeting's transaction: nothing of it stays.
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        assert await series_enrolment._one_meeting(conn, ctx, meeting_id=None, network_id=None)
        await transaction.rollback()
    assert await registrations_of(pool, meeting_id) == []

    made = await series_enrolment.register_owed(tx, ctx)
    again = await series_enrolment.register_owed(tx, ctx)

    assert (made, again) == (2, 0)
    assert len(await registrations_of(pool, meeting_id)) == 2


async def test_two_processes_at_once_register_each_member_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool, database_url: str
) -> None:
    network_id = await given.network(auto_register=True)
    for _ in range(5):
        await enrol_only(given, network_id)
    meeting_ids = [await given.meeting(network_id, days_ahead=10 + n) for n in range(4)]
    # The other process: a pool and a unit of work of its own.
    other_pool = await create_pool(database_url, schema="registration")
    signal = OutboxSignal(other_pool)
    signal.local_relay_is_leader = lambda: True  # no relay elsewhere to wake with a NOTIFY
    other = Transactions(other_pool, signal)

    try:
        counts = await asyncio.gather(
            series_enrolment.register_owed(tx, ctx), series_enrolment.register_owed(other, ctx)
        )
    finally:
        await other_pool.close()
    leftover = await series_enrolment.register_owed(tx, ctx)

    assert sum(counts) + leftover == 20
    for meeting_id in meeting_ids:
        rows = await registrations_of(pool, meeting_id)
        assert len(rows) == len({row["member_id"] for row in rows}) == 5
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'RegistrationConfirmed'"
        )
        == 20
    )


async def test_a_co_hosted_meeting_registers_the_members_of_an_auto_register_co_host(
    given: Given, pool: asyncpg.Pool
) -> None:
    host = await given.network()
    co_host = await given.network(auto_register=True)
    joint = await given.meeting(host, co_hosts=[str(co_host)])

    await given.member(co_host)

    (row,) = await registrations_of(pool, joint)
    assert (row["status"], row["automatic"]) == ("confirmed", True)


async def test_a_meeting_after_the_term_is_the_next_terms_and_not_registered(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True, term_ends_at=days(20))
    within = await given.meeting(network_id, days_ahead=14)
    after = await given.meeting(network_id, days_ahead=30)

    await given.member(network_id)

    assert len(await registrations_of(pool, within)) == 1
    assert await registrations_of(pool, after) == []


async def test_the_terms_end_ends_enrolments_and_invites_to_the_next_term(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True, term_ends_at=days(40))
    within = await given.meeting(network_id, days_ahead=14)
    after = await given.meeting(network_id, days_ahead=30, capacity=1)
    person = await given.member(network_id)
    waiting = await given.member(network_id)  # waits for the meeting after the term
    by_hand = await given.member(network_id)
    # The organiser brings the term's end forward: the meeting at 30 days is the next term's.
    await networks.update_network(
        tx, network_id, NetworkPatch.model_validate({"term_ends_at": days(20)}), organiser=PLATFORM
    )
    # A meeting of the next term the person registers for by hand: theirs to keep.
    next_term = await given.meeting(network_id, days_ahead=35)
    await given.register(next_term, by_hand)
    other = await given.network()
    await given.member(other)  # an enrolment elsewhere, untouched

    ended = await series_enrolment.end_terms(tx, at(ctx, NOW + timedelta(days=21)))
    again = await series_enrolment.end_terms(tx, at(ctx, NOW + timedelta(days=21)))

    assert (ended, again) == (3, 0)
    statuses = await pool.fetch(
        "SELECT status, cancelled_at FROM enrolments WHERE network_id = $1", network_id
    )
    assert {row["status"] for row in statuses} == {"ended"}
    assert (
        await pool.fetchval("SELECT status FROM enrolments WHERE network_id = $1", other)
        == "active"
    )
    # Within the term: kept. After it: the automatic registrations are cancelled.
    assert {row["status"] for row in await registrations_of(pool, within)} == {"confirmed"}
    assert {row["status"] for row in await registrations_of(pool, after)} == {"cancelled"}
    assert [
        (row["status"], row["automatic"]) for row in await registrations_of(pool, next_term)
    ] == [("confirmed", False)]
    cancelled = await events(pool, "RegistrationCancelled")
    assert {e["cancelled_by"] for e in cancelled} == {"term_ended"}
    ended_events = await events(pool, "EnrolmentEnded")
    assert len(ended_events) == 3
    assert {e["cancelled_by"] for e in ended_events} == {"term_ended"}
    assert all(e["personal"] is None and e["personal_sealed"] for e in ended_events)
    # The invitation travels sealed: opened, it is a link to enrol again, filled in.
    first = ended_events[0]
    member_row = await pool.fetchrow(
        "SELECT * FROM members WHERE id = $1", uuid.UUID(first["member_id"])
    )
    opened = ctx.vault.open(
        SealedPersonalData.model_validate(first["personal_sealed"]), member_row["data_key"]
    )
    assert opened is not None and opened.email == member_row["email"]
    assert opened.action_url is not None
    assert f"/networks/{network_id}?renew={first['enrolment_id']}&token=" in opened.action_url
    assert {person.email, waiting.email} <= {
        await pool.fetchval("SELECT email FROM members WHERE id = $1", uuid.UUID(e["member_id"]))
        for e in ended_events
    }


async def test_two_concurrent_term_runs_end_each_enrolment_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(term_ends_at=days(5))
    for _ in range(7):
        await given.member(network_id)
    later = at(ctx, NOW + timedelta(days=6))

    counts = await asyncio.gather(
        series_enrolment.end_terms(tx, later, batch_size=2),
        series_enrolment.end_terms(tx, later, batch_size=2),
    )
    leftover = await series_enrolment.end_terms(tx, later)

    assert sum(counts) + leftover == 7
    assert (
        await pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'EnrolmentEnded'") == 7
    )


async def test_after_the_term_enrolment_waits_for_the_next_term_and_the_link_renews(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True, term_ends_at=days(5))
    enrolled = await given.enrol(network_id, MemberIn.model_validate(member()))
    later = at(ctx, NOW + timedelta(days=6))
    await series_enrolment.end_terms(tx, later)
    enrolment_id = enrolled.enrolment["id"]
    token = series_enrolment.renew_token(ctx, enrolment_id)

    with pytest.raises(Conflict) as refused:
        await renewal.renew(tx, later, enrolment_id, token=token, organiser=None, once=as_is())
    assert refused.value.slug == "term-ended"
    newcomer = EnrolmentIn(member=MemberIn.model_validate(member()), consent=True)
    with pytest.raises(Conflict) as closed:
        await enrolments.enrol(tx, later, network_id, newcomer, once=as_is())
    assert closed.value.slug == "term-ended"

    # The organiser sets the next term and its first meeting.
    await networks.update_network(
        tx, network_id, NetworkPatch.model_validate({"term_ends_at": days(400)}), organiser=PLATFORM
    )
    next_meeting = await given.meeting(network_id, days_ahead=30)
    renewed = await renewal.renew(
        tx, later, enrolment_id, token=token, organiser=None, once=as_is()
    )

    assert renewed.enrolment["status"] == "active"
    assert renewed.enrolment["member_id"] == enrolled.enrolment["member_id"]
    assert renewed.enrolment["id"] != enrolment_id
    (row,) = await registrations_of(pool, next_meeting)
    assert (row["member_id"], row["automatic"]) == (enrolled.enrolment["member_id"], True)
    with pytest.raises(Forbidden):
        await renewal.renew(tx, later, enrolment_id, token="nope", organiser=None, once=as_is())


async def test_leaving_the_network_cancels_what_the_series_registered_and_keeps_ones_own(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    own = await given.meeting(network_id, days_ahead=10)
    person = MemberIn.model_validate(member())
    enrolled = await given.enrol(network_id, person)
    await given.register(own, person)
    await networks.update_network(
        tx, network_id, NetworkPatch(auto_register=True), organiser=PLATFORM
    )
    series = await given.meeting(network_id, days_ahead=20, capacity=1)
    waiting = await given.member(network_id)
    await series_enrolment.register_owed(tx, ctx)
    assert [row["status"] for row in await registrations_of(pool, series)] == [
        "confirmed",
        "waitlisted",
    ]

    await enrolments.cancel_enrolment(
        tx,
        ctx,
        enrolled.enrolment["id"],
        token=enrolled.cancel_token,
        organiser=None,
        once=as_is(),
    )

    mine = enrolled.enrolment["member_id"]
    kept = [row for row in await registrations_of(pool, own) if row["member_id"] == mine]
    assert [(row["status"], row["automatic"]) for row in kept] == [("confirmed", False)]
    seats = [(row["status"], row["member_id"]) for row in await registrations_of(pool, series)]
    assert seats[0] == ("cancelled", mine)
    assert seats[1][0] == "confirmed", "the freed seat went to the waitlist"
    assert waiting
    cancelled = await events(pool, "RegistrationCancelled")
    assert [e["cancelled_by"] for e in cancelled] == ["member"]


async def test_joining_again_after_leaving_registers_anew_for_the_meetings_to_come(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(auto_register=True)
    meeting_id = await given.meeting(network_id)
    person = MemberIn.model_validate(member())
    first = await given.enrol(network_id, person)
    await enrolments.cancel_enrolment(
        tx, ctx, first.enrolment["id"], token=None, organiser=PLATFORM, once=as_is()
    )
    assert [r["status"] for r in await registrations_of(pool, meeting_id)] == ["cancelled"]

    await given.enrol(network_id, person)

    rows = await registrations_of(pool, meeting_id)
    assert [(r["status"], r["automatic"]) for r in rows] == [
        ("cancelled", True),
        ("confirmed", True),
    ]
