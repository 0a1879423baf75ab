"""Who attended a meeting (with their feedback link), and which held meetings ask for
feedback."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A link once known is kept: an attendance event whose personal data could not be opened
# carries none.
UPSERT_ATTENDEE = """
INSERT INTO attendees (registration_id, meeting_id, member_id, feedback_url, checked_in_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (registration_id) DO UPDATE
SET feedback_url = coalesce(excluded.feedback_url, attendees.feedback_url)
"""

ASK = """
INSERT INTO feedback_asked (meeting_id, held_at) VALUES ($1, $2)
ON CONFLICT (meeting_id) DO NOTHING
"""

ASKED = "SELECT 1 FROM feedback_asked WHERE meeting_id = $1"

# The attendees with someone to write to and a link to send: still confirmed (a registration
# cancelled since has left the meeting's people), not erased.
TO_ASK = """
SELECT r.*, a.feedback_url
FROM attendees a JOIN registrations r ON r.id = a.registration_id
WHERE a.meeting_id = $1 AND ($2::uuid IS NULL OR a.registration_id = $2)
  AND a.feedback_url IS NOT NULL AND r.email IS NOT NULL AND r.status = 'confirmed'
"""

FORGET_ATTENDEE = "DELETE FROM attendees WHERE registration_id = $1"

ERASE_MEMBER = "UPDATE attendees SET feedback_url = NULL WHERE member_id = $1"


async def store_attendee(
    conn: Connection,
    *,
    registration_id: uuid.UUID,
    meeting_id: uuid.UUID,
    member_id: uuid.UUID,
    feedback_url: str | None,
    checked_in_at: datetime,
) -> None:
    await conn.execute(
        UPSERT_ATTENDEE, registration_id, meeting_id, member_id, feedback_url, checked_in_at
    )


async def ask(conn: Connection, meeting_id: uuid.UUID, *, held_at: datetime) -> None:
    await conn.execute(ASK, meeting_id, held_at)


async def asked(conn: Connection, meeting_id: uuid.UUID) -> bool:
    return await conn.fetchval(ASKED, meeting_id) is not None


async def to_ask(
    conn: Connection, meeting_id: uuid.UUID, registration_id: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """The meeting's attendees to ask for feedback (only this registration, if named)."""
    return list(await conn.fetch(TO_ASK, meeting_id, registration_id))


async def forget_attendee(conn: Connection, registration_id: uuid.UUID) -> None:
    await conn.execute(FORGET_ATTENDEE, registration_id)


async def erase_member(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(ERASE_MEMBER, member_id)
