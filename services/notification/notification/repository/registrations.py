"""The local copy of each registration: who to write to (opened from the sealed personal data),
in which language, with which companions, and the calendar entry's SEQUENCE."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
import orjson

from tilmeld_shared.db import Connection
from tilmeld_shared.events import RegistrationState

# An event whose personal data could not be opened carries none: the row keeps what it holds.
# Several registrations in one statement; they must be distinct (a row is updated once).
UPSERT_REGISTRATIONS = """
INSERT INTO registrations (id, meeting_id, member_id, status, language, name, email, companions,
                           cancel_url, aggregate_version)
SELECT id, meeting_id, member_id, status, language, name, email, companions::jsonb, cancel_url,
       aggregate_version
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::integer[])
     AS incoming(id, meeting_id, member_id, status, language, name, email, companions, cancel_url,
                 aggregate_version)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, language = excluded.language,
    name = coalesce(excluded.name, registrations.name),
    email = coalesce(excluded.email, registrations.email),
    companions = excluded.companions,
    cancel_url = coalesce(excluded.cancel_url, registrations.cancel_url),
    aggregate_version = excluded.aggregate_version
WHERE registrations.aggregate_version < excluded.aggregate_version
RETURNING *
"""

REGISTRATION = "SELECT * FROM registrations WHERE id = $1"

ACTIVE_REGISTRATIONS = """
SELECT * FROM registrations
WHERE meeting_id = $1 AND status IN ('confirmed', 'waitlisted') AND email IS NOT NULL
"""

RAISE_SEQUENCE = """
UPDATE registrations SET calendar_sequence = calendar_sequence + 1
WHERE id = $1 RETURNING calendar_sequence
"""

# Every string this service holds that names the person (to find them in dead letters).
PERSON_STRINGS = """
SELECT ARRAY[name, email] || coalesce(ARRAY(
           SELECT jsonb_array_elements(companions) ->> key
           FROM unnest(ARRAY['name', 'email']) AS key), '{}') AS strings
FROM registrations WHERE member_id = $1
UNION ALL
SELECT ARRAY[recipient] FROM notifications WHERE member_id = $1
"""

ERASE_REGISTRATIONS = """
UPDATE registrations SET name = NULL, email = NULL, companions = '[]', cancel_url = NULL
WHERE member_id = $1
RETURNING id
"""


async def store_registration(
    conn: Connection, registration: RegistrationState, *, version: int
) -> asyncpg.Record | None:
    """Keep the registration's state if it is newer than ours: the row, or None if it was not."""
    stored = await store_registrations(conn, [(registration, version)])
    return stored.get(registration.registration_id)


async def store_registrations(
    conn: Connection, changes: Sequence[tuple[RegistrationState, int]]
) -> dict[uuid.UUID, asyncpg.Record]:
    """`store_registration` for distinct registrations (each with its event's version) in one
    round trip: the rows kept, by id; one older than ours is not among them."""
    if not changes:
        return {}
    columns: list[list[object]] = [[] for _ in range(10)]
    for registration, version in changes:
        personal = registration.personal
        companions = personal.companions if personal else []
        values = (
            registration.registration_id,
            registration.meeting_id,
            registration.member_id,
            registration.status,
            registration.language,
            personal.name if personal else None,
            personal.email if personal else None,
            # As JSON text: asyncpg would take a list in an array for another dimension.
            orjson.dumps([c.model_dump() for c in companions]).decode(),
            personal.cancel_url if personal else None,
            version,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return {row["id"]: row for row in await conn.fetch(UPSERT_REGISTRATIONS, *columns)}


async def get_registration(conn: Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(REGISTRATION, registration_id)


async def active_registrations(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    """The meeting's confirmed and waitlisted registrations that have someone to write to."""
    return await conn.fetch(ACTIVE_REGISTRATIONS, meeting_id)


async def raise_calendar_sequence(conn: Connection, registration_id: uuid.UUID) -> int:
    """The next SEQUENCE of the registration's calendar entry (a changed entry needs a higher
    one for calendar clients to take it)."""
    sequence: int = await conn.fetchval(RAISE_SEQUENCE, registration_id)
    return sequence


async def person_strings(conn: Connection, member_id: uuid.UUID) -> set[str]:
    """Every non-empty name and address held about the member and their companions."""
    strings: set[str] = set()
    for row in await conn.fetch(PERSON_STRINGS, member_id):
        strings.update(value for value in row["strings"] if value)
    return strings


async def erase_registrations(conn: Connection, member_id: uuid.UUID) -> list[uuid.UUID]:
    """Blank the member's names, addresses and links; returns the registrations' ids."""
    return [row["id"] for row in await conn.fetch(ERASE_REGISTRATIONS, member_id)]


MEMBER_REGISTRATIONS = """
SELECT id AS registration_id, meeting_id, status, language, name, email, companions
FROM registrations WHERE member_id = $1
"""


async def member_registrations(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    """The member's registrations as held here: whom each writes to."""
    return await conn.fetch(MEMBER_REGISTRATIONS, member_id)
