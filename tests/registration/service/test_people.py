"""Erasure, and what an organisation may see."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from registration.service import enrolments, erasure, meetings, registrations, rosters
from registration.unit_of_work import ServiceContext, Transactions
from tests.registration.service.conftest import PLATFORM, Given, outbox
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.problems import NotFound


async def test_erasure_shreds_the_person_and_gives_their_seat_to_the_waitlist(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=1)
    person = await given.member(network_id)
    seated = await given.register(meeting_id, person)
    waiting = await given.register(meeting_id, await given.member(network_id))
    member_id = seated.registration["member_id"]

    await erasure.forget_member(tx, ctx, member_id)

    row = await pool.fetchrow("SELECT * FROM members WHERE id = $1", member_id)
    assert (row["email"], row["name"], row["data_key"]) == (None, None, None)
    sealed_left = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE envelope -> 'payload' ->> 'member_id' = $1 "
        "AND envelope -> 'payload' ? 'personal_sealed'",
        str(member_id),
    )
    assert sealed_left == 0
    promoted, _ = await registrations.get_registration(
        tx, waiting.registration["id"], organiser=PLATFORM
    )
    assert promoted["status"] == "confirmed"
    assert (await outbox(pool))[-1] == "MemberErased"


async def test_another_organisations_organiser_finds_no_such_meeting(
    given: Given, tx: Transactions
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    stranger = Principal(Role.ORGANISER, organisation_id=uuid.uuid4())

    with pytest.raises(NotFound):
        await rosters.roster(tx, meeting_id, organiser=stranger, limit=10, cursor=None)
    with pytest.raises(NotFound):
        await enrolments.roster(tx, network_id, organiser=stranger, limit=10, cursor=None)
    _, organises = await meetings.read_meeting(tx, meeting_id, stranger)
    assert organises is False
