"""Votes for topic proposals: one standing vote per person per proposal, counted once the
voter's address is confirmed, withdrawn (and cast again) at will."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# One standing vote per person per proposal: a second (or a concurrent twin) inserts nothing.
INSERT = """
INSERT INTO proposal_votes (id, proposal_id, member_id, status, municipality, municipality_id,
                            country, voted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (proposal_id, member_id) WHERE status <> 'withdrawn' DO NOTHING
RETURNING *
"""

STANDING = """
SELECT * FROM proposal_votes
WHERE proposal_id = $1 AND member_id = $2 AND status <> 'withdrawn'
"""

BY_ID = """
SELECT v.*, p.network_id FROM proposal_votes v JOIN proposals p ON p.id = v.proposal_id
WHERE v.id = $1
"""

FOR_UPDATE = """
SELECT v.*, p.network_id FROM proposal_votes v JOIN proposals p ON p.id = v.proposal_id
WHERE v.id = $1 FOR UPDATE OF v
"""

MOVE = """
UPDATE proposal_votes
SET status = $2, withdrawn_at = CASE WHEN $2 = 'withdrawn' THEN $3 ELSE withdrawn_at END,
    version = version + 1
WHERE id = $1
RETURNING *
"""

PENDING_OF = """
SELECT v.*, p.network_id FROM proposal_votes v JOIN proposals p ON p.id = v.proposal_id
WHERE v.member_id = $1 AND v.status = 'pending'
ORDER BY v.voted_at, v.id
FOR UPDATE OF v
"""

OF_MEMBER = """
SELECT v.id, v.proposal_id, p.title AS proposal_title, v.status, v.voted_at, v.withdrawn_at
FROM proposal_votes v JOIN proposals p ON p.id = v.proposal_id
WHERE v.member_id = $1 ORDER BY v.voted_at
"""

# Erasure: the vote stays as it stood (counted or not), tied to nobody.
FORGET_VOTER = "UPDATE proposal_votes SET member_id = NULL WHERE member_id = $1"

COUNTED = """
SELECT count(*) FROM proposal_votes WHERE proposal_id = $1 AND status = 'counted'
"""


async def insert(
    conn: Connection,
    *,
    vote_id: uuid.UUID,
    proposal_id: uuid.UUID,
    voter: asyncpg.Record,
    status: str,
    at: datetime,
) -> asyncpg.Record | None:
    """The new vote, or None if the person has a standing vote for the proposal already."""
    return await conn.fetchrow(
        INSERT,
        vote_id,
        proposal_id,
        voter["id"],
        status,
        voter["municipality"],
        voter["municipality_id"],
        voter["country"],
        at,
    )


async def standing(
    conn: Connection, proposal_id: uuid.UUID, member_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(STANDING, proposal_id, member_id)


async def get(conn: Connection, vote_id: uuid.UUID) -> asyncpg.Record | None:
    """The vote with its proposal's `network_id`, or None."""
    return await conn.fetchrow(BY_ID, vote_id)


async def lock(conn: Connection, vote_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, vote_id)


async def move(
    conn: Connection, vote_id: uuid.UUID, *, status: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(MOVE, vote_id, status, at)
    assert row is not None
    return row


async def pending_of(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(PENDING_OF, member_id))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def forget_voter(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(FORGET_VOTER, member_id)


async def counted(conn: Connection, proposal_id: uuid.UUID) -> int:
    return int(await conn.fetchval(COUNTED, proposal_id) or 0)
