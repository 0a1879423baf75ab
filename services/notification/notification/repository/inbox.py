"""The inbox: which events this service has handled, written in the transaction of their effect."""

from __future__ import annotations

import uuid

from tilmeld_shared.db import Connection

CLAIM_EVENT = """
INSERT INTO inbox (event_id, event_type) VALUES ($1, $2)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


async def claim_event(conn: Connection, event_id: uuid.UUID, *, event_type: str) -> bool:
    """Record the event as handled; False when it was handled before (a redelivery)."""
    return await conn.fetchval(CLAIM_EVENT, event_id, event_type) is not None
