"""The local copy of each network: its title and language (for the emails about its parties),
and who runs it and how to reach them (for every email sent on its behalf)."""

from __future__ import annotations

import uuid

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated

# Network events may be replayed: only a newer version changes the row.
UPSERT_NETWORK = """
INSERT INTO networks (id, title, language, organisers, contact_name, contact_email,
                      aggregate_version)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, language = excluded.language, organisers = excluded.organisers,
    contact_name = excluded.contact_name, contact_email = excluded.contact_email,
    aggregate_version = excluded.aggregate_version
WHERE networks.aggregate_version < excluded.aggregate_version
"""

NETWORK = "SELECT * FROM networks WHERE id = $1"


async def store_network(conn: Connection, network: NetworkCreated, *, version: int) -> None:
    """Keep the network's details if the event is newer than our copy."""
    await conn.execute(
        UPSERT_NETWORK,
        network.network_id,
        network.title,
        network.language,
        list(network.organisers),
        network.contact_name,
        network.contact_email,
        version,
    )


async def get_network(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record | None:
    """The network's copy; None for one created before this service kept networks."""
    return await conn.fetchrow(NETWORK, network_id)
