"""Joint meetings: a meeting's hosts (its network and its co-hosts), their members, and a
network's meetings whether it hosts or co-hosts them."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

NETWORKS = "SELECT id, organisation_id, title FROM networks WHERE id = ANY ($1::uuid[])"

# The meetings a network hosts or co-hosts (the GIN index on co_hosts answers the second),
# keyset-paginated on (starts_at, id) and shown with the waitlist's length, like
# repository/meetings.py's PAGE.
PAGE = """
SELECT m.*, (SELECT count(*) FROM registrations r
             WHERE r.meeting_id = m.id AND r.status = 'waitlisted') AS waitlist_length
FROM meetings m
WHERE (m.network_id = $1 OR m.co_hosts @> ARRAY[$1::uuid])
  AND ($2::timestamptz IS NULL OR (m.starts_at, m.id) > ($2, $3))
ORDER BY m.starts_at, m.id
LIMIT $4
"""

# The public calendar feed's meetings: open to the public, hosted or co-hosted, cancelled ones
# included (a subscribed calendar learns of the cancellation from them).
PUBLIC_FEED = """
SELECT * FROM meetings
WHERE (network_id = $1 OR co_hosts @> ARRAY[$1::uuid]) AND open_to_public
ORDER BY starts_at, id
"""


async def networks(conn: Connection, network_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """The networks among the ids that exist (id, organisation_id, title)."""
    return list(await conn.fetch(NETWORKS, network_ids))


async def page(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    after_time: Any,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, network_id, after_time, after_id, limit))


async def public_feed(conn: Connection, network_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(PUBLIC_FEED, network_id))
