"""Registration events: keep the local copy, schedule or drop its reminder, and tell the member
(and their companions) what became of it."""

from __future__ import annotations

import asyncpg

from notification.repository import meetings, registrations, reminders
from notification.service.recipients import (
    Entry,
    Outgoing,
    is_over,
    to_companions,
    to_member,
    to_party,
)
from notification.service.reminders import schedule_reminder
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationState,
    RegistrationWaitlisted,
)


async def registration_changed(
    conn: Connection, settings: Settings, payload: RegistrationState, version: int
) -> list[Outgoing]:
    """Any registration event but attendance (which is news to nobody)."""
    registration = await registrations.store_registration(conn, payload, version=version)
    if registration is None:
        return []  # an older state than we hold: nothing to tell anyone
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    if isinstance(payload, RegistrationCancelled):
        await reminders.drop_reminder(conn, payload.registration_id)
    elif payload.status == "confirmed" and meeting is not None:
        await schedule_reminder(conn, settings, payload, meeting)
    if payload.personal is None or meeting is None or is_over(meeting):
        return []  # a meeting that is over: no confirmation, waitlist or cancel notice
    return await _news(conn, settings, payload, registration, meeting)


async def _news(
    conn: Connection,
    settings: Settings,
    payload: RegistrationState,
    registration: asyncpg.Record,
    meeting: asyncpg.Record,
) -> list[Outgoing]:
    match payload:
        case RegistrationConfirmed() | RegistrationPromoted():
            template = (
                "registration_confirmed"
                if isinstance(payload, RegistrationConfirmed)
                else "registration_promoted"
            )
            entry = Entry(registration["calendar_sequence"])
            return [
                to_member(settings, registration, template, meeting, entry, payload),
                *to_companions(settings, registration, template, meeting, entry),
            ]
        case RegistrationWaitlisted():
            return [
                to_member(settings, registration, "registration_waitlisted", meeting, None, payload)
            ]
        case RegistrationCancelled(cancelled_by="offer_expired"):
            return []  # a lapsed offer: its own email (service/offers.py) has said so
        case RegistrationCancelled():
            withdrawal = None
            if payload.previous_status == "confirmed":
                sequence = await registrations.raise_calendar_sequence(conn, registration["id"])
                withdrawal = Entry(sequence, cancel=True)
            return to_party(settings, registration, "registration_cancelled", meeting, withdrawal)
    return []
