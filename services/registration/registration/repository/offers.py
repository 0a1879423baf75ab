"""Seats offered from the waitlist: held for one registration until the offer is accepted,
declined (the registration cancelled) or expires. Every statement here runs under the meeting's
row lock (or takes it: `lock_meetings_with_lapsed_offers`), as every seat change does."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from registration.repository.registrations import SHARE_KEY
from tilmeld_shared.db import Connection

# Seats held by open offers: not free for anyone else, not yet taken (seats_taken).
SEATS_ON_OFFER = """
SELECT coalesce(sum(seats), 0) FROM registrations WHERE meeting_id = $1 AND offer_state = 'open'
"""

# The waitlist a freed seat may go to, in registration order: those not holding an offer.
WAITING = f"""
SELECT r.id, r.seats, {SHARE_KEY} AS share_key
FROM registrations r JOIN members mb ON mb.id = r.member_id
WHERE r.meeting_id = $1 AND r.status = 'waitlisted' AND r.offer_state IS DISTINCT FROM 'open'
ORDER BY r.position
"""

# Seats per municipality a share counts: confirmed, and held by an open offer (accepted, it
# becomes confirmed; counting it now keeps the share from being promised twice).
SEATS_HELD_BY_MUNICIPALITY = f"""
SELECT {SHARE_KEY} AS share_key, sum(r.seats) AS seats
FROM registrations r JOIN members mb ON mb.id = r.member_id
WHERE r.meeting_id = $1 AND (r.status = 'confirmed' OR r.offer_state = 'open')
GROUP BY 1
"""

OFFER = """
UPDATE registrations SET offer_state = 'open', offered_at = $2, offer_expires_at = $3
WHERE id = $1 AND status = 'waitlisted' AND offer_state IS NULL
RETURNING *
"""

# Meetings with offers lapsed by $1, at most $2, each locked for the batch that expires them.
# The meeting's row is the lock every seat change takes first, so an accept or a cancellation
# in flight holds it and SKIP LOCKED leaves that meeting to them (and the next run); two
# schedulers never take the same meeting. A cancelled meeting's offers are left as they are.
LOCK_MEETINGS_WITH_LAPSED_OFFERS = """
SELECT m.* FROM meetings m
WHERE m.status <> 'cancelled'
  AND m.id IN (SELECT meeting_id FROM registrations
               WHERE offer_state = 'open' AND offer_expires_at <= $1)
ORDER BY m.id
LIMIT $2
FOR UPDATE OF m SKIP LOCKED
"""

# Read after the meeting's lock is held, so an offer accepted or declined meanwhile is not here.
LAPSED_OF_MEETING = """
SELECT * FROM registrations
WHERE meeting_id = $1 AND offer_state = 'open' AND offer_expires_at <= $2
ORDER BY position
"""

EXPIRE = """
UPDATE registrations SET offer_state = 'expired', status = 'cancelled', cancelled_at = $2
WHERE id = $1 AND offer_state = 'open'
RETURNING *
"""


async def seats_on_offer(conn: Connection, meeting_id: uuid.UUID) -> int:
    return int(await conn.fetchval(SEATS_ON_OFFER, meeting_id))


async def waiting(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(WAITING, meeting_id))


async def seats_held_by_municipality(conn: Connection, meeting_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(SEATS_HELD_BY_MUNICIPALITY, meeting_id)
    return {row["share_key"]: int(row["seats"]) for row in rows}


async def offer(
    conn: Connection, registration_id: uuid.UUID, *, at: datetime, expires_at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(OFFER, registration_id, at, expires_at)
    assert row is not None
    return row


async def lock_meetings_with_lapsed_offers(
    conn: Connection, *, lapsed_by: datetime, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LOCK_MEETINGS_WITH_LAPSED_OFFERS, lapsed_by, limit))


async def lapsed_of_meeting(
    conn: Connection, meeting_id: uuid.UUID, *, lapsed_by: datetime
) -> list[asyncpg.Record]:
    return list(await conn.fetch(LAPSED_OF_MEETING, meeting_id, lapsed_by))


async def expire(conn: Connection, registration_id: uuid.UUID, *, at: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(EXPIRE, registration_id, at)
    assert row is not None
    return row
