"""Sending the ledger's rows: claimed in batches under a lease, then marked sent or failed.

Each statement stands alone (the dispatcher runs them on the pool, not in one transaction): a
row is marked `sent` as soon as the server accepts it."""

from __future__ import annotations

import uuid

import asyncpg

from notification.repository import Db

LEASE_SECONDS = 60

# SKIP LOCKED and a lease: two processes never send the same notification; a crashed one's rows
# come back once the lease expires.
CLAIM_DUE = f"""
UPDATE notifications n
SET locked_until = now() + interval '{LEASE_SECONDS} seconds', attempts = n.attempts + 1
FROM (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
      AND (locked_until IS NULL OR locked_until < now())
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE n.id = due.id
RETURNING n.*
"""

MARK_SENT = """
UPDATE notifications SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = NULL
WHERE id = $1
"""

MARK_FAILED = """
UPDATE notifications
SET status = $2, last_error = $3, locked_until = NULL,
    next_attempt_at = now() + make_interval(secs => $4)
WHERE id = $1 AND status IN ('pending', 'failed')
"""

# Erasure may have suppressed a row while it was leased: check just before sending.
STILL_SENDABLE = "SELECT status IN ('pending', 'failed') FROM notifications WHERE id = $1"

STATE_COUNTS = "SELECT status, count(*) AS n FROM notifications GROUP BY status"


async def claim_due(db: Db, *, limit: int) -> list[asyncpg.Record]:
    """Lease up to `limit` rows due for an attempt (counting the attempt); the whole rows."""
    return await db.fetch(CLAIM_DUE, limit)


async def still_sendable(db: Db, notification_id: uuid.UUID) -> bool:
    return bool(await db.fetchval(STILL_SENDABLE, notification_id))


async def mark_sent(db: Db, notification_id: uuid.UUID) -> None:
    await db.execute(MARK_SENT, notification_id)


async def mark_failed(
    db: Db, notification_id: uuid.UUID, *, status: str, error: str, retry_in_s: float
) -> None:
    """`failed` (tried again after `retry_in_s`) or `dead`; a row erased meanwhile stays so."""
    await db.execute(MARK_FAILED, notification_id, status, error, retry_in_s)


async def state_counts(db: Db) -> dict[str, int]:
    """How many rows are in each status."""
    return {row["status"]: row["n"] for row in await db.fetch(STATE_COUNTS)}
