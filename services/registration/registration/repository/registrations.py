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

# A registration placed (a seat, else the waitlist), the meeting's next version and the
# registration's event, in one statement: see place_registration in migration 019. The caller
# holds the meeting's row lock.
PLACE = """
SELECT * FROM place_registration((SELECT m FROM meetings m WHERE m.id = $1),
                                 $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
"""

# Registering, checks and all, in one statement: see register_for_meeting in migration 019.
REGISTER = """
SELECT * FROM register_for_meeting($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                   $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26,
                                   $27, $28, $29, $30, $31, $32)
"""

ACTIVE = """
SELECT id FROM registrations
WHERE meeting_id = $1 AND member_id = $2 AND status IN ('confirmed', 'waitlisted')
"""

BY_ID = "SELECT * FROM registrations WHERE id = $1"

# The key a registration's seats count against its municipality's share by: the resolved
# municipality's id, else "name:" and the typed name's key (place_registration in migration 019
# keys them alike).
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


async def place(
    conn: Connection,
    *,
    registration_id: uuid.UUID,
    meeting_id: uuid.UUID,
    member_id: uuid.UUID,
    seats: int,
    companions: list[dict[str, Any]],
    created_at: datetime,
    automatic: bool,
    event: OutboxEntry,
) -> tuple[asyncpg.Record, int | None]:
    """Place the registration (a seat if it fits, else the waitlist), move the meeting's seats
    and version, and record its event (a RegistrationConfirmed, made a RegistrationWaitlisted
    if it waits) as that version; the row and its waitlist position."""
    row = await conn.fetchrow(
        PLACE,
        meeting_id,
        member_id,
        registration_id,
        seats,
        companions,
        created_at,
        automatic,
        None,
        event.event_id,
        event.topic,
        event.message_key,
        event.envelope,
        event.traceparent,
        event.tracestate,
    )
    assert row is not None
    return row["registration"], row["waitlist_position"]


class Registering(NamedTuple):
    """register_for_meeting's arguments, in its order (what each means: migration 019)."""

    meeting_id: uuid.UUID
    now: datetime
    seats: int
    companions: list[dict[str, Any]]
    questions: list[dict[str, Any]] | None
    register_n: int
    register_newest: datetime | None
    email: str
    name: str
    municipality: str
    role: str
    organisation: str | None
    language: str | None
    municipality_id: uuid.UUID | None
    municipality_key: str
    new_member_id: uuid.UUID
    new_data_key: bytes
    sealed_for: uuid.UUID
    sealed_name: str | None
    sealed_email: str | None
    sealed_key: bytes
    resolved_id: uuid.UUID | None
    resolved_key: str | None
    cap: int
    registration_id: uuid.UUID
    answers_sealed: dict[str, Any] | None
    event_id: uuid.UUID
    topic: str
    message_key: str
    envelope: dict[str, Any]
    traceparent: str | None
    tracestate: str | None


class Refused(Exception):
    """register_for_meeting refused: `slug` names why, `detail` is what the refusal quotes."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(slug)
        self.slug = slug
        self.detail = detail


# The SQLSTATE of refuse_registration (migration 019).
REFUSED = "TL409"


async def register(conn: Connection, registering: Registering) -> asyncpg.Record:
    """One attempt at registering: its `outcome` and what goes with it (migration 019);
    Refused if the person may not register."""
    try:
        row = await conn.fetchrow(REGISTER, *registering)
    except asyncpg.PostgresError as error:
        if error.sqlstate != REFUSED:
            raise
        raise Refused(error.message, error.detail or "") from None
    assert row is not None
    return row


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
