"""Whom an organiser's message addressed, as the local copies of registrations hold them."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

# Only registrations with someone to write to: an erased member's address is gone.
ADDRESSED = """
SELECT * FROM registrations
WHERE id = ANY($1::uuid[]) AND meeting_id = $2 AND email IS NOT NULL
ORDER BY id
"""


async def addressed_registrations(
    conn: Connection, registration_ids: list[uuid.UUID], meeting_id: uuid.UUID
) -> list[asyncpg.Record]:
    """The meeting's registrations among `registration_ids` that still have an address."""
    return await conn.fetch(ADDRESSED, registration_ids, meeting_id)
