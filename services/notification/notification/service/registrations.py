"""Registration events: keep the local copy, schedule or drop its reminder, and tell the member
(and their companions) what became of it."""

from __future__ import annotations

from collections.abc import Sequence

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
from notification.service.reminders import reminder_due_at
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
    [news] = await registrations_changed(conn, settings, [(payload, version)])
    return news


async def registrations_changed(
    conn: Connection, settings: Settings, changes: Sequence[tuple[RegistrationState, int]]
) -> list[list[Outgoing]]:
    """`registration_changed` for events about distinct registrations (each with its version),
    in a few round trips for them all rather than a few each; the emails of each event, in
    order. Distinct registrations share no rows, so the order of their writes is immaterial."""
    stored = await registrations.store_registrations(conn, changes)
    # An older state than we hold is news to nobody: neither its meeting nor its reminder.
    kept = [payload for payload, _ in changes if payload.registration_id in stored]
    meeting_of = await meetings.get_meetings(conn, {payload.meeting_id for payload in kept})
    await reminders.drop_reminders(
        conn, [p.registration_id for p in kept if isinstance(p, RegistrationCancelled)]
    )
    due = []
    for payload in kept:
        meeting = meeting_of.get(payload.meeting_id)
        if isinstance(payload, RegistrationCancelled) or payload.status != "confirmed":
            continue
        if meeting is not None and (due_at := reminder_due_at(settings, payload, meeting)):
            due.append((payload.registration_id, payload.meeting_id, due_at))
    await reminders.schedule_reminders(conn, due)
    news: list[list[Outgoing]] = []
    for payload, _ in changes:
        registration = stored.get(payload.registration_id)
        meeting = meeting_of.get(payload.meeting_id)
        if registration is None or payload.personal is None or meeting is None or is_over(meeting):
            news.append([])  # a meeting that is over: no confirmation, waitlist or cancel notice
        else:
            news.append(await _news(conn, settings, payload, registration, meeting))
    return news


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
