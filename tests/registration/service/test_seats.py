"""Seats, the waitlist and promotion, through the use cases."""

from __future__ import annotations

import asyncpg
import pytest

from registration.service import registrations
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import PLATFORM, Given, outbox
from tilmeld_shared.problems import Conflict


async def test_a_full_meeting_waitlists_the_next_registration(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=3)
    first = await given.register(meeting_id, await given.member(network_id), companions=1)
    second = await given.register(meeting_id, await given.member(network_id), companions=1)

    assert first.registration["status"] == "confirmed"
    assert (second.registration["status"], second.waitlist_position) == ("waitlisted", 1)
    assert await outbox(pool, aggregate_id=meeting_id) == [
        "MeetingScheduled",
        "RegistrationConfirmed",
        "RegistrationWaitlisted",
    ]


async def test_a_cancellation_promotes_the_next_on_the_waitlist(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=2)
    seated = await given.register(meeting_id, await given.member(network_id), companions=1)
    waiting = await given.register(meeting_id, await given.member(network_id))

    cancelled = await registrations.cancel_registration(
        tx,
        ctx,
        seated.registration["id"],
        token=seated.cancel_token,
        organiser=None,
        once=as_is(),
    )

    promoted, position = await registrations.get_registration(
        tx, waiting.registration["id"], organiser=PLATFORM
    )
    assert cancelled["status"] == "cancelled"
    assert (promoted["status"], position) == ("confirmed", None)
    assert (await outbox(pool, aggregate_id=meeting_id))[-2:] == [
        "RegistrationCancelled",
        "RegistrationPromoted",
    ]


async def test_a_second_registration_of_the_same_person_is_refused_and_writes_nothing(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    person = await given.member(network_id)
    await given.register(meeting_id, person)
    events_before = await outbox(pool)

    with pytest.raises(Conflict) as refused:
        await given.register(meeting_id, person)

    assert refused.value.slug == "already-registered"
    assert await outbox(pool) == events_before
