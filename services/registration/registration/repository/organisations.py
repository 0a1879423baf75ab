"""Organisations and the API keys their organisers use."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

INSERT = "INSERT INTO organisations (id, name) VALUES ($1, $2) RETURNING *"
ALL = "SELECT * FROM organisations ORDER BY name"
BY_ID = "SELECT * FROM organisations WHERE id = $1"

# The key itself is never stored, only its hash; no query returns the hash.
INSERT_API_KEY = """
INSERT INTO api_keys (id, organisation_id, name, role, key_hash) VALUES ($1, $2, $3, $4, $5)
RETURNING id, organisation_id, name, role, created_at, revoked_at
"""
API_KEYS = """
SELECT id, organisation_id, name, role, created_at, revoked_at FROM api_keys
WHERE organisation_id = $1 ORDER BY created_at
"""
# Revoking twice keeps the first revocation's time.
REVOKE_API_KEY = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING id, organisation_id, name, role, created_at, revoked_at
"""
ACTIVE_API_KEY = """
SELECT organisation_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
"""


async def insert(conn: Connection, *, organisation_id: uuid.UUID, name: str) -> asyncpg.Record:
    """A new organisation; asyncpg.UniqueViolationError if the name is taken."""
    row = await conn.fetchrow(INSERT, organisation_id, name)
    assert row is not None
    return row


async def all_by_name(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(ALL))


async def get(conn: Connection, organisation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, organisation_id)


async def insert_api_key(
    conn: Connection,
    *,
    api_key_id: uuid.UUID,
    organisation_id: uuid.UUID,
    name: str,
    role: str,
    key_hash: bytes,
) -> asyncpg.Record:
    row = await conn.fetchrow(INSERT_API_KEY, api_key_id, organisation_id, name, role, key_hash)
    assert row is not None
    return row


async def api_keys(conn: Connection, organisation_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(API_KEYS, organisation_id))


async def revoke_api_key(conn: Connection, api_key_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(REVOKE_API_KEY, api_key_id)


async def active_api_key(conn: Connection, *, key_hash: bytes) -> asyncpg.Record | None:
    """The organisation and role of an unrevoked key with this hash."""
    return await conn.fetchrow(ACTIVE_API_KEY, key_hash)
