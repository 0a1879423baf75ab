"""Counts from the source of truth, which reporting's projections must agree with."""

from __future__ import annotations

import asyncpg

from tilmeld_shared.db import Connection

PER_MEETING = """
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

PER_NETWORK = """
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


async def per_meeting(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_MEETING))


async def per_network(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_NETWORK))
