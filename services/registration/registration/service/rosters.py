"""A meeting's roster: who registered, in registration order, with their places."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import asyncpg

from registration.pagination import Cursor
from registration.personal_data import PersonalDataVault
from registration.repository import answers as answer_rows
from registration.repository import meetings as meeting_rows
from registration.repository import registrations as registration_rows
from registration.service import answers
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


Answers = dict[uuid.UUID, dict[str, answers.Value]]


async def answers_within(
    conn: Connection,
    vault: PersonalDataVault,
    meeting: asyncpg.Record,
    registration_ids: list[uuid.UUID] | None = None,
) -> Answers:
    """The answers to the meeting's questions by registration (of those named, else all),
    opened for the organisers; a registration whose answers are erased has none."""
    rows = (
        await answer_rows.of_meeting(conn, meeting["id"])
        if registration_ids is None
        else await answer_rows.of_registrations(conn, registration_ids)
    )
    questions = answers.questions_of(meeting["questions"])
    return {
        row["id"]: answers.typed(
            questions, answers.opened(vault, row["answers_sealed"], row["data_key"])
        )
        for row in rows
    }


async def roster_answers(
    tx: Transactions,
    vault: PersonalDataVault,
    meeting_id: uuid.UUID,
    registration_ids: list[uuid.UUID],
    *,
    organiser: Principal,
) -> Answers:
    """The answers of these registrations of the meeting, for an organiser of its own."""

    async def read(conn: Connection) -> Answers:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        meeting = await meeting_within(conn, meeting_id)
        return await answers_within(conn, vault, meeting, registration_ids)

    return await tx.read(read)


class MeetingRoster(NamedTuple):
    meeting: asyncpg.Record
    network: asyncpg.Record
    people: list[asyncpg.Record]
    # Answers to the meeting's questions by registration (given a vault to open them).
    answers: Answers


async def meeting_with_roster(
    tx: Transactions,
    meeting_id: uuid.UUID,
    *,
    organiser: Principal,
    vault: PersonalDataVault | None = None,
) -> MeetingRoster:
    """A meeting of the organiser's own, its network, everyone on its roster and (with the
    vault) their answers to its questions."""

    async def read(conn: Connection) -> MeetingRoster:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        meeting = await meeting_within(conn, meeting_id)
        network = await network_within(conn, meeting["network_id"])
        people, _ = await roster_within(conn, meeting_id, limit=100_000, cursor=None)
        given = await answers_within(conn, vault, meeting) if vault else {}
        return MeetingRoster(meeting, network, people, given)

    return await tx.read(read)
