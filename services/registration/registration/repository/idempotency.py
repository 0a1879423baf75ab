"""Idempotency-Key records: the key claimed in the request's own transaction, then its answer."""

from __future__ import annotations

from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

# A concurrent retry with the same key blocks on this insert until the first one commits.
CLAIM = """
INSERT INTO idempotency_keys (caller, key, route, request_fingerprint)
VALUES ($1, $2, $3, $4)
ON CONFLICT (caller, key, route) DO NOTHING
RETURNING key
"""

STORED = """
SELECT request_fingerprint, response_status, response_body
FROM idempotency_keys WHERE caller = $1 AND key = $2 AND route = $3
"""

STORE = """
UPDATE idempotency_keys SET response_status = $4, response_body = $5
WHERE caller = $1 AND key = $2 AND route = $3
"""

PURGE_EXPIRED = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)"

# A person's erasure forgets their requests too (a client may have put anything in the key).
FORGET_MENTIONING = """
DELETE FROM idempotency_keys WHERE position($1::text IN response_body::text) > 0
"""

Identity = tuple[str, str, str]  # caller, key, route


async def claim(conn: Connection, identity: Identity, *, fingerprint: str) -> bool:
    """True if this request is the key's first; False if the key was taken (and committed)."""
    return await conn.fetchval(CLAIM, *identity, fingerprint) is not None


async def stored(conn: Connection, identity: Identity) -> asyncpg.Record | None:
    return await conn.fetchrow(STORED, *identity)


async def store(conn: Connection, identity: Identity, *, status: int, body: dict[str, Any]) -> None:
    await conn.execute(STORE, *identity, status, body)


async def purge_expired(conn: Connection | asyncpg.Pool, *, older_than_hours: int) -> int:
    result = await conn.execute(PURGE_EXPIRED, older_than_hours)
    return int(result.split()[-1])


async def forget_mentioning(conn: Connection, text: str) -> None:
    await conn.execute(FORGET_MENTIONING, text)
