"""Arrivals at the door: the member's (registrations.checked_in_at) and each companion's."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

# A companion's arrival is recorded once: adding an index already there changes nothing.
COMPANION_ARRIVED = """
UPDATE registrations
SET companions_arrived = (SELECT array_agg(DISTINCT i ORDER BY i)
                          FROM unnest(companions_arrived || $2::smallint) AS i)
WHERE id = $1
RETURNING *
"""

COMPANION_LEFT = """
UPDATE registrations SET companions_arrived = array_remove(companions_arrived, $2::smallint)
WHERE id = $1
RETURNING *
"""

MEMBER_LEFT = "UPDATE registrations SET checked_in_at = NULL WHERE id = $1 RETURNING *"


async def companion_arrived(
    conn: Connection, registration_id: uuid.UUID, index: int
) -> asyncpg.Record:
    row = await conn.fetchrow(COMPANION_ARRIVED, registration_id, index)
    assert row is not None
    return row


async def companion_not_arrived(
    conn: Connection, registration_id: uuid.UUID, index: int
) -> asyncpg.Record:
    row = await conn.fetchrow(COMPANION_LEFT, registration_id, index)
    assert row is not None
    return row


async def member_not_arrived(conn: Connection, registration_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(MEMBER_LEFT, registration_id)
    assert row is not None
    return row
