"""Changing a meeting, and writing down one that was held."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg

from registration.service import history, meetings, registrations
from registration.service.commands import HeldMeetingIn, MeetingPatch
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import meeting_body, member
from tests.registration.service.conftest import PLATFORM, Given, outbox


async def test_a_patch_changes_the_fields_given_and_more_seats_promote_the_waitlist(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=1, location="Rødovre")
    await given.register(meeting_id, await given.member(network_id))
    waiting = await given.register(meeting_id, await given.member(network_id))
    before = await pool.fetchrow("SELECT * FROM meetings WHERE id = $1", meeting_id)

    changed = await meetings.update_meeting(
        tx,
        ctx,
        meeting_id,
        MeetingPatch.model_validate({"capacity": 2, "description": "Med frokost"}),
        organiser=PLATFORM,
    )

    assert (changed["capacity"], changed["description"]) == (2, "Med frokost")
    kept = ("title", "starts_at", "ends_at", "location", "timezone", "speakers")
    assert {key: changed[key] for key in kept} == {key: before[key] for key in kept}
    assert changed["version"] > before["version"]
    promoted, _ = await registrations.get_registration(
        tx, waiting.registration["id"], organiser=PLATFORM
    )
    assert promoted["status"] == "confirmed"
    assert (await outbox(pool, aggregate_id=meeting_id))[-2:] == [
        "MeetingUpdated",
        "RegistrationPromoted",
    ]


async def test_a_patch_of_the_place_names_only_the_place_as_changed(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, location="Rødovre")

    await meetings.update_meeting(
        tx,
        ctx,
        meeting_id,
        # The title as it is: named in the PATCH, but not a change.
        MeetingPatch.model_validate({"location": "Køge", "title": meeting_body()["title"]}),
        organiser=PLATFORM,
    )

    envelope = await pool.fetchval(
        "SELECT envelope FROM outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1", meeting_id
    )
    payload = (json.loads(envelope) if isinstance(envelope, str) else envelope)["payload"]
    assert (payload["location"], payload["changed"]) == ("Køge", ["location"])
    assert payload["rescheduled"] is False


async def test_a_held_meeting_is_recorded_with_each_event_at_its_own_time(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    registered_at = starts - timedelta(days=7)
    command = HeldMeetingIn.model_validate(
        {
            **meeting_body(),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "registrations": [
                {"member": member(), "registered_at": registered_at.isoformat(), "attended": True}
            ],
        }
    )

    meeting = await history.record_held_meeting(
        tx, ctx, network_id, command, organiser=PLATFORM, once=as_is()
    )

    rows = await pool.fetch(
        "SELECT event_type, (envelope ->> 'occurred_at')::timestamptz AS at FROM outbox "
        "WHERE event_type <> 'NetworkCreated' ORDER BY id"
    )
    assert [(row["event_type"], row["at"]) for row in rows] == [
        ("MeetingScheduled", registered_at),
        ("MemberEnrolled", registered_at),
        ("RegistrationConfirmed", registered_at),
        ("AttendanceRecorded", starts),
    ]
    assert meeting["seats_taken"] == 1
