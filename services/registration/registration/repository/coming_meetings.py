"""The next meetings of several networks at once, for the public list of networks."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# Per network, its next scheduled meetings not yet over (a joint meeting under each host),
# in the order they start. `listed_under` is the network the row is listed for.
COMING = """
SELECT n.id AS listed_under, m.id, m.title, m.starts_at, m.ends_at, m.timezone,
       m.open_to_public
FROM unnest($1::uuid[]) AS n(id)
CROSS JOIN LATERAL (
    SELECT * FROM meetings m
    WHERE (m.network_id = n.id OR m.co_hosts @> ARRAY[n.id])
      AND m.status = 'scheduled' AND m.ends_at > $2
    ORDER BY m.starts_at, m.id
    LIMIT $3
) AS m
ORDER BY n.id, m.starts_at, m.id
"""


async def coming(
    conn: Connection, network_ids: list[uuid.UUID], *, now: datetime, per_network: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(COMING, network_ids, now, per_network))
