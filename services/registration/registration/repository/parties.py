"""Parties: a municipality's membership of a network, applied for or joined, with its contact."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A party as the use cases and lists see it: with its municipality from the register and its
# contact person (blank once erased).
_IN_FULL = """
SELECT p.*, mu.name AS municipality, mu.country, mu.code AS municipality_code,
       mu.kind AS municipality_kind, c.name AS contact_name, c.email AS contact_email,
       c.role AS contact_role, c.language AS contact_language
FROM parties p
JOIN municipalities mu ON mu.municipality_id = p.municipality_id
LEFT JOIN members c ON c.id = p.contact_member_id
"""

BY_ID = _IN_FULL + "WHERE p.id = $1"

# A decision or a withdrawal locks the party, so two cannot both act on the same state.
FOR_UPDATE = "SELECT * FROM parties WHERE id = $1 FOR UPDATE"

# The municipality's party to the network that stands (applied or joined), if any.
STANDING = """
SELECT * FROM parties
WHERE network_id = $1 AND municipality_id = $2 AND status IN ('applied', 'joined')
"""

INSERT = """
INSERT INTO parties (id, network_id, municipality_id, contact_member_id, statement, status,
                     applied_at, decided_at, joined_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""

# A decision (joined or declined) or a withdrawal. The joined time is kept once set; a
# withdrawal keeps the decision's time.
MOVE = """
UPDATE parties
SET status = $2,
    decided_at = CASE WHEN $2 = 'withdrawn' THEN decided_at ELSE $3 END,
    joined_at = CASE WHEN $2 = 'joined' THEN $3 ELSE joined_at END,
    reason = $4,
    version = version + 1,
    updated_at = now()
WHERE id = $1
RETURNING id
"""

# Keyset pagination on (applied_at, id); `$2` limits the statuses (NULL: all of them).
PAGE = (
    _IN_FULL
    + """
WHERE p.network_id = $1
  AND ($2::text[] IS NULL OR p.status = ANY($2::text[]))
  AND ($3::timestamptz IS NULL OR (p.applied_at, p.id) > ($3, $4))
ORDER BY p.applied_at, p.id
LIMIT $5
"""
)

# In a network of municipalities, people enrol from a joined party's municipality.
JOINED = """
SELECT EXISTS (
    SELECT 1 FROM parties WHERE network_id = $1 AND municipality_id = $2 AND status = 'joined'
)
"""

OF_CONTACT = _IN_FULL + "WHERE p.contact_member_id = $1 ORDER BY p.applied_at"

# Erasure of a contact: the party stays (its municipality is no one's personal data), and the
# statement they wrote goes with them.
FORGET_CONTACT = "UPDATE parties SET statement = NULL WHERE contact_member_id = $1"

ORGANISATION_OF = """
SELECT n.organisation_id FROM parties p JOIN networks n ON n.id = p.network_id WHERE p.id = $1
"""


async def get(conn: Connection, party_id: uuid.UUID) -> asyncpg.Record | None:
    """The party with its municipality and contact, or None."""
    return await conn.fetchrow(BY_ID, party_id)


async def lock(conn: Connection, party_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, party_id)


async def standing(
    conn: Connection, *, network_id: uuid.UUID, municipality_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(STANDING, network_id, municipality_id)


async def insert(
    conn: Connection,
    *,
    party_id: uuid.UUID,
    network_id: uuid.UUID,
    municipality_id: uuid.UUID,
    contact_member_id: uuid.UUID,
    statement: str | None,
    status: str,
    at: datetime,
) -> None:
    """A new party, applied (`decided_at` empty) or joined at once (decided and joined `at`)."""
    await conn.execute(
        INSERT,
        party_id,
        network_id,
        municipality_id,
        contact_member_id,
        statement,
        status,
        at,
        at if status == "joined" else None,
        at if status == "joined" else None,
    )


async def move(
    conn: Connection, party_id: uuid.UUID, *, status: str, at: datetime, reason: str | None
) -> None:
    """To `status` (joined, declined or withdrawn) at `at`; the version moves on."""
    await conn.execute(MOVE, party_id, status, at, reason)


async def page(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    statuses: list[str] | None,
    after_time: datetime | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, network_id, statuses, after_time, after_id, limit))


async def joined(conn: Connection, *, network_id: uuid.UUID, municipality_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(JOINED, network_id, municipality_id))


async def of_contact(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_CONTACT, member_id))


async def forget_contact(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(FORGET_CONTACT, member_id)


async def organisation_of(conn: Connection, party_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, party_id)
