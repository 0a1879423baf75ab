"""Members: a person is their email, case-insensitively, and holds the key to their data."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

# A sign-up names a person by address, which anyone can type: it creates the member once and
# never changes what is stored about them (the no-op update only returns the existing row).
# Every member as read carries `country`, their resolved municipality's (NULL if unresolved).
WITH_COUNTRY = """
SELECT m.*, mu.country FROM {source} m
LEFT JOIN municipalities mu ON mu.municipality_id = m.municipality_id
"""

FOR_SIGN_UP = """
WITH m AS (
    INSERT INTO members (id, email, name, municipality, role, organisation, language, data_key,
                         municipality_id, municipality_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (lower(email)) WHERE email IS NOT NULL DO UPDATE SET email = members.email
    RETURNING *
)
""" + WITH_COUNTRY.format(source="m")

BY_ID = WITH_COUNTRY.format(source="members") + "WHERE m.id = $1"

# A member from before data keys existed gets one, bound to their own id.
GIVE_DATA_KEY = """
WITH m AS (UPDATE members SET data_key = $2 WHERE id = $1 AND data_key IS NULL RETURNING *)
""" + WITH_COUNTRY.format(source="m")

# The stored (typed) municipality resolved again, for members from before resolving existed or
# whose name the register has since learnt; the typed name itself never changes.
RESOLVE = """
WITH m AS (
    UPDATE members SET municipality_id = $2, municipality_key = $3 WHERE id = $1 RETURNING *
)
""" + WITH_COUNTRY.format(source="m")

# Members whose typed municipality is not (yet) resolved, a batch at a time, in id order.
UNRESOLVED = """
SELECT id, municipality, municipality_id, municipality_key FROM members
WHERE municipality_id IS NULL AND ($1::uuid IS NULL OR id > $1)
ORDER BY id LIMIT $2
"""

# Unresolved members whose typed name has one of these keys (a new register entry's).
UNRESOLVED_WITH_KEYS = """
SELECT id, municipality, municipality_id, municipality_key FROM members
WHERE municipality_id IS NULL AND municipality_key = ANY($1::text[])
"""

# Unresolved names among the members of an organisation's networks (or all, for the platform):
# by key, with each spelling typed and how many people typed it. Names and counts only.
UNRESOLVED_NAMES = """
SELECT m.municipality_key, m.municipality, count(*) AS members
FROM members m
WHERE m.municipality_id IS NULL AND m.erased_at IS NULL
  AND ($1::uuid IS NULL
       OR EXISTS (SELECT 1 FROM enrolments e JOIN networks n ON n.id = e.network_id
                  WHERE e.member_id = m.id AND n.organisation_id = $1)
       OR EXISTS (SELECT 1 FROM registrations r JOIN meetings mt ON mt.id = r.meeting_id
                  JOIN networks n ON n.id = mt.network_id
                  WHERE r.member_id = m.id AND n.organisation_id = $1))
GROUP BY m.municipality_key, m.municipality
"""

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
    municipality_id: uuid.UUID | None,
    municipality_key: str,
) -> asyncpg.Record:
    """The member with this email: inserted with these details if new, else as stored."""
    row = await conn.fetchrow(
        FOR_SIGN_UP,
        member_id,
        email,
        name,
        municipality,
        role,
        organisation,
        language,
        data_key,
        municipality_id,
        municipality_key,
    )
    assert row is not None
    return row


async def get(conn: Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, member_id)


async def give_data_key(
    conn: Connection, member_id: uuid.UUID, *, data_key: bytes
) -> asyncpg.Record | None:
    return await conn.fetchrow(GIVE_DATA_KEY, member_id, data_key)


async def resolve(
    conn: Connection,
    member_id: uuid.UUID,
    *,
    municipality_id: uuid.UUID | None,
    municipality_key: str,
) -> asyncpg.Record:
    """Record what the member's typed municipality resolves to now."""
    row = await conn.fetchrow(RESOLVE, member_id, municipality_id, municipality_key)
    assert row is not None
    return row


async def unresolved(
    conn: Connection, *, after_id: uuid.UUID | None, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(UNRESOLVED, after_id, limit))


async def unresolved_with_keys(conn: Connection, keys: list[str]) -> list[asyncpg.Record]:
    return list(await conn.fetch(UNRESOLVED_WITH_KEYS, keys))


async def unresolved_names(
    conn: Connection, *, organisation_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    """Each unresolved spelling with its key and how many members typed it."""
    return list(await conn.fetch(UNRESOLVED_NAMES, organisation_id))


async def data_keys(conn: Connection, member_ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
    """Each member's wrapped data key; None for an erased member."""
    rows = await conn.fetch(DATA_KEYS, member_ids)
    return {row["id"]: row["data_key"] for row in rows}


async def erase(conn: Connection, member_id: uuid.UUID) -> bool:
    """Blank the person's data; False if there was no one (not yet erased) to blank."""
    return await conn.fetchval(ERASE, member_id) is not None
