"""Registrations for meetings: seats, the waitlist in registration order, attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from registration.repository.events import OutboxEntry
from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO registrations (id, meeting_id, member_id, status, seats, companions, created_at,
                           confirmed_at, automatic)
VALUES ($1, $2, $3, $4::text, $5, $6, $7::timestamptz,
        CASE WHEN $4::text = 'confirmed' THEN $7::timestamptz END, $8)
RETURNING *
"""

# A registration, the meeting's next version with its seat count moved, and the registration's
# event, in one statement: a third of the round trips of writing them one by one. The caller
# holds the meeting's row lock, so the version and the waitlist position (every registration of
# the meeting is written under that lock, so the new one is last in line) are the event's own;
# both go into the envelope ($14) here.
INSERT_ANNOUNCED = """
WITH registration AS (
    INSERT INTO registrations (id, meeting_id, member_id, status, seats, companions, created_at,
                               confirmed_at, automatic)
    VALUES ($1, $2, $3, $4::text, $5, $6, $7::timestamptz,
            CASE WHEN $4::text = 'confirmed' THEN $7::timestamptz END, $8)
    RETURNING *
), meeting AS (
    UPDATE meetings SET seats_taken = seats_taken + $9, version = version + 1, updated_at = now()
    WHERE id = $2
    RETURNING version
), line AS (
    SELECT CASE WHEN $4::text = 'waitlisted' THEN count(*) + 1 END AS waitlist_position
    FROM registrations WHERE meeting_id = $2 AND status = 'waitlisted'
), event AS (
    INSERT INTO outbox (event_id, topic, message_key, event_type, aggregate_id,
                        aggregate_version, envelope, traceparent, tracestate)
    SELECT $10, $11, $12, $13, $2, meeting.version,
           jsonb_set(jsonb_set($14::jsonb, '{aggregate_version}', to_jsonb(meeting.version)),
                     '{payload,waitlist_position}',
                     coalesce(to_jsonb(line.waitlist_position), 'null'::jsonb)),
           $15, $16
    FROM meeting, line
)
SELECT registration.*, line.waitlist_position FROM registration, line
"""

ACTIVE = """
SELECT id FROM registrations
WHERE meeting_id = $1 AND member_id = $2 AND status IN ('confirmed', 'waitlisted')
"""

BY_ID = "SELECT * FROM registrations WHERE id = $1"

# The key a registration's seats count against its municipality's share by: the resolved
# municipality's id, else "name:" and the typed name's key (registration.domain.share_key).
SHARE_KEY = "coalesce(mb.municipality_id::text, 'name:' || mb.municipality_key)"

# In registration order: a freed seat goes to whoever waited longest and fits.
WAITLIST = f"""
SELECT r.id, r.seats, {SHARE_KEY} AS share_key
FROM registrations r JOIN members mb ON mb.id = r.member_id
WHERE r.meeting_id = $1 AND r.status = 'waitlisted'
ORDER BY r.position
"""

# Confirmed seats per municipality, for a meeting with a share. The caller holds the meeting's
# row lock, so the counts cannot move before its decision is written.
SEATS_BY_MUNICIPALITY = f"""
SELECT {SHARE_KEY} AS share_key, sum(r.seats) AS seats
FROM registrations r JOIN members mb ON mb.id = r.member_id
WHERE r.meeting_id = $1 AND r.status = 'confirmed'
GROUP BY 1
"""

SEATS_OF_MUNICIPALITY = f"""
SELECT coalesce(sum(r.seats), 0)
FROM registrations r JOIN members mb ON mb.id = r.member_id
WHERE r.meeting_id = $1 AND r.status = 'confirmed' AND {SHARE_KEY} = $2
"""

WAITLIST_POSITION = """
SELECT count(*) FROM registrations
WHERE meeting_id = $1 AND status = 'waitlisted' AND position <= $2
"""

