"""Networks: the rows organisers create and people enrol in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO networks (id, title, description, purpose, target_group, organisers, language,
                      max_companions, contact, period, organisation_id, membership, admission,
                      applications_close_at, auto_register, term_ends_at, waitlist, offer_hours,
                      proposals)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
RETURNING *
"""

BY_ID = "SELECT * FROM networks WHERE id = $1"

# Enrolling locks the network, so it cannot close under a sign-up.
FOR_UPDATE = "SELECT * FROM networks WHERE id = $1 FOR UPDATE"

# Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans.
PAGE = """
SELECT * FROM networks
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
ORDER BY created_at, id
LIMIT $4
"""

# A PATCH: the fields present in $2 (a JSON object) replace the stored ones, the rest keep
# theirs (jsonb_populate_record fills what the object leaves out from the row itself). Only
# the columns named here can change, whatever the object holds.
UPDATE = """
UPDATE networks AS n
SET (title, description, purpose, target_group, organisers, language, max_companions, contact,
     period, status, membership, admission, applications_close_at, auto_register, term_ends_at,
     waitlist, offer_hours, proposals)
    = (SELECT p.title, p.description, p.purpose, p.target_group, p.organisers, p.language,
              p.max_companions, p.contact, p.period, p.status, p.membership, p.admission,
              p.applications_close_at, p.auto_register, p.term_ends_at, p.waitlist,
              p.offer_hours, p.proposals
       FROM jsonb_populate_record(n, $2::jsonb) AS p),
    version = version + 1,
    updated_at = now()
WHERE id = $1
RETURNING *
"""

ORGANISATION_OF = "SELECT organisation_id FROM networks WHERE id = $1"


async def insert(
    conn: Connection,
    *,
    network_id: uuid.UUID,
    title: str,
    description: str,
    purpose: str | None,
    target_group: str | None,
    organisers: list[str],
    language: str,
    max_companions: int,
    contact: dict[str, Any] | None,
    period: str | None,
    organisation_id: uuid.UUID | None,
    membership: str = "people",
    admission: str = "open",
    applications_close_at: datetime | None = None,
    auto_register: bool = False,
    term_ends_at: datetime | None = None,
    waitlist: str = "automatic",
    offer_hours: int | None = None,
    proposals: str = "off",
) -> asyncpg.Record:
    row = await conn.fetchrow(
        INSERT,
        network_id,
        title,
        description,
        purpose,
        target_group,
        organisers,
        language,
        max_companions,
        contact,
        period,
        organisation_id,
        membership,
        admission,
        applications_close_at,
        auto_register,
        term_ends_at,
        waitlist,
        offer_hours,
        proposals,
    )
    assert row is not None
    return row


async def get(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, network_id)


async def lock(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, network_id)


async def page(
    conn: Connection,
    *,
    status: str | None,
    after_time: Any,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, status, after_time, after_id, limit))


async def update(
    conn: Connection, network_id: uuid.UUID, *, changes: dict[str, Any]
) -> asyncpg.Record:
    """Apply a PATCH's fields (JSON values, by column name) and move the version on."""
    row = await conn.fetchrow(UPDATE, network_id, changes)
    assert row is not None
    return row


async def organisation_of(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, network_id)
