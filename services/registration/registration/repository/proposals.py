"""Topic proposals, with their counted votes (the votes themselves are in `votes`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

# A proposal as shown: with its counted votes, and its network's settings.
_SHOWN = """
SELECT p.*, n.title AS network_title, n.language AS network_language, n.proposals AS policy,
       n.organisation_id,
       (SELECT count(*) FROM proposal_votes v
        WHERE v.proposal_id = p.id AND v.status = 'counted') AS votes
FROM proposals p JOIN networks n ON n.id = p.network_id
"""

BY_ID = _SHOWN + "WHERE p.id = $1"

FOR_UPDATE = "SELECT * FROM proposals WHERE id = $1 FOR UPDATE"

INSERT = """
INSERT INTO proposals (id, network_id, member_id, title, body, status, counted, municipality,
                       municipality_id, country, submitted_at)
VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10)
"""

# A decision or a scheduling: the new status, when, why (a rejection), which meeting.
MOVE = """
UPDATE proposals
SET status = $2, decided_at = coalesce($3, decided_at), reason = coalesce($4, reason),
    meeting_id = coalesce($5, meeting_id), version = version + 1
WHERE id = $1
RETURNING version
"""

# The author's address confirmed: the proposal counts.
COUNT = "UPDATE proposals SET counted = true, version = version + 1 WHERE id = $1"

PENDING_OF_AUTHOR = """
SELECT id FROM proposals WHERE member_id = $1 AND NOT counted ORDER BY submitted_at, id
FOR UPDATE
"""

# Lists: the ranking (counted votes, most first; then the oldest first) or the newest first,
# keyset-paginated on what they are ordered by. $2: the statuses listed.
_LISTED = (
    "WITH listed AS ("
    + _SHOWN
    + """
WHERE p.network_id = $1 AND p.status = ANY($2::text[]) AND (p.counted OR $3)
)
SELECT * FROM listed
"""
)

BY_VOTES = (
    _LISTED
    + """
WHERE $4::bigint IS NULL
   OR votes < $4 OR (votes = $4 AND (submitted_at, id) > ($5, $6))
ORDER BY votes DESC, submitted_at, id
LIMIT $7
"""
)

RECENT = (
    _LISTED
    + """
WHERE $4::bigint IS NULL OR (submitted_at, id) < ($5, $6)
ORDER BY submitted_at DESC, id DESC
LIMIT $7
"""
)

OF_AUTHOR = """
SELECT p.id, p.network_id, p.title, p.body, p.status, p.counted, p.submitted_at, p.decided_at,
       p.meeting_id
FROM proposals p WHERE p.member_id = $1 ORDER BY p.submitted_at
"""

# Erasure: the proposal stays (its words are the network's now) without its author.
FORGET_AUTHOR = "UPDATE proposals SET member_id = NULL WHERE member_id = $1"

ORGANISATION_OF = """
SELECT n.organisation_id, n.id AS network_id
FROM proposals p JOIN networks n ON n.id = p.network_id WHERE p.id = $1
"""


async def get(conn: Connection, proposal_id: uuid.UUID) -> asyncpg.Record | None:
    """The proposal with its counted `votes` and its network's `policy`, or None."""
    return await conn.fetchrow(BY_ID, proposal_id)


async def lock(conn: Connection, proposal_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, proposal_id)


async def insert(
    conn: Connection,
    *,
    proposal_id: uuid.UUID,
    network_id: uuid.UUID,
    author: asyncpg.Record,
    title: str,
    body: str,
    counted: bool,
    at: datetime,
) -> None:
    await conn.execute(
        INSERT,
        proposal_id,
        network_id,
        author["id"],
        title,
        body,
        counted,
        author["municipality"],
        author["municipality_id"],
        author["country"],
        at,
    )


async def move(
    conn: Connection,
    proposal_id: uuid.UUID,
    *,
    status: str,
    decided_at: datetime | None = None,
    reason: str | None = None,
    meeting_id: uuid.UUID | None = None,
) -> int:
    version = await conn.fetchval(MOVE, proposal_id, status, decided_at, reason, meeting_id)
    assert version is not None
    return int(version)


async def count(conn: Connection, proposal_id: uuid.UUID) -> None:
    await conn.execute(COUNT, proposal_id)


async def pending_of_author(conn: Connection, member_id: uuid.UUID) -> list[uuid.UUID]:
    return [row["id"] for row in await conn.fetch(PENDING_OF_AUTHOR, member_id)]


async def page(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    statuses: list[str],
    uncounted_too: bool,
    by_votes: bool,
    after_votes: int | None,
    after_time: datetime | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    query = BY_VOTES if by_votes else RECENT
    # The newest-first order has no votes to page on: any number says "after this row".
    after: Any = after_votes if by_votes else (0 if after_id else None)
    return list(
        await conn.fetch(
            query, network_id, statuses, uncounted_too, after, after_time, after_id, limit
        )
    )


async def of_author(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_AUTHOR, member_id))


async def forget_author(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(FORGET_AUTHOR, member_id)


async def organisation_of(conn: Connection, proposal_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, proposal_id)
