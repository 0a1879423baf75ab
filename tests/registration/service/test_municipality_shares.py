"""A member's municipality resolved to the register, and a meeting's seats per municipality."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from registration.service import meetings, municipalities, registrations
from registration.service.commands import MeetingPatch, MemberIn, MunicipalityIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import member
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.problems import Conflict, Invalid

RODOVRE = uuid.uuid5(uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30"), "DK:175")
ROSKILDE = uuid.uuid5(uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30"), "DK:265")


def person(municipality: str | None = None, **fields: Any) -> MemberIn:
    body = member(municipality=municipality or "Roskilde")
    if municipality is None:
        del body["municipality"]
    return MemberIn.model_validate({**body, **fields})


async def enrolled(given: Given, network_id: uuid.UUID, municipality: str) -> MemberIn:
    someone = person(municipality)
    await given.enrol(network_id, someone)
    return someone


async def payloads(pool: asyncpg.Pool, event_type: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT envelope -> 'payload' AS payload FROM outbox WHERE event_type = $1 ORDER BY id",
        event_type,
    )
    return [
        json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows
    ]


# --- resolving ---------------------------------------------------------------------------------


async def test_a_typed_municipality_is_kept_as_typed_and_resolved_and_events_carry_it(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    someone = await enrolled(given, network_id, "RØDOVRE KOMMUNE")
    await given.register(meeting_id, someone)

    row = await pool.fetchrow(
        "SELECT municipality, municipality_id FROM members WHERE lower(email) = lower($1)",
        someone.email,
    )
    assert (row["municipality"], row["municipality_id"]) == ("RØDOVRE KOMMUNE", RODOVRE)
    for event_type in ("MemberEnrolled", "RegistrationConfirmed"):
        [payload] = await payloads(pool, event_type)
        assert payload["municipality"] == "RØDOVRE KOMMUNE"
        assert (payload["municipality_id"], payload["country"]) == (str(RODOVRE), "DK")


async def test_the_register_id_may_be_sent_instead_of_the_name(
    given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    await given.enrol(network_id, person(municipality_id=str(RODOVRE)))

    [payload] = await payloads(pool, "MemberEnrolled")
    assert (payload["municipality"], payload["municipality_id"]) == ("Rødovre", str(RODOVRE))


async def test_an_unknown_register_id_is_invalid_input(given: Given) -> None:
    network_id = await given.network()
    with pytest.raises(Invalid) as refused:
        await given.enrol(network_id, person(municipality_id=str(uuid.uuid4())))
    assert refused.value.extensions["errors"][0]["field"] == "member.municipality_id"


async def test_unknown_and_ambiguous_names_are_kept_unresolved_and_reported_by_count(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    for typed in ("Atlantis", "atlantis kommune", "Herøy", "Roskilde"):
        await enrolled(given, network_id, typed)

    names = await municipalities.unresolved_names(tx, organiser=PLATFORM)
    events = await payloads(pool, "MemberEnrolled")

    assert [(n.name, n.spellings, n.members) for n in names] == [
        ("Atlantis", ["Atlantis", "atlantis kommune"], 2),
        ("Herøy", ["Herøy"], 1),
    ]
    assert [e["municipality"] for e in events] == [
        "Atlantis",
        "atlantis kommune",
        "Herøy",
        "Roskilde",
    ]
    assert [e["municipality_id"] for e in events] == [None, None, None, str(ROSKILDE)]


async def test_an_organisation_sees_only_the_unresolved_names_of_its_own_networks(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    await pool.execute(
        "INSERT INTO organisations (id, name) VALUES ($1, 'KL'), ($2, 'KS')", ours, theirs
    )
    our_network = await given.network(organisation_id=str(ours))
    their_network = await given.network(organisation_id=str(theirs))
    await enrolled(given, our_network, "Atlantis")
    await enrolled(given, their_network, "Lemuria")

    seen = await municipalities.unresolved_names(tx, organiser=Principal(Role.ORGANISER, ours))
    assert [n.name for n in seen] == ["Atlantis"]


async def test_a_member_from_before_resolving_is_resolved_at_their_next_sign_up_or_by_the_command(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    first = await enrolled(given, network_id, "Rødovre Kommune")
    second = await enrolled(given, network_id, "Landkreis Kassel")
    # As migration 006 left members that were there before it: a provisional key, no id.
    await pool.execute(
        "UPDATE members SET municipality_id = NULL, municipality_key = lower(municipality)"
    )
    await tx.run(
        lambda conn: municipalities.add_municipality_within(
            conn,
            MunicipalityIn(name="Landkreis Kassel", country="de", kind="district"),
            organiser=PLATFORM,
        )
    )

    await given.enrol(await given.network(), first)  # signs up again, as stored
    assert (
        await pool.fetchval("SELECT municipality_id FROM members WHERE email = $1", first.email)
        == RODOVRE
    )
    looked_at, resolved = await municipalities.resolve_members(tx)
    assert (looked_at, resolved) == (1, 1)
    row = await pool.fetchrow(
        "SELECT municipality_id, municipality_key FROM members WHERE email = $1", second.email
    )
    assert row["municipality_id"] is not None and row["municipality_key"] == "kassel"


async def test_adding_a_municipality_resolves_the_members_who_typed_its_name(
    given: Given, tx: Transactions, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    typed = await enrolled(given, network_id, "Kreis Recklinghausen")
    other = await enrolled(given, network_id, "Atlantis")

    added = await municipalities.add_municipality(
        tx,
        MunicipalityIn(name="Recklinghausen", country="DE", kind="district"),
        organiser=PLATFORM,
        once=as_is(),
    )

    rows = {
        r["email"]: r["municipality_id"]
        for r in await pool.fetch("SELECT email, municipality_id FROM members")
    }
    assert rows[typed.email] == added["municipality_id"]
    assert rows[other.email] is None
    names = await municipalities.unresolved_names(tx, organiser=PLATFORM)
    assert [n.name for n in names] == ["Atlantis"]


async def test_adding_a_municipality_twice_is_a_conflict(tx: Transactions) -> None:
    command = MunicipalityIn(name="Kreis Recklinghausen", country="DE", kind="district")
    await municipalities.add_municipality(tx, command, organiser=PLATFORM, once=as_is())
    with pytest.raises(Conflict):
        await municipalities.add_municipality(tx, command, organiser=PLATFORM, once=as_is())


# --- seats per municipality --------------------------------------------------------------------


async def test_a_municipality_at_its_share_waits_while_seats_are_free(given: Given) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10, seats_per_municipality=2)
    first = await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
    second = await given.register(meeting_id, await enrolled(given, network_id, "Rødovre Kommune"))
    third = await given.register(meeting_id, await enrolled(given, network_id, "rodovre"))
    other = await given.register(meeting_id, await enrolled(given, network_id, "Roskilde"))

    assert [r.registration["status"] for r in (first, second, third, other)] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "confirmed",
    ]
    assert third.waitlist_position == 1


async def test_companions_count_against_the_share(given: Given) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10, seats_per_municipality=2)
    pair = await given.register(
        meeting_id, await enrolled(given, network_id, "Roskilde"), companions=1
    )
    alone = await given.register(meeting_id, await enrolled(given, network_id, "Roskilde"))
    assert (pair.registration["status"], alone.registration["status"]) == (
        "confirmed",
        "waitlisted",
    )


async def test_unresolved_names_hold_a_share_by_their_key(given: Given) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10, seats_per_municipality=1)
    first = await given.register(meeting_id, await enrolled(given, network_id, "Atlantis"))
    second = await given.register(meeting_id, await enrolled(given, network_id, "ATLANTIS Kommune"))
    other = await given.register(meeting_id, await enrolled(given, network_id, "Lemuria"))
    assert [r.registration["status"] for r in (first, second, other)] == [
        "confirmed",
        "waitlisted",
        "confirmed",
    ]


async def test_a_freed_seat_of_a_municipality_promotes_the_next_from_that_municipality(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10, seats_per_municipality=1)
    seated = await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
    roskilde = await given.register(meeting_id, await enrolled(given, network_id, "Roskilde"))
    waits_roskilde = await given.register(meeting_id, await enrolled(given, network_id, "Roskilde"))
    waits_rodovre = await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
    assert roskilde.registration["status"] == "confirmed"

    await registrations.cancel_registration(
        tx, ctx, seated.registration["id"], token=None, organiser=PLATFORM, once=as_is()
    )

    statuses = {
        name: (await registrations.get_registration(tx, r.registration["id"], organiser=PLATFORM))[
            0
        ]["status"]
        for name, r in (("roskilde", waits_roskilde), ("rodovre", waits_rodovre))
    }
    assert statuses == {"roskilde": "waitlisted", "rodovre": "confirmed"}


async def test_promotion_never_passes_capacity_nor_a_share(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=2, seats_per_municipality=1)
    a = await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
    b = await given.register(meeting_id, await enrolled(given, network_id, "Roskilde"))
    waiting = [
        await given.register(meeting_id, await enrolled(given, network_id, name))
        for name in ("Rødovre", "Køge", "Roskilde")
    ]
    assert [w.registration["status"] for w in waiting] == ["waitlisted"] * 3

    await registrations.cancel_registration(
        tx, ctx, b.registration["id"], token=None, organiser=PLATFORM, once=as_is()
    )

    after = [
        (await registrations.get_registration(tx, w.registration["id"], organiser=PLATFORM))[0][
            "status"
        ]
        for w in waiting
    ]
    # Rødovre still holds its one seat; Køge, next in order that fits, takes the free one.
    assert after == ["waitlisted", "confirmed", "waitlisted"]
    assert a.registration["status"] == "confirmed"


async def test_a_larger_share_or_none_promotes_those_waiting_for_it(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10, seats_per_municipality=1)
    await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
    waiting = [
        await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))
        for _ in range(2)
    ]

    grown = await meetings.update_meeting(
        tx,
        ctx,
        meeting_id,
        MeetingPatch(seats_per_municipality=2),
        organiser=PLATFORM,
    )
    assert grown["seats_per_municipality"] == 2 and grown["seats_taken"] == 2
    unset = await meetings.update_meeting(
        tx,
        ctx,
        meeting_id,
        MeetingPatch.model_validate({"seats_per_municipality": None}),
        organiser=PLATFORM,
    )
    assert unset["seats_per_municipality"] is None and unset["seats_taken"] == 3
    assert unset["waitlist_length"] == 0
    del waiting


async def test_a_share_below_what_a_municipality_holds_is_refused(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=10)
    for _ in range(2):
        await given.register(meeting_id, await enrolled(given, network_id, "Rødovre"))

    with pytest.raises(Conflict) as refused:
        await meetings.update_meeting(
            tx, ctx, meeting_id, MeetingPatch(seats_per_municipality=1), organiser=PLATFORM
        )
    assert refused.value.slug == "share-below-confirmed"
    kept = await meetings.update_meeting(
        tx, ctx, meeting_id, MeetingPatch(seats_per_municipality=2), organiser=PLATFORM
    )
    assert kept["seats_per_municipality"] == 2