# The moment of the change goes in the column the new status names.
SET_STATUS = """
UPDATE registrations
SET status = $2::text,
    confirmed_at = CASE WHEN $2::text = 'confirmed' THEN $3::timestamptz ELSE confirmed_at END,
    cancelled_at = CASE WHEN $2::text = 'cancelled' THEN $3::timestamptz ELSE cancelled_at END,
    -- An open offer (repository/offers.py) ends with the wait: taken, or given up.
    offer_state = CASE WHEN offer_state = 'open' AND $2::text = 'confirmed' THEN 'accepted'
                       WHEN offer_state = 'open' AND $2::text = 'cancelled' THEN 'declined'
                       ELSE offer_state END
WHERE id = $1
RETURNING *
"""

CHECK_IN = "UPDATE registrations SET checked_in_at = $2 WHERE id = $1 RETURNING *"

# Keyset pagination on the registration order (position), as the waitlist is ordered.
ROSTER = """
SELECT r.id AS registration_id, r.member_id, r.status, r.seats, m.name, m.email, m.municipality,
       m.municipality_id, m.role, m.organisation, r.companions, r.created_at AS registered_at,
       r.checked_in_at, r.companions_arrived, r.automatic,
       CASE WHEN r.status = 'waitlisted' THEN
           (SELECT count(*) FROM registrations w
            WHERE w.meeting_id = r.meeting_id AND w.status = 'waitlisted'
              AND w.position <= r.position)
       END AS waitlist_position
FROM registrations r JOIN members m ON m.id = r.member_id
WHERE r.meeting_id = $1 AND ($2::bigint IS NULL OR r.position > $2)
ORDER BY r.position
LIMIT $3
"""

POSITION_OF = "SELECT position FROM registrations WHERE id = $1"

# What registering checks about the person and the meeting, read in one round trip under the
# meeting's row lock: whether they hold an active registration for it already, how many active
# registrations they hold in all (the per-person cap) and the seats the meeting has on offer.
STANDING = """
SELECT EXISTS (SELECT 1 FROM registrations
               WHERE meeting_id = $1 AND member_id = $2 AND status IN ('confirmed', 'waitlisted'))
           AS registered,
       (SELECT count(*) FROM registrations r JOIN meetings m ON m.id = r.meeting_id
        WHERE r.member_id = $2 AND r.status IN ('confirmed', 'waitlisted') AND m.ends_at > $3)
           AS active,
       (SELECT coalesce(sum(seats), 0) FROM registrations
        WHERE meeting_id = $1 AND offer_state = 'open') AS on_offer
"""

# Registrations a person holds that still take or wait for a seat (the per-person cap).
ACTIVE_COUNT_OF_MEMBER = """
SELECT count(*) FROM registrations r JOIN meetings m ON m.id = r.meeting_id
WHERE r.member_id = $1 AND r.status IN ('confirmed', 'waitlisted') AND m.ends_at > $2
"""

OF_MEMBER = """
SELECT r.*, mt.title AS meeting_title, mt.starts_at
FROM registrations r JOIN meetings mt ON mt.id = r.meeting_id
WHERE r.member_id = $1 ORDER BY r.position
"""

ACTIVE_OF_MEMBER = """
SELECT id, meeting_id FROM registrations
WHERE member_id = $1 AND status IN ('confirmed', 'waitlisted')
"""

# Companions' names and emails go on erasure; the count stays for the aggregates.
ERASE_COMPANIONS = """
UPDATE registrations
SET companions = (SELECT coalesce(jsonb_agg('{}'::jsonb), '[]'::jsonb)
                  FROM jsonb_array_elements(companions))
WHERE member_id = $1
"""

ORGANISATION_OF = """
SELECT n.organisation_id FROM registrations r JOIN meetings m ON m.id = r.meeting_id
JOIN networks n ON n.id = m.network_id WHERE r.id = $1
"""


