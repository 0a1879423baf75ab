"""Consultations and the audience a consultation asks (their responses are in
`consultation_responses`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

# A consultation as shown: with its network's title and language, and its status by the clock
# at $2 (the stored status lags the clock by at most one run of the scheduler).
_SHOWN = """
SELECT c.id, c.network_id, c.title, c.description, c.questions, c.opens_at, c.closes_at,
       c.audience, c.audience_size, c.version, c.created_at,
       CASE WHEN c.status = 'closed' OR $2::timestamptz >= c.closes_at THEN 'closed'
            WHEN $2::timestamptz >= c.opens_at THEN 'open'
            ELSE 'scheduled' END AS status,
       c.status AS stored_status,
       n.title AS network_title, n.language, n.organisation_id
FROM consultations c JOIN networks n ON n.id = c.network_id
"""

BY_ID = _SHOWN + "WHERE c.id = $1"

# The consultation as stored (its `status` the clock's last word), with its network's.
STORED = """
SELECT c.*, n.title AS network_title, n.language, n.organisation_id
FROM consultations c JOIN networks n ON n.id = c.network_id
WHERE c.id = $1
"""

# Keyset pagination on (opens_at, id).
PAGE = (
    _SHOWN
    + """
WHERE c.network_id = $1
  AND ($3::timestamptz IS NULL OR (c.opens_at, c.id) > ($3, $4))
ORDER BY c.opens_at, c.id
LIMIT $5
"""
)

# Version 0 until the clock opens it: ConsultationOpened is its first event (version 1).
INSERT = """
INSERT INTO consultations (id, network_id, title, description, questions, opens_at, closes_at,
                           audience, version, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)
"""

# The clock's claims: a batch of consultations due to open (or close) at $1, locked so that no
# other process claims them; SKIP LOCKED leaves those another holds to it.
DUE_TO_OPEN = """
SELECT id FROM consultations
WHERE status = 'scheduled' AND opens_at <= $1 AND closes_at > $1
ORDER BY opens_at, id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

DUE_TO_CLOSE = """
SELECT id FROM consultations
WHERE status IN ('scheduled', 'open') AND closes_at <= $1
ORDER BY closes_at, id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

# Locks it too: opening at creation takes the same path as the clock.
FOR_UPDATE = "SELECT * FROM consultations WHERE id = $1 FOR UPDATE"

MOVE = """
UPDATE consultations
SET status = $2, audience_size = coalesce($3, audience_size), version = version + 1,
    updated_at = now()
WHERE id = $1
RETURNING version
"""

# Who the audience is. Members: the network's active members. Parties: the contacts of its
# joined parties and its active members from a joined party's municipality (each person once).
# Erased people are nobody's audience.
_MEMBER_COLUMNS = """
m.id, m.email, m.name, m.language, m.data_key, m.municipality, m.municipality_id, mu.country
"""

AUDIENCE_MEMBERS = f"""
SELECT {_MEMBER_COLUMNS}
FROM enrolments e JOIN members m ON m.id = e.member_id
LEFT JOIN municipalities mu ON mu.municipality_id = m.municipality_id
WHERE e.network_id = $1 AND e.status = 'active' AND m.erased_at IS NULL
ORDER BY m.id
"""

AUDIENCE_PARTIES = f"""
SELECT {_MEMBER_COLUMNS}
FROM (
    SELECT contact_member_id AS id FROM parties
    WHERE network_id = $1 AND status = 'joined' AND contact_member_id IS NOT NULL
    UNION
    SELECT e.member_id FROM enrolments e
    JOIN members em ON em.id = e.member_id
    JOIN parties p ON p.network_id = e.network_id AND p.municipality_id = em.municipality_id
    WHERE e.network_id = $1 AND e.status = 'active' AND p.status = 'joined'
) asked
JOIN members m ON m.id = asked.id
LEFT JOIN municipalities mu ON mu.municipality_id = m.municipality_id
WHERE m.erased_at IS NULL
ORDER BY m.id
"""

IN_AUDIENCE_MEMBERS = """
SELECT EXISTS (SELECT 1 FROM enrolments
               WHERE network_id = $1 AND member_id = $2 AND status = 'active')
"""

IN_AUDIENCE_PARTIES = """
SELECT EXISTS (SELECT 1 FROM parties
               WHERE network_id = $1 AND status = 'joined' AND contact_member_id = $2)
    OR EXISTS (SELECT 1 FROM enrolments e
               JOIN members m ON m.id = e.member_id
               JOIN parties p ON p.network_id = e.network_id
                             AND p.municipality_id = m.municipality_id
               WHERE e.network_id = $1 AND e.member_id = $2 AND e.status = 'active'
                 AND p.status = 'joined')
"""

ORGANISATION_OF = """
SELECT n.organisation_id, n.id AS network_id
FROM consultations c JOIN networks n ON n.id = c.network_id WHERE c.id = $1
"""


async def get(
    conn: Connection, consultation_id: uuid.UUID, *, now: datetime
) -> asyncpg.Record | None:
    """The consultation as shown (status by the clock at `now`), or None."""
    return await conn.fetchrow(BY_ID, consultation_id, now)


async def stored(conn: Connection, consultation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(STORED, consultation_id)


async def page(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    now: datetime,
    after_time: datetime | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, network_id, now, after_time, after_id, limit))


async def insert(
    conn: Connection,
    *,
    consultation_id: uuid.UUID,
    network_id: uuid.UUID,
    title: str,
    description: str | None,
    questions: list[dict[str, Any]],
    opens_at: datetime,
    closes_at: datetime,
    audience: str,
    at: datetime,
) -> None:
    await conn.execute(
        INSERT,
        consultation_id,
        network_id,
        title,
        description,
        questions,
        opens_at,
        closes_at,
        audience,
        at,
    )


async def due_to_open(conn: Connection, *, at: datetime, limit: int) -> list[uuid.UUID]:
    return [row["id"] for row in await conn.fetch(DUE_TO_OPEN, at, limit)]


async def due_to_close(conn: Connection, *, at: datetime, limit: int) -> list[uuid.UUID]:
    return [row["id"] for row in await conn.fetch(DUE_TO_CLOSE, at, limit)]


async def lock(conn: Connection, consultation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, consultation_id)


async def move(
    conn: Connection, consultation_id: uuid.UUID, *, status: str, audience_size: int | None
) -> int:
    """Open or close it; its next version (the event's)."""
    version = await conn.fetchval(MOVE, consultation_id, status, audience_size)
    assert version is not None
    return int(version)


async def audience(conn: Connection, network_id: uuid.UUID, kind: str) -> list[asyncpg.Record]:
    """The people a consultation of this audience asks (the members, for the public)."""
    query = AUDIENCE_PARTIES if kind == "parties" else AUDIENCE_MEMBERS
    return list(await conn.fetch(query, network_id))


async def in_audience(
    conn: Connection, network_id: uuid.UUID, kind: str, member_id: uuid.UUID
) -> bool:
    if kind == "public":
        return True
    query = IN_AUDIENCE_PARTIES if kind == "parties" else IN_AUDIENCE_MEMBERS
    return bool(await conn.fetchval(query, network_id, member_id))


async def organisation_of(conn: Connection, consultation_id: uuid.UUID) -> asyncpg.Record | None:
    """The consultation's network and its organisation (`network_id`, `organisation_id`)."""
    return await conn.fetchrow(ORGANISATION_OF, consultation_id)
