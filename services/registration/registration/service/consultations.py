"""Use cases of consultations: an organiser asks the network's audience questions in a window
the clock opens and closes (consultation_window); each person answers once and may amend until
it closes (consultation_responses); the organiser exports the responses and sees registration's
own counts of them (consultation_results).

The audience: `members` are the network's active members; `parties` are the contact persons
of its joined parties and its active members from a joined party's municipality; `public` is
anyone (the members are the ones invited). Who answers is matched by address. Choice and scale
answers are counted and travel in clear; free-text answers are personal data: stored sealed
with the person's own key and carried in events only in the sealed `personal.answers`.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple, TypeVar

import asyncpg

from registration.pagination import Cursor
from registration.repository import consultation_responses as response_rows
from registration.repository import consultations as consultation_rows
from registration.repository import networks as network_rows
from registration.service.consultation_results import exported_response, tally
from registration.service.consultation_window import open_within
from registration.service.dialogue_commands import ConsultationIn
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, Invalid, NotFound

R = TypeVar("R")


class ResponseExport(NamedTuple):
    """The consultation and every response with who gave it and all answers (free text
    opened), for its organisers: JSON or CSV."""

    consultation: asyncpg.Record
    responses: list[dict[str, Any]]


class ConsultationList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None


async def create_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: ConsultationIn
) -> asyncpg.Record:
    """Store the consultation; one whose window has begun opens at once, in this transaction
    (the clock would only open it a run later)."""
    network = await network_rows.get(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    if network["status"] != "open":
        raise Conflict("The network is closed.", slug="network-closed")
    now = ctx.clock.now()
    if command.closes_at <= now:
        raise Invalid(
            "The consultation would close before it is created.",
            errors=[{"field": "closes_at", "in": "body", "message": "must be in the future"}],
        )
    questions = [
        {"question_id": str(question.question_id or uuid.uuid4()), **_question_fields(question)}
        for question in command.questions
    ]
    ids = [question["question_id"] for question in questions]
    if len(set(ids)) != len(ids):
        raise Invalid(
            "Each question_id may appear once.",
            errors=[{"field": "questions", "in": "body", "message": "question_id repeated"}],
        )
    consultation_id = uuid.uuid4()
    await consultation_rows.insert(
        conn,
        consultation_id=consultation_id,
        network_id=network_id,
        title=command.title,
        description=command.description,
        questions=questions,
        opens_at=command.opens_at,
        closes_at=command.closes_at,
        audience=command.audience,
        at=now,
    )
    if command.opens_at <= now:
        await consultation_rows.lock(conn, consultation_id)
        await open_within(conn, ctx, consultation_id)
    found = await consultation_rows.get(conn, consultation_id, now=now)
    assert found is not None
    return found


def _question_fields(question: Any) -> dict[str, Any]:
    fields = question.model_dump(mode="json", exclude={"question_id"})
    return {key: fields[key] for key in ("text", "kind", "options", "required", "min", "max")}


async def _in_scope(
    conn: Connection, organiser: Principal | None, consultation_id: uuid.UUID
) -> asyncpg.Record:
    owner = await consultation_rows.organisation_of(conn, consultation_id)
    if owner is None:
        raise NotFound(f"No consultation {consultation_id}.")
    await require_in_scope(conn, organiser, "network", owner["network_id"])
    return owner


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def create_consultation(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: ConsultationIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own asks its audience questions in a window."""

    async def create(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "network", network_id)
        return await create_within(conn, ctx, network_id, command)

    return await tx.once(once, create)


async def list_consultations(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    *,
    limit: int,
    cursor: Cursor | None,
) -> ConsultationList:
    """The network's consultations in the order they open (public)."""

    async def read(conn: Connection) -> ConsultationList:
        if await network_rows.get(conn, network_id) is None:
            raise NotFound(f"No network {network_id}.")
        rows = await consultation_rows.page(
            conn,
            network_id,
            now=ctx.clock.now(),
            after_time=cursor.after_time if cursor else None,
            after_id=cursor.after_id if cursor else None,
            limit=limit + 1,
        )
        page, next_cursor = Cursor.page(rows, limit, time_column="opens_at")
        return ConsultationList(page, next_cursor)

    return await tx.read(read)


async def get_consultation(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID
) -> asyncpg.Record | None:
    """The consultation with its network's title and status by the clock; None if none."""
    return await tx.read(
        lambda conn: consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
    )


async def export_responses(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> ResponseExport:
    """Every response, with who gave it and all answers, for the network's organisers."""

    async def read(conn: Connection) -> ResponseExport:
        await _in_scope(conn, organiser, consultation_id)
        consultation = await consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
        assert consultation is not None
        rows = await response_rows.export(conn, consultation_id)
        return ResponseExport(consultation, [exported_response(ctx, row) for row in rows])

    return await tx.read(read)


async def consultation_results(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> dict[str, Any]:
    """Registration's own counts: responses counted and pending, the audience, per
    municipality, and per choice and scale question the count of each answer."""

    async def read(conn: Connection) -> dict[str, Any]:
        await _in_scope(conn, organiser, consultation_id)
        consultation = await consultation_rows.get(conn, consultation_id, now=ctx.clock.now())
        assert consultation is not None
        return tally(consultation, await response_rows.for_results(conn, consultation_id))

    return await tx.read(read)
