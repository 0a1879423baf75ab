"""Meetings: the row that holds a meeting's seats, and the lock every seat change takes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO meetings (id, network_id, title, description, starts_at, ends_at, timezone, location,
                      online_url, capacity, registration_deadline, open_to_public, speakers,
                      seats_per_municipality, co_hosts, agenda, waitlist, offer_hours, questions,
                      answers_retention_days, feedback)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21)
RETURNING *
"""

# The meeting as it is shown: with how many wait for a seat, and the seats held for people
# offered them from the waitlist (free to nobody else; repository/offers.py).
VIEW = """
SELECT m.*, (SELECT count(*) FROM registrations r
             WHERE r.meeting_id = m.id AND r.status = 'waitlisted') AS waitlist_length,
       (SELECT coalesce(sum(o.seats), 0) FROM registrations o
        WHERE o.meeting_id = m.id AND o.offer_state = 'open') AS seats_on_offer
FROM meetings m WHERE m.id = $1
"""

BY_ID = "SELECT * FROM meetings WHERE id = $1"

# The capacity guard: every change to a meeting's seats holds this row lock.
FOR_UPDATE = "SELECT * FROM meetings WHERE id = $1 FOR UPDATE"

# Keyset pagination on (starts_at, id), as shown (with the waitlist's length).
PAGE = """
SELECT m.*, (SELECT count(*) FROM registrations r
             WHERE r.meeting_id = m.id AND r.status = 'waitlisted') AS waitlist_length,
       (SELECT coalesce(sum(o.seats), 0) FROM registrations o
        WHERE o.meeting_id = m.id AND o.offer_state = 'open') AS seats_on_offer
FROM meetings m
WHERE m.network_id = $1
  AND ($2::timestamptz IS NULL OR (m.starts_at, m.id) > ($2, $3))
ORDER BY m.starts_at, m.id
LIMIT $4
"""

# Each event about a meeting or its registrations takes the meeting's next version.
BUMP = """
UPDATE meetings SET seats_taken = seats_taken + $2, version = version + 1, updated_at = now()
WHERE id = $1
RETURNING version, seats_taken, capacity
"""

# A PATCH: the fields present in $2 (a JSON object) replace the stored ones, the rest keep
# theirs (jsonb_populate_record fills what the object leaves out from the row itself). Only
# the columns named here can change, whatever the object holds.
UPDATE = """
UPDATE meetings AS m
SET (title, description, starts_at, ends_at, timezone, location, online_url, capacity,
     registration_deadline, open_to_public, speakers, seats_per_municipality, co_hosts, agenda,
     waitlist, offer_hours, questions, answers_retention_days, feedback)
    = (SELECT p.title, p.description, p.starts_at, p.ends_at, p.timezone, p.location,
              p.online_url, p.capacity, p.registration_deadline, p.open_to_public, p.speakers,
              p.seats_per_municipality, p.co_hosts, p.agenda, p.waitlist, p.offer_hours,
              p.questions, p.answers_retention_days, p.feedback
       FROM jsonb_populate_record(m, $2::jsonb) AS p),
    -- Moved to end in the future, a held meeting is to come again.
    status = CASE WHEN m.status = 'held' AND ($2::jsonb ->> 'ends_at')::timestamptz > now()
                  THEN 'scheduled' ELSE m.status END,
    version = version + 1,
    updated_at = now()
WHERE id = $1
RETURNING *
"""

# Registrations keep their status, so who had a seat stays on record; the version moves with
# the event (bump).
CANCEL = "UPDATE meetings SET status = 'cancelled' WHERE id = $1"

# Scheduled meetings that ended by $1 become held, a batch of at most $2 at a time. SKIP LOCKED:
# a meeting another process is marking (or a use case holds) is left to it or the next run;
# the re-checked status keeps a meeting cancelled meanwhile from being marked.
MARK_HELD = """
WITH ended AS (
    SELECT id FROM meetings
    WHERE status = 'scheduled' AND ends_at <= $1
    ORDER BY ends_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE meetings AS m SET status = 'held', version = m.version + 1, updated_at = now()
FROM ended WHERE m.id = ended.id AND m.status = 'scheduled'
RETURNING m.*
"""

