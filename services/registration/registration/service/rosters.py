"""A meeting's roster: who registered, in registration order, with their places."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import asyncpg

from registration.pagination import Cursor
from registration.repository import meetings as meeting_rows
from registration.repository import registrations as registration_rows
from registration.service.meetings import meeting_within
from registration.service.networks import network_within
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import NotFound


async def roster_within(
    conn: Connection, meeting_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of the meeting's registrations with the people, in registration order."""
    if await meeting_rows.get(conn, meeting_id) is None:
        raise NotFound(f"No meeting {meeting_id}.")
    rows = await registration_rows.roster(
        conn,
        meeting_id,
        after_position=cursor.after_position if cursor else None,
        limit=limit + 1,
    )
    if len(rows) <= limit:
        return rows, None
    last_position = await registration_rows.position_of(conn, rows[limit - 1]["registration_id"])
    return rows[:limit], Cursor(after_position=last_position)


async def roster(
    tx: Transactions,
    meeting_id: uuid.UUID,
    *,
    organiser: Principal,
    limit: int,
    cursor: Cursor | None,
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of the meeting's registrations, for an organiser of its own."""

    async def read(conn: Connection) -> tuple[list[asyncpg.Record], Cursor | None]:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        return await roster_within(conn, meeting_id, limit=limit, cursor=cursor)

    return await tx.read(read)


class MeetingRoster(NamedTuple):
    meeting: asyncpg.Record
    network: asyncpg.Record
    people: list[asyncpg.Record]


async def meeting_with_roster(
    tx: Transactions, meeting_id: uuid.UUID, *, organiser: Principal
) -> MeetingRoster:
    """A meeting of the organiser's own, its network, and everyone on its roster."""

    async def read(conn: Connection) -> MeetingRoster:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        meeting = await meeting_within(conn, meeting_id)
        network = await network_within(conn, meeting["network_id"])
        people, _ = await roster_within(conn, meeting_id, limit=100_000, cursor=None)
        return MeetingRoster(meeting, network, people)

    return await tx.read(read)
