"""A network's members as its organisers list them: who, from where, since when, how often
they came."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# Every enrolment of the network (active first), with what the member came to: the held
# meetings of the network (its own and those it co-hosts) since they enrolled, and how many of
# those they were checked in at. An erased member keeps the row (the enrolment happened) with
# no name.
MEMBERS = """
WITH held AS (
    SELECT id, starts_at FROM meetings
    WHERE (network_id = $1 OR $1 = ANY (co_hosts))
      AND status <> 'cancelled' AND ends_at <= $2
)
SELECT e.id AS enrolment_id, e.member_id, e.status, e.created_at AS enrolled_at,
       e.cancelled_at, m.name, m.email, m.municipality, m.role, m.organisation,
       (SELECT count(*) FROM held h WHERE h.starts_at >= e.created_at) AS meetings_held,
       (SELECT count(*) FROM registrations r JOIN held h ON h.id = r.meeting_id
        WHERE r.member_id = e.member_id AND r.checked_in_at IS NOT NULL) AS meetings_attended
FROM enrolments e JOIN members m ON m.id = e.member_id
WHERE e.network_id = $1
ORDER BY e.status = 'active' DESC, lower(m.name) NULLS LAST, e.created_at, e.id
"""


async def network_members(
    conn: Connection, network_id: uuid.UUID, *, now: datetime
) -> list[asyncpg.Record]:
    """The network's enrolments with their members and attendance, active ones first."""
    return list(await conn.fetch(MEMBERS, network_id, now))