async def insert_announced(
    conn: Connection,
    *,
    registration_id: uuid.UUID,
    meeting_id: uuid.UUID,
    member_id: uuid.UUID,
    status: str,
    seats: int,
    companions: list[dict[str, Any]],
    created_at: datetime,
    automatic: bool,
    event: OutboxEntry,
) -> asyncpg.Record:
    """Insert the registration, move the meeting's seats (a confirmed one's) and version, and
    record its event as that version; the row, with its `waitlist_position`."""
    row = await conn.fetchrow(
        INSERT_ANNOUNCED,
        registration_id,
        meeting_id,
        member_id,
        status,
        seats,
        companions,
        created_at,
        automatic,
        seats if status == "confirmed" else 0,
        event.event_id,
        event.topic,
        event.message_key,
        event.event_type,
        event.envelope,
        event.traceparent,
        event.tracestate,
    )
    assert row is not None
    return row


class Standing(NamedTuple):
    registered: bool
    active: int
    on_offer: int


async def standing(
    conn: Connection, meeting_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime
) -> Standing:
    """See STANDING; the caller holds the meeting's row lock."""
    row = await conn.fetchrow(STANDING, meeting_id, member_id, now)
    assert row is not None
    return Standing(row["registered"], int(row["active"]), int(row["on_offer"]))


async def insert(
    conn: Connection,
    *,
    registration_id: uuid.UUID,
    meeting_id: uuid.UUID,
    member_id: uuid.UUID,
    status: str,
    seats: int,
    companions: list[dict[str, Any]],
    created_at: datetime,
    automatic: bool = False,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        INSERT,
        registration_id,
        meeting_id,
        member_id,
        status,
        seats,
        companions,
        created_at,
        automatic,
    )
    assert row is not None
    return row


async def active(
    conn: Connection, *, meeting_id: uuid.UUID, member_id: uuid.UUID
) -> uuid.UUID | None:
    """The person's registration for the meeting that holds or waits for a seat, if any."""
    value: uuid.UUID | None = await conn.fetchval(ACTIVE, meeting_id, member_id)
    return value


async def get(conn: Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, registration_id)


async def waitlist(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(WAITLIST, meeting_id))


async def seats_by_municipality(conn: Connection, meeting_id: uuid.UUID) -> dict[str, int]:
    """Confirmed seats of the meeting per share key."""
    rows = await conn.fetch(SEATS_BY_MUNICIPALITY, meeting_id)
    return {row["share_key"]: int(row["seats"]) for row in rows}


async def seats_of_municipality(conn: Connection, meeting_id: uuid.UUID, share_key: str) -> int:
    """Confirmed seats of the meeting held by one municipality (by share key)."""
    return int(await conn.fetchval(SEATS_OF_MUNICIPALITY, meeting_id, share_key))


async def waitlist_position(conn: Connection, registration: asyncpg.Record) -> int | None:
    """Where a waitlisted registration stands (1 is next); None for any other status."""
    if registration["status"] != "waitlisted":
        return None
    value = await conn.fetchval(
        WAITLIST_POSITION, registration["meeting_id"], registration["position"]
    )
    return int(value)


async def set_status(
    conn: Connection, registration_id: uuid.UUID, *, status: str, at: datetime
) -> asyncpg.Record:
    row = await conn.fetchrow(SET_STATUS, registration_id, status, at)
    assert row is not None
    return row


async def check_in(conn: Connection, registration_id: uuid.UUID, *, at: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(CHECK_IN, registration_id, at)
    assert row is not None
    return row


async def roster(
    conn: Connection, meeting_id: uuid.UUID, *, after_position: int | None, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(ROSTER, meeting_id, after_position, limit))


async def position_of(conn: Connection, registration_id: uuid.UUID) -> int | None:
    value: int | None = await conn.fetchval(POSITION_OF, registration_id)
    return value


async def active_count_of_member(conn: Connection, member_id: uuid.UUID, *, now: datetime) -> int:
    """How many seats (held or awaited) the person has at meetings not yet over."""
    return int(await conn.fetchval(ACTIVE_COUNT_OF_MEMBER, member_id, now))


async def of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(OF_MEMBER, member_id))


async def active_of_member(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(ACTIVE_OF_MEMBER, member_id))


async def erase_companions(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(ERASE_COMPANIONS, member_id)


async def organisation_of(conn: Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, registration_id)