ORGANISATION_OF = """
SELECT n.organisation_id FROM meetings m JOIN networks n ON n.id = m.network_id WHERE m.id = $1
"""


async def insert(
    conn: Connection,
    *,
    meeting_id: uuid.UUID,
    network_id: uuid.UUID,
    title: str,
    description: str | None,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    location: str | None,
    online_url: str | None,
    capacity: int,
    registration_deadline: datetime | None,
    open_to_public: bool,
    speakers: list[dict[str, Any]],
    seats_per_municipality: int | None = None,
    co_hosts: list[uuid.UUID] | None = None,
    agenda: list[dict[str, Any]] | None = None,
    waitlist: str | None = None,
    offer_hours: int | None = None,
    questions: list[dict[str, Any]] | None = None,
    answers_retention_days: int | None = None,
    feedback: list[dict[str, Any]] | None = None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        INSERT,
        meeting_id,
        network_id,
        title,
        description,
        starts_at,
        ends_at,
        timezone,
        location,
        online_url,
        capacity,
        registration_deadline,
        open_to_public,
        speakers,
        seats_per_municipality,
        co_hosts or [],
        agenda or [],
        waitlist,
        offer_hours,
        questions or [],
        answers_retention_days,
        feedback or [],
    )
    assert row is not None
    return row


async def view(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record | None:
    """The meeting with its waitlist's length."""
    return await conn.fetchrow(VIEW, meeting_id)


async def get(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, meeting_id)


async def lock(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record | None:
    """The meeting, locked until the transaction ends: the guard on its seats."""
    return await conn.fetchrow(FOR_UPDATE, meeting_id)


async def page(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    after_time: Any,
    after_id: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, network_id, after_time, after_id, limit))


async def bump(conn: Connection, meeting_id: uuid.UUID, *, seats_delta: int = 0) -> int:
    """Move the meeting's seat count and return the aggregate version for the next event."""
    row = await conn.fetchrow(BUMP, meeting_id, seats_delta)
    assert row is not None
    return int(row["version"])


async def update(
    conn: Connection, meeting_id: uuid.UUID, *, changes: dict[str, Any]
) -> asyncpg.Record:
    """Apply a PATCH's fields (JSON values, by column name) and move the version on."""
    row = await conn.fetchrow(UPDATE, meeting_id, changes)
    assert row is not None
    return row


async def cancel(conn: Connection, meeting_id: uuid.UUID) -> None:
    await conn.execute(CANCEL, meeting_id)


async def mark_held(conn: Connection, *, ended_by: datetime, limit: int) -> list[asyncpg.Record]:
    """Mark up to `limit` scheduled meetings that ended by `ended_by` held, each with its next
    version; the rows as they now are."""
    return list(await conn.fetch(MARK_HELD, ended_by, limit))


async def organisation_of(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(ORGANISATION_OF, meeting_id)


# The public calendar feed: the network's meetings open to the public, cancelled ones included
# (a subscribed calendar learns of the cancellation from them).
PUBLIC_FEED = """
SELECT * FROM meetings
WHERE network_id = $1 AND open_to_public
ORDER BY starts_at, id
"""

# A member's own calendar feed: their registrations still standing, with each meeting.
MEMBER_FEED = """
SELECT r.id AS registration_id, r.status AS registration_status,
       greatest(r.created_at, r.confirmed_at, r.cancelled_at) AS registration_changed_at, m.*
FROM registrations r JOIN meetings m ON m.id = r.meeting_id
WHERE r.member_id = $1 AND r.status IN ('confirmed', 'waitlisted')
ORDER BY m.starts_at, m.id
"""


async def public_feed(conn: Connection, network_id: uuid.UUID) -> list[asyncpg.Record]:
    """The network's meetings open to the public, in the order they start."""
    return list(await conn.fetch(PUBLIC_FEED, network_id))


async def member_feed(conn: Connection, member_id: uuid.UUID) -> list[asyncpg.Record]:
    """The member's confirmed and waitlisted registrations, each with its meeting's columns."""
    return list(await conn.fetch(MEMBER_FEED, member_id))
