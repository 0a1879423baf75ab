"""Sending the ledger's rows: claimed in batches under a lease, then marked sent or failed.

Each statement stands alone (the dispatcher runs them outside any transaction): a row is marked
`sent` as soon as the server accepts it, with the rows the other connections had accepted
meanwhile."""

from __future__ import annotations

import uuid

import asyncpg

from notification.repository import Db

# The shortest lease; the dispatcher asks for longer when its SMTP timeout needs it.
LEASE_SECONDS = 60

# SKIP LOCKED and a lease: two processes never send the same notification; a crashed one's rows
# come back once the lease expires.
CLAIM_DUE = """
UPDATE notifications n
SET locked_until = now() + make_interval(secs => $2), attempts = n.attempts + 1
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

# One round trip (and one commit) for what each SMTP connection needs before its next message:
# its last accepted one marked `sent`, and whether the next is still to be sent (erasure may have
# suppressed a row while it was leased). The update's rows are never among those checked.
MARK_SENT_AND_CHECK = """
WITH sent AS (
    UPDATE notifications
    SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = NULL
    WHERE id = ANY($1::uuid[])
)
SELECT id FROM notifications WHERE id = ANY($2::uuid[]) AND status IN ('pending', 'failed')
"""

MARK_FAILED = """
UPDATE notifications
SET status = $2, last_error = $3, locked_until = NULL,
    next_attempt_at = now() + make_interval(secs => $4)
WHERE id = $1 AND status IN ('pending', 'failed')
"""

STATE_COUNTS = "SELECT status, count(*) AS n FROM notifications GROUP BY status"


async def claim_due(db: Db, *, limit: int, lease_s: float) -> list[asyncpg.Record]:
    """Lease up to `limit` rows due for an attempt for `lease_s` seconds (counting the
    attempt); the whole rows."""
    return await db.fetch(CLAIM_DUE, limit, lease_s)


async def mark_sent_and_check(
    db: Db, *, sent: list[uuid.UUID], upcoming: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Mark `sent` those sent; of `upcoming`, the ids still to be sent."""
    return {row["id"] for row in await db.fetch(MARK_SENT_AND_CHECK, sent, upcoming)}


async def mark_failed(
    db: Db, notification_id: uuid.UUID, *, status: str, error: str, retry_in_s: float
) -> None:
    """`failed` (tried again after `retry_in_s`) or `dead`; a row erased meanwhile stays so."""
    await db.execute(MARK_FAILED, notification_id, status, error, retry_in_s)


async def state_counts(db: Db) -> dict[str, int]:
    """How many rows are in each status."""
    return {row["status"]: row["n"] for row in await db.fetch(STATE_COUNTS)}
