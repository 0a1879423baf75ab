"""A change people see (place, online link, title, time) reaches everyone registered once,
with their calendar entry updated; a change nobody sees reaches no one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import icalendar

from devstack.smtp import MailCatcher
from notification.dispatcher import Dispatcher
from tests.notification.conftest import Meeting, notification_settings
from tilmeld_shared.calendar import entry_uid
from tilmeld_shared.events import MeetingUpdated, RegistrationConfirmed, RegistrationWaitlisted

Handle = Callable[..., Any]
ROOM_1 = "https://meet.example/room-1"
LINK = "https://meet.example/room-2"


async def rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM notifications ORDER BY recipient")


def event_in(ics: str) -> icalendar.Event:
    return next(iter(icalendar.Calendar.from_ical(ics).walk("VEVENT")))


async def registered(handle: Handle, meeting: Meeting) -> uuid.UUID:
    """A confirmed member and a waitlisted one, each with a companion; the confirmed one's id."""
    confirmed = uuid.uuid4()
    await handle(
        meeting.scheduled(online_url=ROOM_1),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=confirmed,
            email="karen@ishoj.example",
            companion_email="ole@ishoj.example",
        ),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            waitlist_position=1,
            email="mette@rodovre.example",
            companion_email="jens@rodovre.example",
        ),
    )
    return confirmed


async def test_a_new_place_reaches_everyone_registered_once_with_the_entry_updated(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting()
    confirmed = await registered(handle, meeting)
    before = {r["recipient"]: r for r in await rows(pool)}
    new_place = meeting.scheduled(
        MeetingUpdated, online_url=ROOM_1, location="Køge Rådhus", changed=["location"]
    )

    await handle(new_place, new_place)
    # Named again under a newer version, though our copy already holds it: no news.
    again = meeting.scheduled(
        MeetingUpdated, online_url=ROOM_1, location="Køge Rådhus", changed=["location"]
    )
    await handle(again)

    changes = [r for r in await rows(pool) if r["template"].endswith("changed")]
    assert [(n["recipient"], n["template"]) for n in changes] == [
        ("jens@rodovre.example", "companion_meeting_changed"),
        ("karen@ishoj.example", "meeting_changed"),
        ("mette@rodovre.example", "meeting_changed"),
        ("ole@ishoj.example", "companion_meeting_changed"),
    ]
    for notice in changes:
        assert "Nyt sted: Køge Rådhus (tidligere Kulturværftet, Helsingør)" in notice["body_text"]
    notices = {n["recipient"]: n for n in changes}
    for recipient, companion_email in (
        ("karen@ishoj.example", None),
        ("ole@ishoj.example", "ole@ishoj.example"),
    ):
        event = event_in(notices[recipient]["calendar"])
        first = event_in(before[recipient]["calendar"])
        assert str(event["UID"]) == str(first["UID"])
        assert str(event["UID"]) == entry_uid(confirmed, companion_email=companion_email)
        assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
        assert str(event["LOCATION"]) == "Køge Rådhus"
    assert notices["mette@rodovre.example"]["calendar"] is None  # waitlisted: no entry yet
    assert notices["jens@rodovre.example"]["calendar"] is None

    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    await dispatcher.send_due()
    await dispatcher.send_due()
    changed = [m for m in smtp.mails if "Køge Rådhus" in m.message.get_body().get_content()]
    assert sorted(m.message["To"] for m in changed) == sorted(notices)


async def test_a_new_online_link_goes_to_the_confirmed_only(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="en")
    await registered(handle, meeting)

    await handle(meeting.scheduled(MeetingUpdated, online_url=LINK, changed=["online_url"]))
    await handle(meeting.scheduled(MeetingUpdated, online_url=LINK, changed=["capacity"]))

    notices = [r for r in await rows(pool) if r["template"].endswith("changed")]
    assert sorted((n["recipient"], n["template"]) for n in notices) == [
        ("karen@ishoj.example", "meeting_changed"),
        ("ole@ishoj.example", "companion_meeting_changed"),
    ]
    for notice in notices:
        assert f"New online link: {LINK}" in notice["body_text"]
        assert str(event_in(notice["calendar"])["URL"]) == LINK


async def test_a_new_title_reaches_the_waitlisted_without_the_link(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="en")
    await registered(handle, meeting)

    await handle(
        meeting.scheduled(
            MeetingUpdated, title="Møde 2", online_url=LINK, changed=["title", "online_url"]
        )
    )

    notices = {r["recipient"]: r for r in await rows(pool) if r["template"].endswith("changed")}
    assert len(notices) == 4
    waitlisted = notices["mette@rodovre.example"]
    assert 'New title: "Møde 2"' in waitlisted["body_text"]
    assert LINK not in waitlisted["body_text"] and LINK not in waitlisted["body_html"]
    assert LINK in notices["karen@ishoj.example"]["body_text"]


async def test_a_move_and_a_new_place_together_are_one_email_each(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="en")
    await registered(handle, meeting)
    later = meeting.starts_at + timedelta(days=2)

    await handle(
        meeting.scheduled(
            MeetingUpdated,
            starts_at=later,
            ends_at=later + timedelta(hours=2),
            location="Køge Rådhus",
            online_url=ROOM_1,
            rescheduled=True,
            changed=["starts_at", "ends_at", "location"],
        )
    )

    notices = [r for r in await rows(pool) if r["template"].endswith("meeting_rescheduled")]
    assert sorted(n["template"] for n in notices) == [
        "companion_meeting_rescheduled",
        "companion_meeting_rescheduled",
        "meeting_rescheduled",
        "meeting_rescheduled",
    ]
    for notice in notices:
        assert "New place: Køge Rådhus (previously Kulturværftet, Helsingør)" in notice["body_text"]
        assert "Previous time:" in notice["body_text"]


async def test_a_change_nobody_sees_sends_nothing(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting()
    await registered(handle, meeting)
    before = len(await rows(pool))

    await handle(
        meeting.scheduled(MeetingUpdated, capacity=40, capacity_changed=True, changed=["capacity"]),
        meeting.scheduled(MeetingUpdated, capacity=40, changed=["description", "open_to_public"]),
    )

    assert len(await rows(pool)) == before
