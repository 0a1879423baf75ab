"""An organiser's messages to a meeting's participants, and whom each addressed."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

# The registrations a message addresses, by status, with how many people each reaches: the
# member and each companion with an email.
ADDRESSED = """
SELECT id, 1 + (SELECT count(*) FROM jsonb_array_elements(companions) AS c
                WHERE coalesce(c ->> 'email', '') <> '') AS people
FROM registrations
WHERE meeting_id = $1 AND status = ANY($2::text[])
ORDER BY position
"""

INSERT = """
INSERT INTO meeting_messages (id, meeting_id, recipients, subject, body, registration_ids)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *
"""


async def addressed(
    conn: Connection, meeting_id: uuid.UUID, statuses: list[str]
) -> list[asyncpg.Record]:
    """The meeting's registrations in these statuses, in registration order, with `people`."""
    return await conn.fetch(ADDRESSED, meeting_id, statuses)


async def insert(
    conn: Connection,
    *,
    message_id: uuid.UUID,
    meeting_id: uuid.UUID,
    recipients: str,
    subject: str,
    body: str,
    registration_ids: list[uuid.UUID],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        INSERT, message_id, meeting_id, recipients, subject, body, registration_ids
    )
    assert row is not None  # INSERT ... RETURNING
    return row
