"""Reminders: one per confirmed registration, due `REMINDER_LEAD` before its meeting starts."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A reminder already sent stays as it is.
UPSERT_REMINDER = """
INSERT INTO reminders (registration_id, meeting_id, due_at) VALUES ($1, $2, $3)
ON CONFLICT (registration_id) DO UPDATE SET due_at = excluded.due_at
WHERE reminders.sent_at IS NULL
"""

MOVE_REMINDERS = """
UPDATE reminders SET due_at = $2 WHERE meeting_id = $1 AND sent_at IS NULL
"""

DROP_REMINDER = "DELETE FROM reminders WHERE registration_id = $1 AND sent_at IS NULL"
DROP_MEETING_REMINDERS = "DELETE FROM reminders WHERE meeting_id = $1 AND sent_at IS NULL"

# SKIP LOCKED: two processes never claim the same reminder.
CLAIM_DUE_REMINDERS = """
UPDATE reminders r SET sent_at = now()
FROM (
    SELECT registration_id FROM reminders
    WHERE sent_at IS NULL AND due_at <= now()
    ORDER BY due_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE r.registration_id = due.registration_id
RETURNING r.registration_id, r.meeting_id, r.due_at
"""


async def schedule_reminder(
    conn: Connection, registration_id: uuid.UUID, *, meeting_id: uuid.UUID, due_at: datetime
) -> None:
    await conn.execute(UPSERT_REMINDER, registration_id, meeting_id, due_at)


async def move_meeting_reminders(
    conn: Connection, meeting_id: uuid.UUID, *, due_at: datetime
) -> None:
    await conn.execute(MOVE_REMINDERS, meeting_id, due_at)


async def drop_reminder(conn: Connection, registration_id: uuid.UUID) -> None:
    await conn.execute(DROP_REMINDER, registration_id)


async def drop_meeting_reminders(conn: Connection, meeting_id: uuid.UUID) -> None:
    await conn.execute(DROP_MEETING_REMINDERS, meeting_id)


async def claim_due_reminders(conn: Connection, *, limit: int) -> list[asyncpg.Record]:
    """Mark up to `limit` due reminders sent and return them (`registration_id`, `meeting_id`)."""
    return await conn.fetch(CLAIM_DUE_REMINDERS, limit)
