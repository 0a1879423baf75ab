"""A meeting's documents: what each is; the bytes are in the object store under storage_key."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO meeting_documents (id, meeting_id, title, filename, content_type, size, sha256,
                               visibility, storage_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *
"""

# A document still in place, with the network and times of its meeting (who may read it).
BY_ID = """
SELECT d.*, m.network_id, m.status AS meeting_status
FROM meeting_documents d JOIN meetings m ON m.id = d.meeting_id
WHERE d.id = $1 AND d.removed_at IS NULL
"""

# Keyset pagination on (added_at, id); $2: only public ones, for a caller who may not see the
# participants' documents.
PAGE = """
SELECT * FROM meeting_documents
WHERE meeting_id = $1 AND removed_at IS NULL
  AND (NOT $2 OR visibility = 'public')
  AND ($3::timestamptz IS NULL OR (added_at, id) > ($3, $4))
ORDER BY added_at, id
LIMIT $5
"""

# The public documents of many meetings at once (the archive's page), in the order added.
PUBLIC_OF_MEETINGS = """
SELECT * FROM meeting_documents
WHERE meeting_id = ANY($1::uuid[]) AND removed_at IS NULL AND visibility = 'public'
ORDER BY added_at, id
"""

REMOVE = """
UPDATE meeting_documents SET removed_at = now()
WHERE id = $1 AND removed_at IS NULL
RETURNING *
"""


async def insert(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    meeting_id: uuid.UUID,
    title: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    visibility: str,
    storage_key: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        INSERT,
        document_id,
        meeting_id,
        title,
        filename,
        content_type,
        size,
        sha256,
        visibility,
        storage_key,
    )
    assert row is not None  # INSERT ... RETURNING
    return row


async def get(conn: Connection, document_id: uuid.UUID) -> asyncpg.Record | None:
    """The document (not removed), with its meeting's `network_id` and `meeting_status`."""
    return await conn.fetchrow(BY_ID, document_id)


async def page(
    conn: Connection,
    meeting_id: uuid.UUID,
    *,
    public_only: bool,
    after_time: datetime | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, meeting_id, public_only, after_time, after_id, limit))


async def public_of_meetings(
    conn: Connection, meeting_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PUBLIC_OF_MEETINGS, meeting_ids))


async def remove(conn: Connection, document_id: uuid.UUID) -> asyncpg.Record | None:
    """Mark the document removed; None if it was not there (or removed already)."""
    return await conn.fetchrow(REMOVE, document_id)
