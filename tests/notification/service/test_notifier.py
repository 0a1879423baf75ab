"""Which emails each event causes, against real Postgres."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import icalendar
import pytest

from notification.service.events import handle_event
from notification.service.reminders import queue_due_reminders
from notification.settings import Settings
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    MeetingCancelled,
    MeetingUpdated,
    MemberErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)

Handle = Callable[..., Any]


async def rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM notifications ORDER BY created_at, template")


def parsed(ics: str) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(ics)
    return calendar, next(iter(calendar.walk("VEVENT")))


async def test_a_confirmation_goes_to_the_member_and_their_companion_with_an_invitation(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    registration_id = uuid.uuid4()

    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=registration_id,
            companion_email="ole@ishoj.example",
        ),
    )

    by_recipient = {r["recipient"]: r for r in await rows(pool)}
    member, companion = by_recipient["karen@ishoj.example"], by_recipient["ole@ishoj.example"]
    assert (member["recipient"], member["template"]) == (
        "karen@ishoj.example",
        "registration_confirmed",
    )
    assert (companion["recipient"], companion["template"]) == (
        "ole@ishoj.example",
        "companion_registered",
    )
    assert "Karen Hansen har tilmeldt dig som ledsager" in companion["body_text"]
    calendar, event = parsed(member["calendar"])
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{registration_id}@tilmeld"
    assert int(event["SEQUENCE"]) == 0
    assert "<html" in member["body_html"] and "Karen Hansen" in member["body_html"]


async def test_the_same_event_delivered_three_times_queues_one_email(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    scheduled = meeting.scheduled()
    confirmed = meeting.registration(RegistrationConfirmed, status="confirmed")

    await handle(scheduled, confirmed, confirmed, confirmed)

    assert len(await rows(pool)) == 1


async def test_waitlist_and_promotion_each_tell_the_member(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="nb")
    registration_id = uuid.uuid4()

    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=registration_id,
            waitlist_position=2,
        ),
        meeting.registration(
            RegistrationPromoted, status="confirmed", registration_id=registration_id
        ),
    )

    waitlisted, promoted = await rows(pool)
    assert waitlisted["subject"].startswith("Du står på venteliste")
    assert "nummer 2" in waitlisted["body_text"]
    assert promoted["subject"].startswith("Du har fått plass")
    assert promoted["calendar"] is not None


async def test_a_reschedule_moves_the_reminder_raises_the_sequence_and_tells_each_once(
    handle: Handle, pool: asyncpg.Pool, settings: Settings
) -> None:
    meeting = Meeting(days_ahead=10)
    registration_id = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=registration_id,
            companion_email="ole@ishoj.example",
        ),
    )
    later = meeting.starts_at + timedelta(days=3)

    moved = meeting.scheduled(
        MeetingUpdated, starts_at=later, ends_at=later + timedelta(hours=2), rescheduled=True
    )
    await handle(moved, moved)

    notices = [r for r in await rows(pool) if r["template"].endswith("meeting_rescheduled")]
    assert sorted((n["recipient"], n["template"]) for n in notices) == [
        ("karen@ishoj.example", "meeting_rescheduled"),
        ("ole@ishoj.example", "companion_meeting_rescheduled"),
    ]
    _, event = parsed(next(n for n in notices if n["recipient"].startswith("karen"))["calendar"])
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == later
    due = await pool.fetchval(
        "SELECT due_at FROM reminders WHERE registration_id = $1", registration_id
    )
    assert due == later - settings.reminder_lead_delta


async def test_a_cancelled_meeting_cancels_the_calendar_entry_and_the_reminder(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )

    await handle(
        meeting.event(
            MeetingCancelled(meeting_id=meeting.id, network_id=meeting.network_id, cancelled_at=NOW)
        )
    )

    notice = next(r for r in await rows(pool) if r["template"] == "meeting_cancelled")
    calendar, _ = parsed(notice["calendar"])
    assert calendar["METHOD"] == "CANCEL"
    assert await pool.fetchval("SELECT count(*) FROM reminders") == 0


async def test_a_cancelled_registration_drops_its_reminder(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    registration_id = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", registration_id=registration_id
        ),
    )
    assert await pool.fetchval("SELECT count(*) FROM reminders") == 1

    await handle(
        meeting.registration(
            RegistrationCancelled,
            status="cancelled",
            registration_id=registration_id,
            previous_status="confirmed",
            cancelled_at=NOW,
            cancelled_by="member",
        )
    )

    assert await pool.fetchval("SELECT count(*) FROM reminders") == 0
    cancelled = next(r for r in await rows(pool) if r["template"] == "registration_cancelled")
    assert "METHOD:CANCEL" in cancelled["calendar"]


async def test_registering_inside_the_reminder_lead_gets_no_reminder(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=0.5)

    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )

    assert await pool.fetchval("SELECT count(*) FROM reminders") == 0


async def test_due_reminders_are_sent_once_by_two_processes_together(
    database_url: str, pool: asyncpg.Pool
) -> None:
    lead = notification_settings(database_url, reminder_lead="1d")
    meetings = [Meeting(days_ahead=1.5 + i / 1000) for i in range(40)]
    for meeting in meetings:
        async with pool.acquire() as conn, conn.transaction():
            for envelope, payload in (
                meeting.scheduled(),
                meeting.registration(
                    RegistrationConfirmed, status="confirmed", email=f"{meeting.id}@x.example"
                ),
            ):
                await handle_event(conn, lead, envelope, payload)
    await pool.execute("UPDATE reminders SET due_at = now() - interval '1 second'")

    async def one_process() -> list[uuid.UUID]:
        queued = []
        for _ in range(10):
            queued += await queue_due_reminders(pool, lead, limit=3)
        return queued

    first, second = await asyncio.gather(one_process(), one_process())

    reminders = [r for r in await rows(pool) if r["template"] == "reminder"]
    assert len(first) + len(second) == len(reminders) == 40
    assert len({r["recipient"] for r in reminders}) == 40
    assert first and second, "both processes took a share"


async def test_erasure_blanks_the_person_and_stops_what_is_pending(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    member_id = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            member_id=member_id,
            companion_email="ole@ishoj.example",
        ),
    )

    await handle(meeting.event(MemberErased(member_id=member_id, erased_at=NOW)))

    for row in await rows(pool):
        assert row["recipient"] == "erased"
        assert row["status"] == "suppressed"
        assert "Karen" not in row["body_text"]
    registration = await pool.fetchrow("SELECT * FROM registrations")
    assert (registration["name"], registration["email"]) == (None, None)


@pytest.mark.parametrize("limit", [2])
async def test_more_emails_than_the_hourly_limit_are_suppressed(
    database_url: str, pool: asyncpg.Pool, limit: int
) -> None:
    capped = notification_settings(database_url, max_emails_per_recipient_per_hour=limit)
    for _ in range(4):
        meeting = Meeting()
        async with pool.acquire() as conn, conn.transaction():
            for envelope, payload in (
                meeting.scheduled(),
                meeting.registration(RegistrationConfirmed, status="confirmed"),
            ):
                await handle_event(conn, capped, envelope, payload)

    statuses = [r["status"] for r in await rows(pool)]
    assert statuses.count("pending") == limit
    assert statuses.count("suppressed") == 4 - limit


async def test_a_companion_is_told_in_their_own_words_and_attends_their_own_calendar_entry(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="en")
    registration_id = uuid.uuid4()
    # Long enough that the member's ATTENDEE line folds in the .ics.
    member_email = "karen.hansen-kulturkonsulent@ishoj.example"
    party = {
        "registration_id": registration_id,
        "email": member_email,
        "companion_email": "ole@ishoj.example",
    }
    later = meeting.starts_at + timedelta(days=2)
    await handle(
        meeting.scheduled(),
        meeting.registration(RegistrationConfirmed, status="confirmed", **party),
        meeting.scheduled(
            MeetingUpdated, starts_at=later, ends_at=later + timedelta(hours=2), rescheduled=True
        ),
        meeting.registration(
            RegistrationCancelled,
            status="cancelled",
            previous_status="confirmed",
            cancelled_at=NOW,
            cancelled_by="member",
            **party,
        ),
    )

    mails = await rows(pool)
    to_ole = {r["template"]: r for r in mails if r["recipient"] == "ole@ishoj.example"}
    assert sorted(to_ole) == [
        "companion_cancelled",
        "companion_meeting_rescheduled",
        "companion_registered",
    ]
    for mail in to_ole.values():
        assert "your registration" not in mail["body_text"].lower()
        assert "Karen Hansen" in mail["body_text"]
    assert "your place as their companion" in to_ole["companion_cancelled"]["body_text"]
    entries = [parsed(mail["calendar"])[1] for mail in to_ole.values()]
    assert {str(e["ATTENDEE"]) for e in entries} == {"mailto:ole@ishoj.example"}
    assert {e["ATTENDEE"].params["CN"] for e in entries} == {"Ole"}
    assert len({str(e["UID"]) for e in entries}) == 1, "one entry, updated and then withdrawn"
    assert [int(e["SEQUENCE"]) for e in entries] == [0, 1, 2]
    member_entry = parsed(
        next(r for r in mails if r["template"] == "registration_confirmed")["calendar"]
    )[1]
    assert str(member_entry["ATTENDEE"]) == f"mailto:{member_email}"
    assert str(member_entry["UID"]) != str(entries[0]["UID"])
