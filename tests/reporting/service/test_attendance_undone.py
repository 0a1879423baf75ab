"""A check-in taken back at the door: reporting counts the registration as not attended, in one
batch or across batches, and a check-in made again afterwards counts once more."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from reporting import projection, queries
from tests.reporting.service.test_redelivery_and_order import NOW, conn, event, meeting_events
from tilmeld_shared.events import (
    AttendanceRecorded,
    AttendanceUndone,
    CompanionCheckedIn,
    RegistrationConfirmed,
)

__all__ = ["conn"]  # the fixture, shared


def _door(meeting: uuid.UUID, network: uuid.UUID) -> dict[str, object]:
    scheduled, confirmed, _ = meeting_events(meeting, network)
    payload = confirmed[1]
    assert isinstance(payload, RegistrationConfirmed)
    return {"scheduled": scheduled, "state": payload.model_dump(exclude={"status"})}


async def test_a_check_in_taken_back_is_no_attendance(conn: asyncpg.Connection) -> None:
    meeting, network = uuid.uuid4(), uuid.uuid4()
    door = _door(meeting, network)
    state: dict[str, object] = door["state"]  # type: ignore[assignment]
    at = NOW + timedelta(days=3)
    arrived = event(AttendanceRecorded(**state, status="confirmed", checked_in_at=at), meeting, 3)
    companion = event(
        CompanionCheckedIn(**state, status="confirmed", companion_index=0, checked_in_at=at),
        meeting,
        4,
    )
    undone = event(AttendanceUndone(**state, status="confirmed", undone_at=at), meeting, 5)

    async with conn.transaction():
        await projection.apply_batch(conn, [door["scheduled"], arrived])  # type: ignore[list-item]
    assert (await queries.meeting_report(conn, meeting))["attended"] == 1
    async with conn.transaction():
        await projection.apply_batch(conn, [companion, undone])
    assert (await queries.meeting_report(conn, meeting))["attended"] == 0

    again = event(
        AttendanceRecorded(**state, status="confirmed", checked_in_at=at + timedelta(minutes=5)),
        meeting,
        6,
    )
    async with conn.transaction():
        await projection.apply_batch(conn, [undone, again, arrived])  # redelivered around it
    assert (await queries.meeting_report(conn, meeting))["attended"] == 1


async def test_a_check_in_and_its_undoing_in_one_batch_count_as_not_attended(
    conn: asyncpg.Connection,
) -> None:
    meeting, network = uuid.uuid4(), uuid.uuid4()
    door = _door(meeting, network)
    state: dict[str, object] = door["state"]  # type: ignore[assignment]
    at = NOW + timedelta(days=3)
    batch = [
        door["scheduled"],
        event(AttendanceRecorded(**state, status="confirmed", checked_in_at=at), meeting, 3),
        event(AttendanceUndone(**state, status="confirmed", undone_at=at), meeting, 4),
        # A companion's tick after it is not the member's attendance.
        event(
            CompanionCheckedIn(**state, status="confirmed", companion_index=0, checked_in_at=at),
            meeting,
            5,
        ),
    ]

    async with conn.transaction():
        await projection.apply_batch(conn, batch)  # type: ignore[arg-type]

    assert (await queries.meeting_report(conn, meeting))["attended"] == 0
