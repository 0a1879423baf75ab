"""Registering is one statement prepared from what the process assumes (a new member, the
meeting's questions as last seen, the municipality register as last read): where an
assumption no longer holds the registration is prepared again from the facts, and what it
writes is what registering step by step wrote."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest

from registration.repository import municipalities as municipality_rows
from registration.service import registrations
from registration.service.commands import AnswerIn, MemberIn, RegistrationIn
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, as_is
from tests.builders import member
from tests.registration.service.conftest import Given
from tilmeld_shared.events import SealedPersonalData
from tilmeld_shared.problems import Conflict, Invalid


async def register(given: Given, meeting_id: uuid.UUID, command: RegistrationIn) -> None:
    await registrations.register_for_meeting(given.tx, given.ctx, meeting_id, command, once=as_is())


async def last_payload(pool: asyncpg.Pool, meeting_id: uuid.UUID) -> dict[str, object]:
    row = await pool.fetchrow(
        "SELECT event_type, aggregate_version, envelope FROM outbox WHERE aggregate_id = $1"
        " ORDER BY id DESC LIMIT 1",
        meeting_id,
    )
    assert row["envelope"]["event_type"] == row["event_type"]
    assert row["envelope"]["aggregate_version"] == row["aggregate_version"]
    return dict(row["envelope"]["payload"])


async def test_a_new_persons_event_carries_what_the_database_holds(
    given: Given, pool: asyncpg.Pool, ctx: ServiceContext
) -> None:
    network_id = await given.network(language="nb")
    meeting_id = await given.meeting(network_id, open_to_public=True, capacity=1)
    person = MemberIn.model_validate(member(municipality="Roskilde"))
    await given.register(meeting_id, MemberIn.model_validate(member()))

    registered = await given.register(meeting_id, person, companions=0)

    stored = await pool.fetchrow(
        "SELECT m.*, mu.country FROM members m"
        " JOIN municipalities mu USING (municipality_id) WHERE m.email = $1",
        person.email,
    )
    payload = await last_payload(pool, meeting_id)
    expected = {
        "registration_id": str(registered.registration["id"]),
        "meeting_id": str(meeting_id),
        "network_id": str(network_id),
        "member_id": str(stored["id"]),
        "municipality": "Roskilde",
        "municipality_id": str(stored["municipality_id"]),
        "country": stored["country"],
        "language": "nb",  # the network's: the person named none
        "status": "waitlisted",
        "waitlist_position": 1,
        "seats": 1,
        "companions": 0,
    }
    assert {key: payload[key] for key in expected} == expected
    opened = ctx.vault.open(
        SealedPersonalData.model_validate(payload["personal_sealed"]), stored["data_key"]
    )
    assert opened is not None and (opened.name, opened.email) == (person.name, person.email)
    assert opened.cancel_url is not None and registered.cancel_token in opened.cancel_url


async def test_a_returning_person_is_sealed_with_their_stored_name_and_key(
    given: Given, pool: asyncpg.Pool, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    person = await given.member(network_id)
    again = person.model_copy(update={"name": "Someone Else", "email": person.email.upper()})

    await given.register(meeting_id, again)

    stored = await pool.fetch("SELECT * FROM members WHERE lower(email) = lower($1)", person.email)
    assert len(stored) == 1
    payload = await last_payload(pool, meeting_id)
    assert payload["member_id"] == str(stored[0]["id"])
    opened = ctx.vault.open(
        SealedPersonalData.model_validate(payload["personal_sealed"]), stored[0]["data_key"]
    )
    assert opened is not None and (opened.name, opened.email) == (person.name, person.email)


async def test_a_refused_sign_up_leaves_no_member_behind(given: Given, pool: asyncpg.Pool) -> None:
    network_id = await given.network()
    members_only = await given.meeting(network_id, open_to_public=False)
    person = MemberIn.model_validate(member())

    with pytest.raises(Conflict) as refused:
        await given.register(members_only, person)

    assert refused.value.slug == "not-enrolled"
    assert refused.value.extensions == {"network_id": str(network_id)}
    assert await pool.fetchval("SELECT count(*) FROM members WHERE email = $1", person.email) == 0


async def test_answers_are_checked_against_the_questions_the_meeting_asks_now(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    asked = [{"text": "Kost", "kind": "choice", "options": ["Alt", "Vegetar"]}]
    meeting_id = await given.meeting(network_id, open_to_public=True, questions=asked)
    await given.register(meeting_id, MemberIn.model_validate(member()))  # its questions seen
    old = (await pool.fetchval("SELECT questions FROM meetings WHERE id = $1", meeting_id))[0]
    # The organiser replaces the question with a required one.
    await pool.execute(
        "UPDATE meetings SET questions = $2 WHERE id = $1",
        meeting_id,
        [{**old, "question_id": str(uuid.uuid4()), "required": True}],
    )

    with pytest.raises(Invalid):
        await register(
            given,
            meeting_id,
            RegistrationIn(
                member=MemberIn.model_validate(member()),
                answers=[AnswerIn(question_id=uuid.UUID(old["question_id"]), value="Alt")],
            ),
        )


async def test_a_municipality_the_register_learnt_since_it_was_read_resolves_a_sign_up(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, open_to_public=True)
    await given.register(meeting_id, MemberIn.model_validate(member()))  # the register read
    async with pool.acquire() as conn:
        added = await municipality_rows.add(
            conn,
            municipality_id=uuid.uuid4(),
            country="DE",
            name="Landkreis Nirgendwo",
            kind="district",
            code="99999",
        )
    assert added is not None
    person = MemberIn.model_validate(member(municipality="Landkreis Nirgendwo"))

    await given.register(meeting_id, person)

    assert (
        await pool.fetchval("SELECT municipality_id FROM members WHERE email = $1", person.email)
        == added["municipality_id"]
    )


async def test_registration_closes_at_the_deadline_or_else_when_the_meeting_starts(
    given: Given,
) -> None:
    network_id = await given.network()
    with_deadline = await given.meeting(network_id, open_to_public=True)
    without = await given.meeting(network_id, open_to_public=True)
    rows = await given.tx.read(
        lambda conn: conn.fetch("SELECT id, starts_at FROM meetings ORDER BY starts_at")
    )
    starts_at = rows[0]["starts_at"]
    deadline = starts_at - timedelta(days=1)
    await given.tx.run(
        lambda conn: conn.execute(
            "UPDATE meetings SET registration_deadline = $2 WHERE id = $1", with_deadline, deadline
        )
    )

    def at(moment: object) -> Given:
        return replace(given, ctx=replace(given.ctx, clock=PinnedClock(moment)))  # type: ignore[arg-type]

    await at(deadline - timedelta(seconds=1)).register(
        with_deadline, MemberIn.model_validate(member())
    )
    for meeting_id, moment in ((with_deadline, deadline), (without, starts_at)):
        with pytest.raises(Conflict) as closed:
            await at(moment).register(meeting_id, MemberIn.model_validate(member()))
        assert closed.value.slug == "deadline-passed"
    await at(starts_at - timedelta(seconds=1)).register(without, MemberIn.model_validate(member()))
