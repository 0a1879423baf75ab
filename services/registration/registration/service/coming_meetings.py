"""What the list of networks promises: each network's coming meetings."""

from __future__ import annotations

import uuid
from collections import defaultdict

import asyncpg

from registration.repository import coming_meetings as coming_rows
from registration.unit_of_work import ServiceContext, Transactions


async def next_meetings(
    tx: Transactions, ctx: ServiceContext, network_ids: list[uuid.UUID], *, per_network: int
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    """Up to `per_network` coming meetings of each network, by network, in the order they
    start (one query for the whole list)."""
    rows = await tx.read(
        lambda conn: coming_rows.coming(
            conn, network_ids, now=ctx.clock.now(), per_network=per_network
        )
    )
    by_network: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        by_network[row["listed_under"]].append(row)
    return dict(by_network)
