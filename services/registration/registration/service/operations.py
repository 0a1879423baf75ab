"""Read-only views for operators and the other services: the event log, the outbox's state,
and the counts reporting must agree with (reconcile); and the replay an operator starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from registration.repository import counts, events
from registration.unit_of_work import Transactions
from tilmeld_shared.db import Connection


async def replay_since(conn: Connection, since: datetime) -> int:
    """Queue every event written since `since` for publishing again (after a broker lost its
    data). Consumers deduplicate on event_id, so what they already had changes nothing."""
    return await events.replay_since(conn, since)


async def _events_after(
    conn: Connection, *, after: int, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    rows = await events.after(conn, position=after, since=since, limit=limit)
    return [dict(row) for row in rows]


async def _outbox_status(conn: Connection) -> dict[str, Any]:
    row = await events.status(conn)
    return {
        **dict(row),
        "oldest_unpublished_age_seconds": float(row["oldest_unpublished_age_seconds"]),
    }


async def _truth(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "meetings": [dict(row) for row in await counts.per_meeting(conn)],
        "networks": [dict(row) for row in await counts.per_network(conn)],
        "consultations": [dict(row) for row in await counts.per_consultation(conn)],
        "proposals": [dict(row) for row in await counts.per_proposal(conn)],
    }


async def events_after(
    tx: Transactions, *, after: int, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` events of the log after position `after` (written since `since`)."""
    return await tx.read(lambda conn: _events_after(conn, after=after, since=since, limit=limit))


async def outbox_status(tx: Transactions) -> dict[str, Any]:
    """The relay's backlog and the log's size."""
    return await tx.read(_outbox_status)


async def truth(tx: Transactions) -> dict[str, list[dict[str, Any]]]:
    """Counts from the source of truth, for reporting's reconcile."""
    return await tx.read(_truth)
