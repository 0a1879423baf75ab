"""Use cases of meetings: schedule, reschedule or resize, cancel, read."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple, TypeVar

import asyncpg

from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import co_hosts as co_host_rows
from registration.repository import database
from registration.repository import meetings as meeting_rows
from registration.repository import offers as offer_rows
from registration.repository import registrations as registration_rows
from registration.service import agenda, co_hosts, series_enrolment
from registration.service.commands import MeetingIn, MeetingPatch, QuestionIn
from registration.service.networks import network_within
from registration.service.organisations import organises, require_in_scope
from registration.service.registrations import promote_waitlisted
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingCancelled, MeetingScheduled, MeetingUpdated
from tilmeld_shared.problems import Conflict, Invalid, NotFound

R = TypeVar("R")


# What a PATCH (or the move back from held) can change, in the order `changed` names them.
_COMPARED = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "location",
    "online_url",
    "capacity",
    "registration_deadline",
    "open_to_public",
    "speakers",
    "seats_per_municipality",
    "co_hosts",
    "agenda",
    "waitlist",
    "offer_hours",
    "questions",
    "answers_retention_days",
    "feedback",
    "status",
)


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
        "seats_per_municipality": row["seats_per_municipality"],
        "co_hosts": row["co_hosts"],
        "agenda": row["agenda"],
        "waitlist": row["waitlist"],
        "offer_hours": row["offer_hours"],
        "questions": row["questions"],
        "answers_retention_days": row["answers_retention_days"],
        "feedback": row["feedback"],
        "description": row["description"],
    }


def with_question_ids(questions: list[QuestionIn]) -> list[dict[str, Any]]:
    """The questions as stored: each with its id, a new one for a question that has none (an
    edited question keeps its id, so answers given to it stay its answers)."""
    stored = []
    for question in questions:
        question_id = question.question_id or uuid.uuid4()
        stored.append({**question.model_dump(mode="json"), "question_id": str(question_id)})
    return stored


async def schedule_meeting_within(
    conn: Connection, network_id: uuid.UUID, command: MeetingIn
) -> asyncpg.Record:
    """Add a meeting to a network and announce it."""
    network = await network_within(conn, network_id)
    await co_hosts.require_own(conn, network, command.co_hosts)
    await agenda.check_agenda(
        conn,
        command.agenda,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        network_ids=[network_id, *command.co_hosts],
    )
    row = await meeting_rows.insert(
        conn,
        meeting_id=uuid.uuid4(),
        network_id=network_id,
        title=command.title,
        description=command.description,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        timezone=command.timezone,
        location=command.location,
        online_url=str(command.online_url) if command.online_url else None,
        capacity=command.capacity,
        registration_deadline=command.registration_deadline,
        open_to_public=command.open_to_public,
        speakers=[speaker.model_dump(mode="json") for speaker in command.speakers],
        seats_per_municipality=command.seats_per_municipality,
        co_hosts=command.co_hosts,
        agenda=[item.model_dump(mode="json") for item in command.agenda],
        waitlist=command.waitlist,
        offer_hours=command.offer_hours,
        questions=with_question_ids(command.questions),
        answers_retention_days=command.answers_retention_days,
        feedback=with_question_ids(command.feedback),
    )
    await record_event(
        conn,
        MeetingScheduled(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return await meeting_within(conn, row["id"])


async def update_meeting_within(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: MeetingPatch
) -> asyncpg.Record:
    """Reschedule, resize or edit a meeting. More capacity (or a larger share per municipality)
    promotes from the waitlist; less capacity than the seats already confirmed is refused,
    since confirmed people keep their seats."""
    current = await meeting_rows.lock(conn, meeting_id)
    if current is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if current["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    changes = command.model_dump(mode="json", exclude_unset=True)
    if command.co_hosts is not None:
        host = await network_within(conn, current["network_id"])
        await co_hosts.require_own(conn, host, command.co_hosts)
    if command.questions is not None:
        changes["questions"] = with_question_ids(command.questions)
    if command.feedback is not None:
        changes["feedback"] = with_question_ids(command.feedback)
    # A PATCH cannot null these (see Patch): left out, they keep the meeting's own.
    starts_at = command.starts_at or current["starts_at"]
    ends_at = command.ends_at or current["ends_at"]
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
    if capacity < current["capacity"] and capacity < current["seats_taken"] + (
        on_offer := await offer_rows.seats_on_offer(conn, meeting_id)
    ):
        # A seat on offer is promised to its person until they answer or the offer lapses.
        raise Conflict(
            f"{current['seats_taken']} seats are confirmed and {on_offer} on offer to people on "
            "the waitlist; capacity cannot go below that until the offers are answered or lapse.",
            slug="capacity-below-held",
        )
    await _share_holds(conn, current, changes)
    await agenda.check_changed_agenda(conn, current, command, starts_at=starts_at, ends_at=ends_at)
    if not changes:
        return await meeting_within(conn, meeting_id)
    row = await meeting_rows.update(conn, meeting_id, changes=changes)
    await record_event(
        conn,
        MeetingUpdated(
            **_event_fields(row),
            rescheduled=(row["starts_at"], row["ends_at"])
            != (current["starts_at"], current["ends_at"]),
            capacity_changed=row["capacity"] != current["capacity"],
            changed=[field for field in _COMPARED if row[field] != current[field]],
        ),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    if row["capacity"] > current["capacity"] or _share_grew(
        current["seats_per_municipality"], row["seats_per_municipality"]
    ):
        await promote_waitlisted(conn, ctx, meeting_id)
    return await meeting_within(conn, meeting_id)


async def _share_holds(conn: Connection, current: asyncpg.Record, changes: dict[str, Any]) -> None:
    """Refuse a share smaller than what a municipality already holds: as with capacity,
    confirmed people keep their seats, so the share cannot go below them."""
    share = changes.get("seats_per_municipality")
    if share is None or share == current["seats_per_municipality"]:
        return
    held = await registration_rows.seats_by_municipality(conn, current["id"])
    most = max(held.values(), default=0)
    if most > share:
        raise Conflict(
            f"A municipality already holds {most} confirmed seats; seats_per_municipality "
            "cannot go below that. Cancel registrations first.",
            slug="share-below-confirmed",
        )


def _share_grew(before: int | None, after: int | None) -> bool:
    """Whether a municipality may now hold more seats than before (None: no share at all).

    A smaller share keeps the seats already confirmed; only new ones wait for it."""
    return before is not None and (after is None or after > before)


async def cancel_meeting_within(
    conn: Connection, meeting_id: uuid.UUID, *, reason: str | None = None
) -> asyncpg.Record:
    """Cancel a meeting. Registrations keep their status, so who had a seat stays on record."""
    current = await meeting_rows.lock(conn, meeting_id)
    if current is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if current["status"] == "cancelled":
        raise Conflict("The meeting is already cancelled.", slug="meeting-cancelled")
    await meeting_rows.cancel(conn, meeting_id)
    version = await meeting_rows.bump(conn, meeting_id)
    await record_event(
        conn,
        MeetingCancelled(
            meeting_id=meeting_id,
            network_id=current["network_id"],
            cancelled_at=await database.transaction_time(conn),
            reason=reason,
        ),
        aggregate_id=meeting_id,
        aggregate_version=version,
        key=meeting_id,
    )
    return await meeting_within(conn, meeting_id)


async def meeting_within(conn: Connection, meeting_id: uuid.UUID) -> asyncpg.Record:
    """The meeting as shown (with its waitlist's length); NotFound if there is none."""
    row = await meeting_rows.view(conn, meeting_id)
    if row is None:
        raise NotFound(f"No meeting {meeting_id}.")
    return row


async def meetings_within(
    conn: Connection, network_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of the network's meetings, in the order they start."""
    await network_within(conn, network_id)
    # Joint meetings too: a meeting is listed under each of its hosts.
    rows = await co_host_rows.page(
        conn,
        network_id,
        after_time=cursor.after_time if cursor else None,
        after_id=cursor.after_id if cursor else None,
        limit=limit + 1,
    )
    return Cursor.page(rows, limit, time_column="starts_at")


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def schedule_meeting(
    tx: Transactions,
    network_id: uuid.UUID,
    command: MeetingIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
    ctx: ServiceContext | None = None,
) -> R:
    """Add a meeting to a network of the organiser's own, and announce it; with `ctx`, then
    register the members of its auto_register hosts (else the series scheduler does)."""
    scheduled: list[uuid.UUID] = []

    async def schedule(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "network", network_id)
        row = await schedule_meeting_within(conn, network_id, command)
        scheduled.append(row["id"])
        return row

    answer = await tx.once(once, schedule)
    if ctx is not None and scheduled:  # not a replay of an Idempotency-Key
        await series_enrolment.register_owed_now(tx, ctx, meeting_id=scheduled[0])
    return answer


async def update_meeting(
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    command: MeetingPatch,
    *,
    organiser: Principal,
) -> asyncpg.Record:
    """Reschedule, resize or edit a meeting of the organiser's own."""

    async def update(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        return await update_meeting_within(conn, ctx, meeting_id, command)

    row = await tx.run(update)
    # New co-hosts, a later deadline or a members' meeting now: the series may owe people.
    await series_enrolment.register_owed_now(tx, ctx, meeting_id=meeting_id)
    return row


async def cancel_meeting(
    tx: Transactions,
    meeting_id: uuid.UUID,
    *,
    organiser: Principal,
    reason: str | None = None,
    once: Once[asyncpg.Record, R],
) -> R:
    """Cancel a meeting of the organiser's own."""

    async def cancel(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        return await cancel_meeting_within(conn, meeting_id, reason=reason)

    return await tx.once(once, cancel)


async def read_meeting(
    tx: Transactions, meeting_id: uuid.UUID, caller: Principal | None
) -> tuple[asyncpg.Record, bool]:
    """The meeting, and whether the caller organises it (and so may see its online link)."""

    async def read(conn: Connection) -> tuple[asyncpg.Record, bool]:
        row = await meeting_within(conn, meeting_id)
        return row, await organises(conn, caller, "meeting", meeting_id)

    return await tx.read(read)


async def read_meetings(
    tx: Transactions,
    network_id: uuid.UUID,
    caller: Principal | None,
    *,
    limit: int,
    cursor: Cursor | None,
) -> tuple[list[asyncpg.Record], Cursor | None, bool]:
    """A page of the network's meetings, and whether the caller organises the network."""

    async def read(conn: Connection) -> tuple[list[asyncpg.Record], Cursor | None, bool]:
        rows, next_cursor = await meetings_within(conn, network_id, limit=limit, cursor=cursor)
        return rows, next_cursor, await organises(conn, caller, "network", network_id)

    return await tx.read(read)


class NetworkMeetings(NamedTuple):
    network: asyncpg.Record
    meetings: list[asyncpg.Record]


async def network_and_meetings(
    tx: Transactions, network_id: uuid.UUID, *, limit: int, organiser: Principal | None = None
) -> NetworkMeetings:
    """A network and its first `limit` meetings in the order they start (for an organiser,
    only a network of their own)."""

    async def read(conn: Connection) -> NetworkMeetings:
        await require_in_scope(conn, organiser, "network", network_id)
        network = await network_within(conn, network_id)
        rows, _ = await meetings_within(conn, network_id, limit=limit, cursor=None)
        return NetworkMeetings(network, rows)

    return await tx.read(read)


async def meeting_and_network(
    tx: Transactions, meeting_id: uuid.UUID
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The meeting as shown, and its network."""

    async def read(conn: Connection) -> tuple[asyncpg.Record, asyncpg.Record]:
        meeting = await meeting_within(conn, meeting_id)
        return meeting, await network_within(conn, meeting["network_id"])

    return await tx.read(read)
