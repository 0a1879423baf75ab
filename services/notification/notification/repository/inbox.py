"""The inbox: which events this service has handled, written in the transaction of their effect."""

from __future__ import annotations

import uuid

from tilmeld_shared.db import Connection

CLAIM_EVENTS = """
INSERT INTO inbox (event_id, event_type) SELECT * FROM unnest($1::uuid[], $2::text[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


async def claim_events(conn: Connection, events: list[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Record a batch's events as handled, in one statement; returns the ids not handled before
    (a redelivered one is not among them)."""
    if not events:
        return set()
    rows = await conn.fetch(CLAIM_EVENTS, [e for e, _ in events], [t for _, t in events])
    return {row["event_id"] for row in rows}
