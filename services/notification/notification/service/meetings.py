"""Meeting events: keep the local copy; a change people see (time, place, online link, title)
or a cancellation is news for everyone registered (with the calendar entry updated or
withdrawn)."""

from __future__ import annotations

from typing import Any

import asyncpg

from notification import rendering
from notification.repository import meetings, registrations, reminders
from notification.service.recipients import Entry, Outgoing, is_over, to_party
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingCancelled, MeetingScheduled, MeetingUpdated

# The fields of `MeetingUpdated.changed` a person sees, by what they are to them; any other
# (capacity, deadline, description, status…) is news to nobody.
SEEN = {
    "starts_at": "time",
    "ends_at": "time",
    "timezone": "time",
    "location": "place",
    "online_url": "online",
    "title": "title",
}


async def meeting_scheduled(
    conn: Connection, settings: Settings, payload: MeetingScheduled, version: int
) -> list[Outgoing]:
    """Only kept: nobody is registered yet."""
    await meetings.store_meeting(conn, payload, version=version)
    return []


async def meeting_updated(
    conn: Connection, settings: Settings, payload: MeetingUpdated, version: int
) -> list[Outgoing]:
    """Kept; when it moved, its reminders move; a change people see reaches everyone
    registered, one email each: `meeting_rescheduled` when the time changed (naming any other
    change with it), else `meeting_changed`. The online link is news to the confirmed only."""
    before = await meetings.get_meeting(conn, payload.meeting_id)
    if not await meetings.store_meeting(conn, payload, version=version):
        return []  # an older state than we hold, or one handled before
    seen = seen_changes(payload, before)
    if "time" in seen:
        await reminders.move_meeting_reminders(
            conn, payload.meeting_id, due_at=payload.starts_at - settings.reminder_lead_delta
        )
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    assert meeting is not None  # stored just above
    if not seen or is_over(meeting):
        return []  # nothing anyone sees, or moved into the past: a record corrected
    template = "meeting_rescheduled" if "time" in seen else "meeting_changed"
    outgoing = []
    for registration in await registrations.active_registrations(conn, payload.meeting_id):
        confirmed = registration["status"] == "confirmed"
        theirs = seen if confirmed else seen - {"online"}
        if not theirs:
            continue  # only the online link changed, which the waitlisted are not given
        entry = None
        if confirmed:
            entry = Entry(await registrations.raise_calendar_sequence(conn, registration["id"]))
        outgoing += to_party(
            settings,
            registration,
            template,
            meeting,
            entry,
            cancel_url=registration["cancel_url"],
            news=_news(theirs, before, registration["language"]),
            online=confirmed,
        )
    return outgoing


def seen_changes(payload: MeetingUpdated, before: asyncpg.Record | None) -> set[str]:
    """What of the update people see: "time", "place", "online", "title". An event written
    before `changed` existed says only whether the meeting moved. A field named but equal to
    what our copy held is no news (people were told that value)."""
    if not payload.changed:
        return {"time"} if payload.rescheduled else set()
    new = payload.model_dump()
    return {
        SEEN[field]
        for field in payload.changed
        if field in SEEN and (before is None or before[field] != new[field])
    }


def _news(seen: set[str], before: asyncpg.Record | None, language: str) -> dict[str, Any]:
    """What changed and what it was (from our copy before the update: what people were told)."""
    was: dict[str, Any] = {}
    if before is not None:
        was = {"title": before["title"], "location": before["location"]}
        if "time" in seen:
            was["when"] = rendering.format_when(
                before["starts_at"], before["ends_at"], before["timezone"], language
            )
    return {"changes": sorted(seen), "was": was}


async def meeting_cancelled(
    conn: Connection, settings: Settings, payload: MeetingCancelled, version: int
) -> list[Outgoing]:
    """Marked cancelled, its reminders dropped, and everyone registered told (the confirmed
    with their calendar entry withdrawn)."""
    if not await meetings.cancel_meeting(conn, payload.meeting_id, version=version):
        return []
    await reminders.drop_meeting_reminders(conn, payload.meeting_id)
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    assert meeting is not None  # updated just above
    if is_over(meeting):
        return []
    outgoing = []
    for registration in await registrations.active_registrations(conn, payload.meeting_id):
        entry = None
        if registration["status"] == "confirmed":
            sequence = await registrations.raise_calendar_sequence(conn, registration["id"])
            entry = Entry(sequence, cancel=True)
        outgoing += to_party(settings, registration, "meeting_cancelled", meeting, entry)
    return outgoing
