"""Meeting events: keep the local copy; a move or a cancellation is news for everyone
registered (with the calendar entry updated or withdrawn)."""

from __future__ import annotations

from notification.repository import meetings, registrations, reminders
from notification.service.recipients import Entry, Outgoing, is_over, to_party
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingCancelled, MeetingScheduled, MeetingUpdated


async def meeting_scheduled(
    conn: Connection, settings: Settings, payload: MeetingScheduled, version: int
) -> list[Outgoing]:
    """Only kept: nobody is registered yet."""
    await meetings.store_meeting(conn, payload, version=version)
    return []


async def meeting_updated(
    conn: Connection, settings: Settings, payload: MeetingUpdated, version: int
) -> list[Outgoing]:
    """Kept; when it moved, its reminders move and everyone registered hears of it."""
    changed = await meetings.store_meeting(conn, payload, version=version)
    if not changed or not payload.rescheduled:
        return []
    await reminders.move_meeting_reminders(
        conn, payload.meeting_id, due_at=payload.starts_at - settings.reminder_lead_delta
    )
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    assert meeting is not None  # stored just above
    if is_over(meeting):
        return []  # moved into the past: a record corrected, nothing anyone can attend
    outgoing = []
    for registration in await registrations.active_registrations(conn, payload.meeting_id):
        entry = None
        if registration["status"] == "confirmed":
            entry = Entry(await registrations.raise_calendar_sequence(conn, registration["id"]))
        outgoing += to_party(
            settings,
            registration,
            "meeting_rescheduled",
            meeting,
            entry,
            cancel_url=registration["cancel_url"],
        )
    return outgoing


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
