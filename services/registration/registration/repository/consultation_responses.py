"""A consultation's responses: one per person, pending until their address is confirmed,
amended until the consultation closes, and what the organisers and the person read of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

# One per person per consultation: a second (or a concurrent twin) inserts nothing.
INSERT = """
INSERT INTO consultation_responses (id, consultation_id, member_id, status, answers, text_sealed,
                                    municipality, municipality_id, country, submitted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (consultation_id, member_id) DO NOTHING
RETURNING *
"""

RESPONSE_OF = """
SELECT * FROM consultation_responses WHERE consultation_id = $1 AND member_id = $2
"""

BY_ID = "SELECT * FROM consultation_responses WHERE id = $1"

FOR_UPDATE = "SELECT * FROM consultation_responses WHERE id = $1 FOR UPDATE"

AMEND = """
UPDATE consultation_responses
SET answers = $2, text_sealed = $3, amended_at = $4, version = version + 1
WHERE id = $1
RETURNING *
"""

# The person's responses that wait for their address to be confirmed, locked to be counted.
PENDING_OF_MEMBER = """
SELECT r.*, c.network_id FROM consultation_responses r
JOIN consultations c ON c.id = r.consultation_id
WHERE r.member_id = $1 AND r.status = 'pending'
ORDER BY r.submitted_at, r.id
FOR UPDATE OF r
"""

COUNT = """
UPDATE consultation_responses SET status = 'counted', version = version + 1
WHERE id = $1
RETURNING *
"""

# The export: every response with who gave it (blank once erased), in the order given.
EXPORT = """
SELECT r.*, m.name, m.email, m.role, m.organisation, m.data_key
FROM consultation_responses r LEFT JOIN members m ON m.id = r.member_id
WHERE r.consultation_id = $1
ORDER BY r.submitted_at, r.id
"""

OF_MEMBER = """
SELECT r.*, c.title AS consultation_title, c.network_id
FROM consultation_responses r JOIN consultations c ON c.id = r.consultation_id
WHERE r.member_id = $1
ORDER BY r.submitted_at
"""

# Erasure: who gave it and what they wrote go; the counted choice and scale answers stay, with
# the municipality, so the counts stay right.
FORGET_MEMBER = """
UPDATE consultation_responses SET member_id = NULL, text_sealed = NULL WHERE member_id = $1
"""

RESULTS = """
SELECT status, answers, municipality, municipality_id, country
FROM consultation_responses WHERE consultation_id = $1
"""


async def insert(
    conn: Connection,
    *,
    response_id: uuid.UUID,
    consultation_id: uuid.UUID,
    member: asyncpg.Record,
    status: str,
    answers: list[dict[str, Any]],
    text_sealed: dict[str, Any] | None,
    at: datetime,
) -> asyncpg.Record | None:
    """The new response, or None if the person has one already."""
    return await conn.fetchrow(
        INSERT,
        response_id,
        consultation_id,
        member["id"],
        status,
        answers,
        text_sealed,
        member["municipality"],
        member["municipality_id"],
        member["country"],
        at,
    )


async def response_of(
    conn: Connection, consultation_id: uuid.UUID, member_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(RESPONSE_OF, consultation_id, member_id)


async def get(conn: Connection, response_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, response_id)


async def lock(conn: Connection, response_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, response_id)


async def amend(
    conn: Connection,
    response_id: uuid.UUID,
    *,
    answers: list[dict[str, Any]],
    text_sealed: dict[str, Any] | None,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(AMEND, response_id, answers, text_sealed, at)
    assert row is not None
    return row


async def pending_of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(PENDING_OF_MEMBER, member_id))


async def count(conn: Connection, response_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(COUNT, response_id)
    assert row is not None
    return row


async def export(conn: Connection, consultation_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(EXPORT, consultation_id))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def forget_member(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(FORGET_MEMBER, member_id)


async def for_results(conn: Connection, consultation_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(RESULTS, consultation_id))
