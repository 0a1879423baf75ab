"""Read-only views for operators and the other services: the event log, the outbox's state,
and the counts reporting must agree with (reconcile)."""

from __future__ import annotations

from typing import Any

from tilmeld_shared.db import Connection

EVENTS_AFTER = """
SELECT id AS position, envelope FROM outbox
WHERE id > $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
ORDER BY id
LIMIT $3
"""

OUTBOX_STATUS = """
SELECT count(*) FILTER (WHERE published_at IS NULL) AS backlog,
       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE published_at IS NULL)),
                0) AS oldest_unpublished_age_seconds,
       count(*) AS events_total,
       max(id) AS last_position
FROM outbox
"""

MEETING_TRUTH = """
SELECT m.id AS meeting_id, m.network_id, m.capacity, m.status,
       coalesce(sum(r.seats) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
       count(r.id) FILTER (WHERE r.status = 'confirmed') AS registrations_confirmed,
       coalesce(sum(r.seats - 1) FILTER (WHERE r.status = 'confirmed'), 0)
           AS companions_confirmed,
       count(r.id) FILTER (WHERE r.status = 'waitlisted') AS waitlisted,
       count(r.id) FILTER (WHERE r.status = 'cancelled') AS cancelled,
       count(r.id) FILTER (WHERE r.status = 'confirmed' AND r.checked_in_at IS NOT NULL)
           AS attended
FROM meetings m LEFT JOIN registrations r ON r.meeting_id = m.id
GROUP BY m.id
ORDER BY m.id
"""

NETWORK_TRUTH = """
SELECT n.id AS network_id,
       (SELECT count(*) FROM enrolments e WHERE e.network_id = n.id AND e.status = 'active')
           AS members_active,
       (SELECT count(*) FROM enrolments e WHERE e.network_id = n.id) AS enrolments_total,
       (SELECT count(*) FROM enrolments e WHERE e.network_id = n.id
        AND e.status = 'cancelled') AS enrolments_cancelled,
       (SELECT count(*) FROM meetings m WHERE m.network_id = n.id AND m.status <> 'cancelled')
           AS meetings_scheduled,
       (SELECT count(*) FROM meetings m WHERE m.network_id = n.id AND m.status = 'cancelled')
           AS meetings_cancelled
FROM networks n
ORDER BY n.id
"""


# The relay sends unpublished rows in outbox order, so unmarking is all a replay needs.
REPLAY_SINCE = "UPDATE outbox SET published_at = NULL WHERE created_at >= $1"


async def replay_since(conn: Connection, since: Any) -> int:
    """Queue every event written since `since` for publishing again (after a broker lost its
    data). Consumers deduplicate on event_id, so what they already had changes nothing."""
    result = await conn.execute(REPLAY_SINCE, since)
    return int(result.split()[-1])


async def events_after(
    conn: Connection, *, after: int, since: Any, limit: int
) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(EVENTS_AFTER, after, since, limit)]


async def outbox_status(conn: Connection) -> dict[str, Any]:
    row = await conn.fetchrow(OUTBOX_STATUS)
    assert row is not None
    return {
        **dict(row),
        "oldest_unpublished_age_seconds": float(row["oldest_unpublished_age_seconds"]),
    }


async def truth(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "meetings": [dict(row) for row in await conn.fetch(MEETING_TRUTH)],
        "networks": [dict(row) for row in await conn.fetch(NETWORK_TRUTH)],
    }
