"""Attendees' feedback on a held meeting: one per registration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO meeting_feedback (id, meeting_id, registration_id, answers, text_sealed, submitted_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (registration_id) DO NOTHING
RETURNING *
"""

OF_REGISTRATION = "SELECT * FROM meeting_feedback WHERE registration_id = $1"

# A meeting's feedback for its organisers, with the key that opens each person's free text.
OF_MEETING = """
SELECT f.*, m.data_key, m.id AS member_id
FROM meeting_feedback f JOIN registrations r ON r.id = f.registration_id
JOIN members m ON m.id = r.member_id
WHERE f.meeting_id = $1
ORDER BY f.submitted_at, f.id
"""

OF_MEMBER = """
SELECT f.*, mt.title AS meeting_title, m.data_key
FROM meeting_feedback f JOIN registrations r ON r.id = f.registration_id
JOIN members m ON m.id = r.member_id JOIN meetings mt ON mt.id = f.meeting_id
WHERE r.member_id = $1
ORDER BY f.submitted_at
"""

# What the person wrote goes with them; the choices and numbers stay, tied to no one.
ERASE_TEXT_OF_MEMBER = """
UPDATE meeting_feedback SET text_sealed = NULL
WHERE text_sealed IS NOT NULL
  AND registration_id IN (SELECT id FROM registrations WHERE member_id = $1)
"""


async def insert(
    conn: Connection,
    *,
    feedback_id: uuid.UUID,
    meeting_id: uuid.UUID,
    registration_id: uuid.UUID,
    answers: list[dict[str, Any]],
    text_sealed: dict[str, Any] | None,
    submitted_at: datetime,
) -> asyncpg.Record | None:
    """The feedback stored, or None when the registration had given its feedback already."""
    return await conn.fetchrow(
        INSERT, feedback_id, meeting_id, registration_id, answers, text_sealed, submitted_at
    )


async def of_registration(conn: Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(OF_REGISTRATION, registration_id)


async def of_meeting(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEETING, meeting_id))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def erase_text_of_member(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(ERASE_TEXT_OF_MEMBER, member_id)
