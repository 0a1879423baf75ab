"""The local copy of each network: its title and language, for the emails about its parties."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated

# Network events may be replayed: only a newer version changes the row.
UPSERT_NETWORK = """
INSERT INTO networks (id, title, language, aggregate_version)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, language = excluded.language,
    aggregate_version = excluded.aggregate_version
WHERE networks.aggregate_version < excluded.aggregate_version
"""

NETWORK = "SELECT * FROM networks WHERE id = $1"


async def store_network(conn: Connection, network: NetworkCreated, *, version: int) -> None:
    """Keep the network's title and language if the event is newer than our copy."""
    await conn.execute(UPSERT_NETWORK, network.network_id, network.title, network.language, version)


async def get_network(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
    """The network's copy; None for one created before this service kept networks."""
    return await conn.fetchrow(NETWORK, network_id)
