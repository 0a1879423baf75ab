"""Series enrolment's ledger and the term's end: which (meeting, member) pairs are still owed a
registration, and which enrolments a passed term ends."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A meeting series enrolment may register people for: to come, open for registration, for
# members (an open_to_public meeting needs no membership; nobody is put on it unasked). `m`.
_OPEN_MEMBER_MEETING = """
m.status = 'scheduled' AND NOT m.open_to_public
AND coalesce(m.registration_deadline, m.starts_at) > $1
"""

# The active members of the meeting's auto_register hosts (the network and its co-hosts) with
# no ledger row for the meeting yet: each person once, by their earliest enrolment. A meeting
# after a host's term has ended belongs to the next term, which nobody has chosen yet. `m`.
_OWED = """
SELECT DISTINCT ON (e.member_id) e.member_id, e.id AS enrolment_id, e.created_at
FROM networks n
JOIN enrolments e ON e.network_id = n.id AND e.status = 'active'
WHERE n.auto_register
  AND n.id = ANY (array_prepend(m.network_id, m.co_hosts))
  AND (n.term_ends_at IS NULL OR m.starts_at < n.term_ends_at)
  AND NOT EXISTS (SELECT 1 FROM series_registrations s
                  WHERE s.meeting_id = m.id AND s.member_id = e.member_id)
ORDER BY e.member_id, e.created_at, e.id
"""

# One meeting that owes someone a registration, locked: the work of one transaction. SKIP
# LOCKED leaves a meeting another process (or a registration) holds to it; the ledger rows it
# writes take the meeting off the list. $2/$3 narrow the search to a meeting or to the
# meetings of a network (as host or co-host).
CLAIM_MEETING = f"""
SELECT m.* FROM meetings m
WHERE {_OPEN_MEMBER_MEETING}
  AND ($2::uuid IS NULL OR m.id = $2)
  AND ($3::uuid IS NULL OR m.network_id = $3 OR $3 = ANY (m.co_hosts))
  AND EXISTS ({_OWED})
ORDER BY m.starts_at, m.id
LIMIT 1
FOR UPDATE OF m SKIP LOCKED
"""

# The people the (locked) meeting owes, in the order they enrolled: the first come get the
# seats, the rest the waitlist, as if each had registered in that order.
OWED = f"""
SELECT owed.member_id, owed.enrolment_id
FROM meetings m, LATERAL ({_OWED}) AS owed
WHERE m.id = $1
ORDER BY owed.created_at, owed.enrolment_id
"""

# Any registration the person has (or had) for the meeting, the newest first.
LATEST_OF_MEMBER = """
SELECT * FROM registrations WHERE meeting_id = $1 AND member_id = $2
ORDER BY position DESC LIMIT 1
"""

RECORD = """
INSERT INTO series_registrations (meeting_id, member_id, enrolment_id, registration_id, outcome,
                                  recorded_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""

# Active enrolments of networks whose term ended by $1, a batch of at most $2, locked: SKIP
# LOCKED shares the work between processes (one being cancelled meanwhile is left to its
# cancel; the re-checked status keeps it from ending twice).
CLAIM_ENDED = """
SELECT e.*, n.term_ends_at FROM enrolments e JOIN networks n ON n.id = e.network_id
WHERE e.status = 'active' AND n.term_ends_at <= $1
ORDER BY n.term_ends_at, e.created_at, e.id
LIMIT $2
FOR UPDATE OF e SKIP LOCKED
"""

END = """
UPDATE enrolments SET status = 'ended', cancelled_at = $2, version = version + 1
WHERE id = $1 AND status = 'active'
RETURNING *
"""

# What the enrolment registered its member for from a moment on (its term's end, or leaving):
# its automatic registrations still standing, never one the person made (the ledger names
# those too, as already_registered).
AFTER_TERM = """
SELECT r.id FROM series_registrations s
JOIN registrations r ON r.id = s.registration_id
JOIN meetings m ON m.id = s.meeting_id
WHERE s.enrolment_id = $1 AND s.outcome = 'registered' AND r.automatic
  AND r.status IN ('confirmed', 'waitlisted')
  AND m.status = 'scheduled' AND m.starts_at >= $2
ORDER BY m.starts_at, m.id
"""

# A registration cancelled with its enrolment (the term's end, leaving) is no longer done: a
# later enrolment of the person registers them again.
FORGET = "DELETE FROM series_registrations WHERE registration_id = ANY ($1::uuid[])"


async def claim_meeting(
    conn: Connection,
    *,
    now: datetime,
    meeting_id: uuid.UUID | None = None,
    network_id: uuid.UUID | None = None,
) -> asyncpg.Record | None:
    """A meeting owing someone a series registration, locked; None if none is free."""
    return await conn.fetchrow(CLAIM_MEETING, now, meeting_id, network_id)


async def owed(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    """The (member_id, enrolment_id) pairs the meeting owes, in enrolment order."""
    return list(await conn.fetch(OWED, meeting_id))


async def latest_of_member(
    conn: Connection, meeting_id: uuid.UUID, member_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(LATEST_OF_MEMBER, meeting_id, member_id)


async def record(
    conn: Connection,
    *,
    meeting_id: uuid.UUID,
    member_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    registration_id: uuid.UUID | None,
    outcome: str,
    at: datetime,
) -> None:
    await conn.execute(RECORD, meeting_id, member_id, enrolment_id, registration_id, outcome, at)


async def claim_ended(conn: Connection, *, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Up to `limit` active enrolments whose network's term ended by `now`, locked."""
    return list(await conn.fetch(CLAIM_ENDED, now, limit))


async def end(conn: Connection, enrolment_id: uuid.UUID, *, at: datetime) -> asyncpg.Record | None:
    """End the enrolment (its next version); None if it is no longer active."""
    return await conn.fetchrow(END, enrolment_id, at)


async def after_term(
    conn: Connection, enrolment_id: uuid.UUID, *, term_ends_at: datetime
) -> list[uuid.UUID]:
    """The enrolment's automatic registrations still standing for meetings after its term."""
    return [row["id"] for row in await conn.fetch(AFTER_TERM, enrolment_id, term_ends_at)]


async def forget(conn: Connection, registration_ids: list[uuid.UUID]) -> None:
    """Take the registrations off the ledger: the series owes their people again."""
    await conn.execute(FORGET, registration_ids)
