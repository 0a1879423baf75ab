"""Feedback after a meeting: once it is held (and asks for feedback), each person who
attended gets the link to give theirs, once, whatever is redelivered or published again.

The attendance event brings the person's link (sealed with them); someone checked in only
after the meeting was held is asked as soon as their attendance arrives. No-shows, the
waitlisted and companions (who have no registration of their own to answer for) are not asked.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from notification.repository import feedback as feedback_rows
from notification.repository import meetings, registrations
from notification.service.meetings import meeting_updated
from notification.service.recipients import Outgoing, to_member
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import AttendanceRecorded, AttendanceUndone, MeetingUpdated

TEMPLATE = "feedback_request"


async def attendance_recorded(
    conn: Connection, settings: Settings, payload: AttendanceRecorded, version: int
) -> list[Outgoing]:
    """Kept, with the person's feedback link; news to them only if the meeting was held
    already and asks for feedback."""
    await registrations.store_registration(conn, payload, version=version)
    await feedback_rows.store_attendee(
        conn,
        registration_id=payload.registration_id,
        meeting_id=payload.meeting_id,
        member_id=payload.member_id,
        feedback_url=payload.personal.action_url if payload.personal else None,
        checked_in_at=payload.checked_in_at,
    )
    if not await feedback_rows.asked(conn, payload.meeting_id):
        return []
    return await _requests(conn, settings, payload.meeting_id, payload.registration_id)


async def attendance_undone(
    conn: Connection, settings: Settings, payload: AttendanceUndone, version: int
) -> list[Outgoing]:
    """A check-in taken back: the person did not come after all, so is not asked (a
    companion's check-in taken back changes nothing here)."""
    if payload.companion_index is None:
        await feedback_rows.forget_attendee(conn, payload.registration_id)
    return []


async def meeting_updated_or_held(
    conn: Connection, settings: Settings, payload: MeetingUpdated, version: int
) -> list[Outgoing]:
    """A meeting's update (service/meetings.py); once it is held and asks for feedback, its
    attendees are asked for theirs."""
    outgoing = await meeting_updated(conn, settings, payload, version)
    if payload.status != "held" or not payload.feedback:
        return outgoing
    await feedback_rows.ask(conn, payload.meeting_id, held_at=datetime.now(UTC))
    return [*outgoing, *await _requests(conn, settings, payload.meeting_id)]


async def _requests(
    conn: Connection,
    settings: Settings,
    meeting_id: uuid.UUID,
    registration_id: uuid.UUID | None = None,
) -> list[Outgoing]:
    """The request to each attendee of the meeting (or to this registration's person)."""
    meeting = await meetings.get_meeting(conn, meeting_id)
    if meeting is None:
        return []
    if meeting["ends_at"] < datetime.now(UTC) - settings.mail_events_within_delta:
        return []  # a meeting long over (one recorded afterwards, say): history, not news
    attendees = await feedback_rows.to_ask(conn, meeting_id, registration_id)
    return [_request(settings, attendee, meeting) for attendee in attendees]


def _request(settings: Settings, attendee: asyncpg.Record, meeting: asyncpg.Record) -> Outgoing:
    # Keyed by the registration: one request each, however the meeting's held event or the
    # attendance is redelivered or published again.
    email = to_member(
        settings, attendee, TEMPLATE, meeting, None, None, key=f"{TEMPLATE}:{attendee['id']}"
    )
    email.context["action_url"] = attendee["feedback_url"]
    email.context["cancel_url"] = None  # the meeting is over: nothing left to cancel
    email.context["meeting"]["online_url"] = None
    return email
