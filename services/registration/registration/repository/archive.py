"""The archive: a network's held meetings (its own and those it co-hosted), newest first."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection

HELD_OF_NETWORK = """
SELECT * FROM meetings
WHERE (network_id = $1 OR $1 = ANY(co_hosts)) AND status = 'held'
ORDER BY starts_at DESC, id
LIMIT $2
"""


async def held_of_network(
    conn: Connection, network_id: uuid.UUID, *, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(HELD_OF_NETWORK, network_id, limit))
