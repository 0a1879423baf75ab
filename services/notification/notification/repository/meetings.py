"""The local copy of each meeting: what an email says about it (title, time, place)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingScheduled

# Meeting events may be replayed: only a newer version changes the row (RETURNING says whether).
UPSERT_MEETING = """
INSERT INTO meetings (id, network_id, title, starts_at, ends_at, timezone, location, online_url,
                      status, aggregate_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    timezone = excluded.timezone, location = excluded.location,
    online_url = excluded.online_url, status = excluded.status,
    aggregate_version = excluded.aggregate_version
WHERE meetings.aggregate_version < excluded.aggregate_version
RETURNING id
"""

CANCEL_MEETING = """
UPDATE meetings SET status = 'cancelled', aggregate_version = $2
WHERE id = $1 AND aggregate_version < $2
RETURNING id
"""

MEETING = "SELECT * FROM meetings WHERE id = $1"
MEETINGS = "SELECT * FROM meetings WHERE id = ANY($1::uuid[])"


async def store_meeting(conn: Connection, meeting: MeetingScheduled, *, version: int) -> bool:
    """Keep the meeting's state if it is newer than ours; True when the row changed."""
    changed = await conn.fetchval(
        UPSERT_MEETING,
        meeting.meeting_id,
        meeting.network_id,
        meeting.title,
        meeting.starts_at,
        meeting.ends_at,
        meeting.timezone,
        meeting.location,
        meeting.online_url,
        meeting.status,
        version,
    )
    return changed is not None


async def cancel_meeting(conn: Connection, meeting_id: uuid.UUID, *, version: int) -> bool:
    """Mark the meeting cancelled unless we hold a newer state; True when the row changed."""
    return await conn.fetchval(CANCEL_MEETING, meeting_id, version) is not None


async def get_meeting(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(MEETING, meeting_id)


async def get_meetings(
    conn: Connection, meeting_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    """The meetings held of those asked for, by id, in one round trip."""
    if not meeting_ids:
        return {}
    return {row["id"]: row for row in await conn.fetch(MEETINGS, list(meeting_ids))}
