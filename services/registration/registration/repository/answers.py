"""Answers to a meeting's registration questions, sealed on the registration's row."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# The answers of a meeting's registrations, with the key that opens each person's.
OF_MEETING = """
SELECT r.id, r.answers_sealed, m.data_key
FROM registrations r JOIN members m ON m.id = r.member_id
WHERE r.meeting_id = $1 AND r.answers_sealed IS NOT NULL
"""

OF_REGISTRATIONS = """
SELECT r.id, r.answers_sealed, m.data_key
FROM registrations r JOIN members m ON m.id = r.member_id
WHERE r.id = ANY($1::uuid[]) AND r.answers_sealed IS NOT NULL
"""

# A person's answers with the questions they answered (their export).
OF_MEMBER = """
SELECT r.id AS registration_id, r.meeting_id, mt.title AS meeting_title, mt.questions,
       r.answers_sealed, r.answers_erased_at, m.data_key
FROM registrations r JOIN members m ON m.id = r.member_id JOIN meetings mt ON mt.id = r.meeting_id
WHERE r.member_id = $1 AND (r.answers_sealed IS NOT NULL OR r.answers_erased_at IS NOT NULL)
ORDER BY r.position
"""

# The answers whose time is up: the meeting ended longer ago than its retention (the default
# where it names none). Claimed with SKIP LOCKED, so two processes erase different rows and a
# registration another use case holds is left for the next run.
ERASE_EXPIRED = """
WITH due AS (
    SELECT r.id
    FROM registrations r JOIN meetings m ON m.id = r.meeting_id
    WHERE r.answers_sealed IS NOT NULL
      AND m.ends_at + make_interval(days => coalesce(m.answers_retention_days, $2)) <= $1
    LIMIT $3
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE registrations r SET answers_sealed = NULL, answers_erased_at = $1
FROM due WHERE r.id = due.id
"""

ERASE_OF_MEMBER = """
UPDATE registrations SET answers_sealed = NULL, answers_erased_at = $2
WHERE member_id = $1 AND answers_sealed IS NOT NULL
"""


async def of_meeting(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEETING, meeting_id))


async def of_registrations(
    conn: Connection, registration_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_REGISTRATIONS, registration_ids))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def erase_expired(conn: Connection, *, now: datetime, default_days: int, limit: int) -> int:
    """Erase a batch of answers past their retention; how many registrations lost theirs."""
    status = await conn.execute(ERASE_EXPIRED, now, default_days, limit)
    return int(status.split()[-1])


async def erase_of_member(conn: Connection, member_id: uuid.UUID, *, at: datetime) -> None:
    await conn.execute(ERASE_OF_MEMBER, member_id, at)
