"""Applying registration events to the reporting tables, a batch per transaction.

Every event carries the full state of what it is about, and every row remembers the version it
was last written at, so applying is an upsert guarded by `aggregate_version`: order and
redelivery do not matter, and the inbox makes a replayed event a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence

from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    AttendanceRecorded,
    EnrolmentCancelled,
    Envelope,
    MeetingCancelled,
    MeetingScheduled,
    MemberEnrolled,
    MemberErased,
    NetworkCreated,
    Payload,
    RegistrationCancelled,
    RegistrationState,
)


def _unless_erased(parameter: str) -> str:
    """An erased member's id never comes back, even on an event that arrives after erasure."""
    return (
        f"(SELECT CASE WHEN EXISTS (SELECT 1 FROM erased_members WHERE member_id = "
        f"{parameter}::uuid) THEN NULL ELSE {parameter}::uuid END)"
    )


CLAIM_EVENTS = """
INSERT INTO inbox (event_id) SELECT unnest($1::uuid[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

ADVANCE_PROGRESS = """
UPDATE progress SET newest_event_at = greatest(coalesce(newest_event_at, $1), $1)
"""

UPSERT_NETWORK = """
INSERT INTO networks (id, title, status, aggregate_version) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, status = excluded.status, aggregate_version = excluded.aggregate_version
WHERE networks.aggregate_version < excluded.aggregate_version
"""

UPSERT_MEETING = """
INSERT INTO meetings (id, network_id, title, starts_at, ends_at, capacity, status,
                      aggregate_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    capacity = excluded.capacity, status = excluded.status,
    aggregate_version = excluded.aggregate_version
WHERE meetings.aggregate_version < excluded.aggregate_version
"""

CANCEL_MEETING = """
UPDATE meetings SET status = 'cancelled', aggregate_version = $2
WHERE id = $1 AND aggregate_version < $2
"""


UPSERT_ENROLMENT = f"""
INSERT INTO enrolments (id, network_id, member_id, municipality, status, enrolled_at,
                        cancelled_at, aggregate_version)
VALUES ($1, $2, {_unless_erased("$3")}, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status,
    enrolled_at = coalesce(enrolments.enrolled_at, excluded.enrolled_at),
    cancelled_at = coalesce(excluded.cancelled_at, enrolments.cancelled_at),
    aggregate_version = excluded.aggregate_version
WHERE enrolments.aggregate_version < excluded.aggregate_version
"""

UPSERT_REGISTRATION = f"""
INSERT INTO registrations (id, meeting_id, network_id, member_id, municipality, status, seats,
                           companions, registered_at, cancelled_at, checked_in_at,
                           aggregate_version)
VALUES ($1, $2, $3, {_unless_erased("$4")}, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, seats = excluded.seats, companions = excluded.companions,
    cancelled_at = coalesce(excluded.cancelled_at, registrations.cancelled_at),
    checked_in_at = coalesce(excluded.checked_in_at, registrations.checked_in_at),
    aggregate_version = excluded.aggregate_version
WHERE registrations.aggregate_version < excluded.aggregate_version
"""


ERASE_MEMBER = """
WITH erased AS (
    INSERT INTO erased_members (member_id, erased_at) VALUES ($1, $2)
    ON CONFLICT (member_id) DO NOTHING
), enrolments_done AS (
    UPDATE enrolments SET member_id = NULL WHERE member_id = $1
)
UPDATE registrations SET member_id = NULL WHERE member_id = $1
"""


async def apply_batch(conn: Connection, events: Sequence[tuple[Envelope, Payload | None]]) -> int:
    """Apply the events not seen before, in the caller's transaction; returns how many."""
    if not events:
        return 0
    fresh = {
        row["event_id"]
        for row in await conn.fetch(CLAIM_EVENTS, [envelope.event_id for envelope, _ in events])
    }
    applied = 0
    for envelope, payload in events:
        if envelope.event_id not in fresh or payload is None:
            continue
        await _apply(conn, envelope, payload)
        fresh.discard(envelope.event_id)  # the same event twice in one batch counts once
        applied += 1
    newest = max(envelope.occurred_at for envelope, _ in events)
    await conn.execute(ADVANCE_PROGRESS, newest)
    return applied


async def _apply(conn: Connection, envelope: Envelope, payload: Payload) -> None:
    version = envelope.aggregate_version
    match payload:
        case NetworkCreated():  # and NetworkUpdated
            await conn.execute(
                UPSERT_NETWORK, payload.network_id, payload.title, payload.status, version
            )
        case MeetingScheduled():  # and MeetingUpdated
            await conn.execute(
                UPSERT_MEETING,
                payload.meeting_id,
                payload.network_id,
                payload.title,
                payload.starts_at,
                payload.ends_at,
                payload.capacity,
                payload.status,
                version,
            )
        case MeetingCancelled():
            await conn.execute(CANCEL_MEETING, payload.meeting_id, version)
        case MemberEnrolled():
            await conn.execute(
                UPSERT_ENROLMENT,
                payload.enrolment_id,
                payload.network_id,
                payload.member_id,
                payload.municipality,
                "active",
                payload.enrolled_at,
                None,
                version,
            )
        case EnrolmentCancelled():
            await conn.execute(
                UPSERT_ENROLMENT,
                payload.enrolment_id,
                payload.network_id,
                payload.member_id,
                payload.municipality,
                "cancelled",
                None,
                payload.cancelled_at,
                version,
            )
        case RegistrationState():
            await conn.execute(
                UPSERT_REGISTRATION,
                payload.registration_id,
                payload.meeting_id,
                payload.network_id,
                payload.member_id,
                payload.municipality,
                payload.status,
                payload.seats,
                payload.companions,
                payload.registered_at,
                payload.cancelled_at if isinstance(payload, RegistrationCancelled) else None,
                payload.checked_in_at if isinstance(payload, AttendanceRecorded) else None,
                version,
            )
        case MemberErased():
            await conn.execute(ERASE_MEMBER, payload.member_id, payload.erased_at)
        case _:
            pass  # an event type reporting does not count
