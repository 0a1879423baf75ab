"""Reminders: one per confirmed registration, due `REMINDER_LEAD` before its meeting starts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A reminder already sent stays as it is. Several at once; they must be distinct registrations.
UPSERT_REMINDERS = """
INSERT INTO reminders (registration_id, meeting_id, due_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
ON CONFLICT (registration_id) DO UPDATE SET due_at = excluded.due_at
WHERE reminders.sent_at IS NULL
"""

MOVE_REMINDERS = """
UPDATE reminders SET due_at = $2 WHERE meeting_id = $1 AND sent_at IS NULL
"""

DROP_REMINDERS = """
DELETE FROM reminders WHERE registration_id = ANY($1::uuid[]) AND sent_at IS NULL
"""
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


async def schedule_reminders(
    conn: Connection, due: Sequence[tuple[uuid.UUID, uuid.UUID, datetime]]
) -> None:
    """Reminders of distinct registrations (`registration_id`, `meeting_id`, `due_at`), in one
    round trip."""
    if due:
        await conn.execute(UPSERT_REMINDERS, *(list(column) for column in zip(*due, strict=True)))


async def move_meeting_reminders(
    conn: Connection, meeting_id: uuid.UUID, *, due_at: datetime
) -> None:
    await conn.execute(MOVE_REMINDERS, meeting_id, due_at)


async def drop_reminder(conn: Connection, registration_id: uuid.UUID) -> None:
    await drop_reminders(conn, [registration_id])


async def drop_reminders(conn: Connection, registration_ids: Sequence[uuid.UUID]) -> None:
    """The registrations' reminders not yet sent, gone, in one round trip."""
    if registration_ids:
        await conn.execute(DROP_REMINDERS, list(registration_ids))


async def drop_meeting_reminders(conn: Connection, meeting_id: uuid.UUID) -> None:
    await conn.execute(DROP_MEETING_REMINDERS, meeting_id)


async def claim_due_reminders(conn: Connection, *, limit: int) -> list[asyncpg.Record]:
    """Mark up to `limit` due reminders sent and return them (`registration_id`, `meeting_id`)."""
    return await conn.fetch(CLAIM_DUE_REMINDERS, limit)
