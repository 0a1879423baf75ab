"""Members: a person is their email, case-insensitively, and holds the key to their data."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

# A sign-up names a person by address, which anyone can type: it creates the member once and
# never changes what is stored about them (the no-op update only returns the existing row).
FOR_SIGN_UP = """
INSERT INTO members (id, email, name, municipality, role, organisation, language, data_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (lower(email)) WHERE email IS NOT NULL DO UPDATE SET email = members.email
RETURNING *
"""

BY_ID = "SELECT * FROM members WHERE id = $1"

# A member from before data keys existed gets one, bound to their own id.
GIVE_DATA_KEY = "UPDATE members SET data_key = $2 WHERE id = $1 AND data_key IS NULL RETURNING *"

DATA_KEYS = "SELECT id, data_key FROM members WHERE id = ANY($1::uuid[])"

# The row stays (aggregates and foreign keys need it); who the person was goes, with the key
# that opens what events carried sealed.
ERASE = """
UPDATE members
SET email = NULL, name = NULL, organisation = NULL, role = 'erased', erased_at = now(),
    data_key = NULL,
    updated_at = now()
WHERE id = $1 AND erased_at IS NULL
RETURNING id
"""


async def for_sign_up(
    conn: Connection,
    *,
    member_id: uuid.UUID,
    email: str,
    name: str,
    municipality: str,
    role: str,
    organisation: str | None,
    language: str | None,
    data_key: bytes,
) -> asyncpg.Record:
    """The member with this email: inserted with these details if new, else as stored."""
    row = await conn.fetchrow(
        FOR_SIGN_UP, member_id, email, name, municipality, role, organisation, language, data_key
    )
    assert row is not None
    return row


async def get(conn: Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, member_id)


async def give_data_key(
    conn: Connection, member_id: uuid.UUID, *, data_key: bytes
) -> asyncpg.Record | None:
    return await conn.fetchrow(GIVE_DATA_KEY, member_id, data_key)


async def data_keys(conn: Connection, member_ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
    """Each member's wrapped data key; None for an erased member."""
    rows = await conn.fetch(DATA_KEYS, member_ids)
    return {row["id"]: row["data_key"] for row in rows}


async def erase(conn: Connection, member_id: uuid.UUID) -> bool:
    """Blank the person's data; False if there was no one (not yet erased) to blank."""
    return await conn.fetchval(ERASE, member_id) is not None
