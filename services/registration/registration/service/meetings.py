"""Use cases of meetings: schedule, reschedule or resize, cancel, read."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from registration import repository as repo
from registration.api.schemas import MeetingIn, MeetingPatch
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.service.organisations import organises
from registration.service.registrations import promote_waitlisted
from registration.unit_of_work import ServiceContext
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingCancelled, MeetingScheduled, MeetingUpdated
from tilmeld_shared.problems import Conflict, Invalid, NotFound


def _event_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "meeting_id": row["id"],
        "network_id": row["network_id"],
        "title": row["title"],
        "starts_at": row["starts_at"],
        "ends_at": row["ends_at"],
        "timezone": row["timezone"],
        "location": row["location"],
        "online_url": row["online_url"],
        "capacity": row["capacity"],
        "registration_deadline": row["registration_deadline"],
        "open_to_public": row["open_to_public"],
        "status": row["status"],
    }


async def schedule_meeting(
    conn: Connection, network_id: uuid.UUID, command: MeetingIn
) -> asyncpg.Record:
    """Add a meeting to a network and announce it."""
    if await conn.fetchrow(repo.NETWORK, network_id) is None:
        raise NotFound(f"No network {network_id}.")
    row = await conn.fetchrow(
        repo.INSERT_MEETING,
        uuid.uuid4(),
        network_id,
        command.title,
        command.description,
        command.starts_at,
        command.ends_at,
        command.timezone,
        command.location,
        str(command.online_url) if command.online_url else None,
        command.capacity,
        command.registration_deadline,
        command.open_to_public,
        [speaker.model_dump(mode="json") for speaker in command.speakers],
    )
    assert row is not None
    await record_event(
        conn,
        MeetingScheduled(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return await get_meeting(conn, row["id"])


async def update_meeting(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: MeetingPatch
) -> asyncpg.Record:
    """Reschedule, resize or edit a meeting. More capacity promotes from the waitlist; less
    than the seats already confirmed is refused, since confirmed people keep their seats."""
    current = await conn.fetchrow(repo.MEETING_FOR_UPDATE, meeting_id)
    if current is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if current["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    changes = command.model_dump(mode="json", exclude_unset=True)
    if "online_url" in changes and changes["online_url"] is not None:
        changes["online_url"] = str(changes["online_url"])
    for key in ("starts_at", "ends_at", "registration_deadline"):
        if key in changes:
            changes[key] = getattr(command, key)
    starts_at = changes.get("starts_at", current["starts_at"])
    ends_at = changes.get("ends_at", current["ends_at"])
    if ends_at <= starts_at:
        raise Invalid(
            "ends_at must be after starts_at.",
            errors=[{"field": "ends_at", "in": "body", "message": "before starts_at"}],
        )
    capacity = changes.get("capacity", current["capacity"])
    if capacity < current["seats_taken"]:
        raise Conflict(
            f"{current['seats_taken']} seats are already confirmed; capacity cannot go below "
            "that. Cancel registrations first.",
            slug="capacity-below-confirmed",
        )
    if not changes:
        return await get_meeting(conn, meeting_id)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    row = await conn.fetchrow(
        f"UPDATE meetings SET {assignments}, version = version + 1, updated_at = now() "
        "WHERE id = $1 RETURNING *",
        meeting_id,
        *changes.values(),
    )
    assert row is not None
    await record_event(
        conn,
        MeetingUpdated(
            **_event_fields(row),
            rescheduled=(row["starts_at"], row["ends_at"])
            != (current["starts_at"], current["ends_at"]),
            capacity_changed=row["capacity"] != current["capacity"],
        ),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    if row["capacity"] > current["capacity"]:
        await promote_waitlisted(conn, ctx, meeting_id)
    return await get_meeting(conn, meeting_id)


async def cancel_meeting(
    conn: Connection, meeting_id: uuid.UUID, *, reason: str | None = None
) -> asyncpg.Record:
    """Cancel a meeting. Registrations keep their status, so who had a seat stays on record."""
    current = await conn.fetchrow(repo.MEETING_FOR_UPDATE, meeting_id)
    if current is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if current["status"] == "cancelled":
        raise Conflict("The meeting is already cancelled.", slug="meeting-cancelled")
    await conn.execute("UPDATE meetings SET status = 'cancelled' WHERE id = $1", meeting_id)
    version = await repo.bump_meeting(conn, meeting_id)
    await record_event(
        conn,
        MeetingCancelled(
            meeting_id=meeting_id,
            network_id=current["network_id"],
            cancelled_at=await conn.fetchval("SELECT now()"),
            reason=reason,
        ),
        aggregate_id=meeting_id,
        aggregate_version=version,
        key=meeting_id,
    )
    return await get_meeting(conn, meeting_id)


async def get_meeting(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(repo.MEETING, meeting_id)
    if row is None:
        raise NotFound(f"No meeting {meeting_id}.")
    return row


async def read_meeting(
    conn: Connection, meeting_id: uuid.UUID, caller: Principal | None
) -> tuple[asyncpg.Record, bool]:
    """The meeting, and whether the caller organises it (and so may see its online link)."""
    row = await get_meeting(conn, meeting_id)
    return row, await organises(conn, caller, "meeting", meeting_id)


async def read_meetings(
    conn: Connection,
    network_id: uuid.UUID,
    caller: Principal | None,
    *,
    limit: int,
    cursor: Cursor | None,
) -> tuple[list[asyncpg.Record], Cursor | None, bool]:
    """A page of the network's meetings, and whether the caller organises the network."""
    rows, next_cursor = await list_meetings(conn, network_id, limit=limit, cursor=cursor)
    return rows, next_cursor, await organises(conn, caller, "network", network_id)


async def list_meetings(
    conn: Connection, network_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    if await conn.fetchrow(repo.NETWORK, network_id) is None:
        raise NotFound(f"No network {network_id}.")
    rows = await conn.fetch(
        repo.MEETINGS_PAGE,
        network_id,
        cursor.after_time if cursor else None,
        cursor.after_id if cursor else None,
        limit + 1,
    )
    return Cursor.page(rows, limit, time_column="starts_at")
