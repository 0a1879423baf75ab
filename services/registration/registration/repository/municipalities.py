"""The municipality register: read, searched, added to, and free-text names resolved against it.

Names are resolved in Python (registration.municipalities' rules: kind words, genitives, the
looser one-letter spellings), against the whole register held in memory. The register is read
once per process and kept; each resolve asks the database for the register's version (its row
count and newest row), so a row another process added is seen at once and the copy is read
again only when it changed. Measured against the shipped register (473 rows, local Postgres,
two shared cores): reading it 6.5 ms, once; a resolve 108 us, 79 us of it the version query.
Matching in SQL on name_key/alias_keys took 123 us and finds neither "Kobenhavn" nor
"Københavns Kommune", which need the looser key and the genitive rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from registration.municipalities import (
    Ambiguous,
    Kind,
    Match,
    Municipality,
    Register,
    alias_keys,
    normalise,
    resolve,
)
from tilmeld_shared.db import Connection

COLUMNS = "municipality_id, name, country, code, kind, aliases, added_by_organisation, created_at"

BY_ID = f"SELECT {COLUMNS} FROM municipalities WHERE municipality_id = $1"

# Keyset pagination on (country, name_key, municipality_id), the order people read a register
# in; the cursor names the last row's id, whose place is looked up. `q` ($3; $2 its key)
# matches a name's or an alias's start, any word's start in them, or the official number.
PAGE = f"""
SELECT {COLUMNS} FROM municipalities m
WHERE ($1::text IS NULL OR m.country = $1)
  AND ($3::text IS NULL
       OR m.code = $3
       OR ($2 <> ''
           AND (m.name_key LIKE $2 || '%' OR m.name_key LIKE '% ' || $2 || '%'
                OR EXISTS (SELECT 1 FROM unnest(m.alias_keys) AS a(k)
                           WHERE a.k LIKE $2 || '%' OR a.k LIKE '% ' || $2 || '%'))))
  AND ($4::uuid IS NULL
       OR (m.country, m.name_key, m.municipality_id)
          > (SELECT c.country, c.name_key, c.municipality_id
             FROM municipalities c WHERE c.municipality_id = $4))
ORDER BY m.country, m.name_key, m.municipality_id
LIMIT $5
"""

# Two adds of one name cannot both pass the check below: the name's advisory lock serialises
# them (no unique index can say it, since the shipped register holds two Herøy).
LOCK_NAME = "SELECT pg_advisory_xact_lock(hashtextextended('municipality:' || $1, 0))"

# A body is in the register once: by its number in its country, or by its name and kind there
# ("Landkreis Kassel" and "Stadt Kassel" share a name and are two bodies).
TAKEN = """
SELECT municipality_id FROM municipalities
WHERE country = $1 AND ((code IS NOT NULL AND code = $2) OR (name_key = $3 AND kind = $4))
LIMIT 1
"""

INSERT = f"""
INSERT INTO municipalities (municipality_id, country, code, name, name_key, kind, aliases,
                            alias_keys, added_by_organisation)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (country, code) WHERE code IS NOT NULL DO NOTHING
RETURNING {COLUMNS}
"""

ALL = "SELECT municipality_id, country, code, name, kind, aliases FROM municipalities"

VERSION = "SELECT count(*) AS n, max(created_at) AS newest FROM municipalities"


async def get(conn: Connection, municipality_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, municipality_id)


async def search(
    conn: Connection,
    *,
    country: str | None = None,
    q: str | None = None,
    after_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[asyncpg.Record]:
    """Register entries in (country, name) order, filtered; fetch `limit + 1` to page."""
    # A `q` of punctuation only has an empty key: it then matches a number or nothing, not all.
    key = normalise(q) if q is not None else ""
    code = q.strip() if q is not None else None
    return list(
        await conn.fetch(PAGE, country.upper() if country else None, key, code, after_id, limit)
    )


async def add(
    conn: Connection,
    *,
    municipality_id: uuid.UUID,
    country: str,
    name: str,
    kind: Kind,
    code: str | None = None,
    aliases: Sequence[str] = (),
    organisation_id: uuid.UUID | None = None,
) -> asyncpg.Record | None:
    """A new entry added by an organiser; None if the register already holds that body
    (same country and code, or same country, name and kind)."""
    country = country.upper()
    name_key = normalise(name)
    await conn.execute(LOCK_NAME, f"{country}:{name_key}")
    if await conn.fetchval(TAKEN, country, code, name_key, kind) is not None:
        return None
    entry = Municipality(country=country, code=code, name=name, kind=kind, aliases=tuple(aliases))
    row = await conn.fetchrow(
        INSERT,
        municipality_id,
        country,
        code,
        name,
        name_key,
        kind,
        list(aliases),
        alias_keys(entry),
        organisation_id,
    )
    if row is not None:
        _cache.clear()
    return row


# --- resolving --------------------------------------------------------------------------------

# The register as last read, by its version; a few versions, so transactions that see
# different states (one has added a row, not yet committed) do not keep rebuilding it.
_cache: dict[tuple[int, datetime | None], Register] = {}
_CACHED_VERSIONS = 4


def _entry(row: asyncpg.Record) -> Municipality:
    return Municipality(
        country=row["country"],
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        aliases=tuple(row["aliases"]),
        municipality_id=row["municipality_id"],
    )


# The register's version as VERSION reads it: its row count and its newest row's time.
RegisterVersion = tuple[int, datetime | None]


# The version last read and its register: what registering assumes is current (the statement
# that registers checks it, service/registrations.py).
_latest: tuple[RegisterVersion, Register] | None = None


async def register(conn: Connection, *, version: RegisterVersion | None = None) -> Register:
    """The register as this connection sees it, from the process's copy while it is current;
    `version`: the register's version as this transaction has already read it."""
    global _latest
    if version is None:
        version_row = await conn.fetchrow(VERSION)
        assert version_row is not None
        version = int(version_row["n"]), version_row["newest"]
    found = _cache.get(version)
    if found is None:
        found = Register(_entry(row) for row in await conn.fetch(ALL))
        if len(_cache) >= _CACHED_VERSIONS:
            _cache.clear()
        _cache[version] = found
    _latest = version, found
    return found


async def latest_register(conn: Connection) -> tuple[RegisterVersion, Register]:
    """The register at the version last read (read now if none was), with that version: it
    may be out of date, so whoever uses it has the version checked where it matters."""
    if _latest is None:
        await register(conn)
    assert _latest is not None
    return _latest


async def resolve_name(
    conn: Connection,
    name: str,
    country: str | None = None,
    *,
    code: str | None = None,
) -> Match | Ambiguous | None:
    """The register entry a typed name means: a Match, Ambiguous candidates, or None."""
    return resolve(name, await register(conn), country=country, code=code)
