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

# Member dialogue, counted as the reports count it: responses and votes whose person has
# confirmed their address. A consultation reaches reporting when it opens, so scheduled ones are
# left out; every proposal does (pending ones too, uncounted).
PER_CONSULTATION = """
SELECT c.id AS consultation_id, c.network_id, c.status,
       count(r.id) FILTER (WHERE r.status = 'counted') AS responses
FROM consultations c LEFT JOIN consultation_responses r ON r.consultation_id = c.id
WHERE c.status <> 'scheduled'
GROUP BY c.id
ORDER BY c.id
"""

PER_PROPOSAL = """
SELECT p.id AS proposal_id, p.network_id, p.status, p.counted,
       count(v.id) FILTER (WHERE v.status = 'counted') AS votes
FROM proposals p LEFT JOIN proposal_votes v ON v.proposal_id = p.id
GROUP BY p.id
ORDER BY p.id
"""


async def per_meeting(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_MEETING))


async def per_network(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_NETWORK))


async def per_consultation(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_CONSULTATION))


async def per_proposal(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(PER_PROPOSAL))
