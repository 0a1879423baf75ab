"""The door, beyond the member's own check-in (service.registrations.check_in): each companion
ticked on their own, and a tick taken back when it was a mistake.

Each is one transaction under the meeting's lock, like every change to a registration, and
writes the registration's state as the meeting's next event."""

from __future__ import annotations

import uuid
from typing import TypeVar

import asyncpg

from registration.repository import door
from registration.repository import meetings as meeting_rows
from registration.repository import registrations as registration_rows
from registration.service.organisations import require_in_scope
from registration.service.registration_events import announce, event_state
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import AttendanceUndone, CompanionCheckedIn
from tilmeld_shared.problems import Conflict, Invalid, NotFound

R = TypeVar("R")


async def _locked_registration(
    conn: Connection, registration_id: uuid.UUID
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The registration and its meeting, the meeting locked (the guard on its seats)."""
    found = await registration_rows.get(conn, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    meeting = await meeting_rows.lock(conn, found["meeting_id"])
    assert meeting is not None
    current = await registration_rows.get(conn, registration_id)
    assert current is not None
    return current, meeting


def _companion_index(registration: asyncpg.Record, index: int) -> int:
    if not 0 <= index < len(registration["companions"]):
        raise Invalid(
            f"The registration has {len(registration['companions'])} companion(s); "
            f"there is no companion {index}.",
            errors=[{"field": "companion", "in": "query", "message": "no such companion"}],
        )
    return index


async def check_in_companion_within(
    conn: Connection, ctx: ServiceContext, registration_id: uuid.UUID, index: int
) -> asyncpg.Record:
    """Record that a confirmed registration's companion came; twice changes nothing."""
    registration, meeting = await _locked_registration(conn, registration_id)
    _companion_index(registration, index)
    if registration["status"] != "confirmed":
        raise Conflict(
            f"Only confirmed registrations can check in; this one is {registration['status']}.",
            slug="not-confirmed",
        )
    if index in registration["companions_arrived"]:
        return registration
    row = await door.companion_arrived(conn, registration_id, index)
    state = await event_state(conn, ctx, row, meeting, with_personal=False)
    await announce(
        conn,
        CompanionCheckedIn(**state, companion_index=index, checked_in_at=ctx.clock.now()),
        meeting_id=meeting["id"],
    )
    return row


async def undo_check_in_within(
    conn: Connection, ctx: ServiceContext, registration_id: uuid.UUID, companion: int | None
) -> asyncpg.Record:
    """Take back the member's check-in (`companion` None) or a companion's; taking back one
    that was not made changes nothing."""
    registration, meeting = await _locked_registration(conn, registration_id)
    if companion is None:
        if registration["checked_in_at"] is None:
            return registration
        row = await door.member_not_arrived(conn, registration_id)
    else:
        _companion_index(registration, companion)
        if companion not in registration["companions_arrived"]:
            return registration
        row = await door.companion_not_arrived(conn, registration_id, companion)
    state = await event_state(conn, ctx, row, meeting, with_personal=False)
    await announce(
        conn,
        AttendanceUndone(**state, companion_index=companion, undone_at=ctx.clock.now()),
        meeting_id=meeting["id"],
    )
    return row


async def check_in_companion(
    tx: Transactions,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    index: int,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Record a companion's arrival, for an organiser of the meeting's own."""

    async def record(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "registration", registration_id)
        return await check_in_companion_within(conn, ctx, registration_id, index)

    return await tx.once(once, record)


async def undo_check_in(
    tx: Transactions,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    companion: int | None,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Take back a check-in, for an organiser of the meeting's own."""

    async def undo(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "registration", registration_id)
        return await undo_check_in_within(conn, ctx, registration_id, companion)

    return await tx.once(once, undo)
