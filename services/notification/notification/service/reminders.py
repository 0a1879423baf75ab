"""Reminders: scheduled when a registration is confirmed, queued as emails once due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from notification.repository import meetings, registrations, reminders
from notification.service.queueing import queue
from notification.service.recipients import Outgoing, to_member
from notification.settings import Settings
from tilmeld_shared.events import RegistrationState


def reminder_due_at(
    settings: Settings, payload: RegistrationState, meeting: asyncpg.Record
) -> datetime | None:
    """`REMINDER_LEAD` before the meeting, or None when that is before they registered."""
    due_at: datetime = meeting["starts_at"] - settings.reminder_lead_delta
    # Someone registering inside the lead time has just had the details; no reminder.
    return due_at if due_at > payload.registered_at else None


async def queue_due_reminders(
    pool: asyncpg.Pool, settings: Settings, *, limit: int = 100
) -> list[uuid.UUID]:
    """Claim due reminders and queue their emails, in one transaction (the use case); returns
    the ids of notifications to send. SKIP LOCKED: processes running it at once never take the
    same reminder."""
    async with pool.acquire() as conn, conn.transaction():
        outgoing: list[Outgoing] = []
        for due in await reminders.claim_due_reminders(conn, limit=limit):
            registration = await registrations.get_registration(conn, due["registration_id"])
            meeting = await meetings.get_meeting(conn, due["meeting_id"])
            if (
                registration is None
                or meeting is None
                or registration["email"] is None
                or registration["status"] != "confirmed"
                or meeting["status"] == "cancelled"
                or meeting["starts_at"] <= datetime.now(UTC)
            ):
                continue
            key = f"reminder:{registration['id']}:{meeting['starts_at'].isoformat()}"
            outgoing.append(
                to_member(settings, registration, "reminder", meeting, None, None, key=key)
            )
        return await queue(conn, settings, outgoing, dedupe_prefix=None, event_id=None)
