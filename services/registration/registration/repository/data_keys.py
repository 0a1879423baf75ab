"""Member data keys as the master-key rotation sees them: which master key wrapped each one,
the next batch still to re-wrap, and the re-wrap itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tilmeld_shared.db import Connection

# The next members, in id order after the cursor, whose key is not recorded as wrapped by the
# current master key. Locked until the batch commits: an erasure (or a new key) waits for the
# re-wrap and then applies to the new value, never the other way round.
TO_REWRAP = """
SELECT m.id, m.data_key, w.wrapped_by
FROM members m LEFT JOIN member_data_key_wrapping w ON w.member_id = m.id
WHERE m.data_key IS NOT NULL
  AND w.wrapped_by IS DISTINCT FROM $1
  AND ($2::uuid IS NULL OR m.id > $2)
ORDER BY m.id
LIMIT $3
FOR UPDATE OF m
"""

# Only where the key is still the one read (the lock makes that certain; this says it too).
# Changing data_key drops the old record (the migration's trigger); the new one follows.
REWRAP = """
WITH new AS (
    SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS n(id, was, data_key)
),
rewrapped AS (
    UPDATE members m SET data_key = new.data_key
    FROM new
    WHERE m.id = new.id AND m.data_key = new.was AND new.data_key <> new.was
    RETURNING m.id
),
kept AS (
    SELECT m.id FROM members m JOIN new ON m.id = new.id
    WHERE m.data_key = new.was AND new.data_key = new.was
)
SELECT id FROM rewrapped UNION ALL SELECT id FROM kept
"""

RECORD = """
INSERT INTO member_data_key_wrapping (member_id, wrapped_by)
SELECT id, $2 FROM unnest($1::uuid[]) AS id
ON CONFLICT (member_id) DO UPDATE SET wrapped_by = EXCLUDED.wrapped_by
"""

NOT_UNDER = """
SELECT count(*)
FROM members m LEFT JOIN member_data_key_wrapping w ON w.member_id = m.id
WHERE m.data_key IS NOT NULL AND w.wrapped_by IS DISTINCT FROM $1
"""


@dataclass(frozen=True)
class WrappedKey:
    member_id: uuid.UUID
    wrapped: bytes
    wrapped_by: str | None  # the master key's id, None where not recorded


async def to_rewrap(
    conn: Connection, *, current: str, after: uuid.UUID | None, limit: int
) -> list[WrappedKey]:
    """The next batch of member keys not recorded under the `current` master key, locked."""
    rows = await conn.fetch(TO_REWRAP, current, after, limit)
    return [WrappedKey(row["id"], row["data_key"], row["wrapped_by"]) for row in rows]


async def rewrap(
    conn: Connection,
    changes: list[tuple[WrappedKey, bytes]],
    *,
    wrapped_by: str,
) -> None:
    """Store each member key as now wrapped (the same bytes where it already was) and record
    the master key that wrapped it."""
    if not changes:
        return
    ids = [key.member_id for key, _ in changes]
    stored = await conn.fetch(
        REWRAP, ids, [key.wrapped for key, _ in changes], [new for _, new in changes]
    )
    await conn.execute(RECORD, [row["id"] for row in stored], wrapped_by)


async def not_under(conn: Connection, current: str) -> int:
    """How many member keys are not recorded as wrapped by the `current` master key."""
    count: int = await conn.fetchval(NOT_UNDER, current)
    return count
