"""Enrolments: a person's membership of a network, with their consent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

ACTIVE = """
SELECT * FROM enrolments WHERE network_id = $1 AND member_id = $2 AND status = 'active'
"""

# Enrolled (and consented) at the use case's clock, the time its event carries.
INSERT = """
INSERT INTO enrolments (id, network_id, member_id, status, consent_at, created_at)
VALUES ($1, $2, $3, 'active', $4, $4)
RETURNING *
"""

BY_ID = "SELECT * FROM enrolments WHERE id = $1"

# Cancelling locks the enrolment, so two cancels cannot both act.
FOR_UPDATE = "SELECT * FROM enrolments WHERE id = $1 FOR UPDATE"

CANCEL = """
UPDATE enrolments SET status = 'cancelled', cancelled_at = $2, version = version + 1
WHERE id = $1
RETURNING *
"""

# Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans.
ROSTER = """
SELECT e.id AS enrolment_id, e.member_id, e.status, m.name, m.email, m.municipality,
       m.municipality_id, m.role, m.organisation, e.created_at AS enrolled_at, e.cancelled_at
FROM enrolments e JOIN members m ON m.id = e.member_id
WHERE e.network_id = $1
  AND ($2::timestamptz IS NULL OR (e.created_at, e.id) > ($2, $3))
ORDER BY e.created_at, e.id
LIMIT $4
"""

OF_MEMBER = "SELECT * FROM enrolments WHERE member_id = $1 ORDER BY created_at"

ACTIVE_OF_MEMBER = "SELECT id FROM enrolments WHERE member_id = $1 AND status = 'active'"

ORGANISATION_OF = """
SELECT n.organisation_id FROM enrolments e JOIN networks n ON n.id = e.network_id WHERE e.id = $1
"""


async def active(
    conn: Connection, *, network_id: uuid.UUID, member_id: uuid.UUID
) -> asyncpg.Record | None:
    """The person's active enrolment in the network, if any."""
    return await conn.fetchrow(ACTIVE, network_id, member_id)


async def insert(
    conn: Connection,
    *,
    enrolment_id: uuid.UUID,
    network_id: uuid.UUID,
    member_id: uuid.UUID,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(INSERT, enrolment_id, network_id, member_id, at)
    assert row is not None
    return row


async def get(conn: Connection, enrolment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, enrolment_id)


async def lock(conn: Connection, enrolment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, enrolment_id)


async def cancel(conn: Connection, enrolment_id: uuid.UUID, *, at: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(CANCEL, enrolment_id, at)
    assert row is not None
    return row


async def roster(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    after_time: Any,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(ROSTER, network_id, after_time, after_id, limit))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def active_of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(ACTIVE_OF_MEMBER, member_id))


async def organisation_of(conn: Connection, enrolment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, enrolment_id)
