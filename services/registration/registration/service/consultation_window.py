"""A consultation's window: opened (ConsultationOpened, and an invitation to each person of its
audience) when it begins and closed (ConsultationClosed) when it ends, by the dialogue's clock
or by the first use case that finds the window begun. The caller holds the consultation locked.
"""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg

from registration.outbox import record_event
from registration.repository import consultations as consultation_rows
from registration.service.consultation_answers import questions_of
from registration.unit_of_work import ServiceContext
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    ConsultationClosed,
    ConsultationInvitation,
    ConsultationOpened,
    ConsultationState,
    PersonalData,
    Question,
)

Status = Literal["scheduled", "open", "closed"]


def form_url(ctx: ServiceContext, consultation_id: uuid.UUID) -> str:
    """The public page of the consultation's form: the invitation's link."""
    return f"{ctx.settings.public_base_url}/consultations/{consultation_id}"


def _state(
    event: type[ConsultationState], consultation: asyncpg.Record, *, status: Status
) -> ConsultationState:
    return event(
        consultation_id=consultation["id"],
        network_id=consultation["network_id"],
        network_title=consultation["network_title"],
        organisation_id=consultation["organisation_id"],
        title=consultation["title"],
        description=consultation["description"],
        questions=[Question.model_validate(q) for q in questions_of(consultation)],
        opens_at=consultation["opens_at"],
        closes_at=consultation["closes_at"],
        audience=consultation["audience"],
        status=status,
        language=consultation["language"],
        audience_size=consultation["audience_size"],
    )


async def _move(
    conn: Connection,
    consultation: asyncpg.Record,
    event: type[ConsultationState],
    *,
    status: Status,
    audience_size: int | None,
) -> None:
    """Store the consultation's new status (and audience size) and write its full state as
    `event`."""
    version = await consultation_rows.move(
        conn, consultation["id"], status=status, audience_size=audience_size
    )
    moved = await consultation_rows.stored(conn, consultation["id"])
    assert moved is not None
    await record_event(
        conn,
        _state(event, moved, status=status),
        aggregate_id=consultation["id"],
        aggregate_version=version,
        key=consultation["network_id"],
    )


async def open_within(conn: Connection, ctx: ServiceContext, consultation_id: uuid.UUID) -> int:
    """Open a consultation the caller holds locked: ConsultationOpened with the audience's size,
    and an invitation for each person of the audience (the members, for the public). How many
    were invited."""
    consultation = await consultation_rows.stored(conn, consultation_id)
    assert consultation is not None
    people = await consultation_rows.audience(
        conn, consultation["network_id"], consultation["audience"]
    )
    size = None if consultation["audience"] == "public" else len(people)
    await _move(conn, consultation, ConsultationOpened, status="open", audience_size=size)
    link = form_url(ctx, consultation_id)
    invited = 0
    for person in people:
        if not person["email"] or not person["data_key"]:
            continue  # nobody to write to, or no key to seal the address with
        invitation = ConsultationInvitation(
            consultation_id=consultation_id,
            network_id=consultation["network_id"],
            member_id=person["id"],
            language=person["language"] or consultation["language"],
            title=consultation["title"],
            closes_at=consultation["closes_at"],
            personal_sealed=ctx.vault.seal(
                person["id"],
                person["data_key"],
                PersonalData(name=person["name"], email=person["email"], action_url=link),
            ),
        )
        # Each invitation is a fact of its own, named by the consultation and the person.
        await record_event(
            conn,
            invitation,
            aggregate_id=uuid.uuid5(consultation_id, str(person["id"])),
            aggregate_version=1,
            key=consultation["network_id"],
        )
        invited += 1
    return invited


async def close_within(conn: Connection, consultation_id: uuid.UUID) -> None:
    """Close a consultation the caller holds locked (one never opened, too)."""
    consultation = await consultation_rows.stored(conn, consultation_id)
    assert consultation is not None
    size = None
    if consultation["status"] == "scheduled" and consultation["audience"] != "public":
        # Never opened (the clock was away all its window): the audience as it is now.
        people = await consultation_rows.audience(
            conn, consultation["network_id"], consultation["audience"]
        )
        size = len(people)
    await _move(conn, consultation, ConsultationClosed, status="closed", audience_size=size)
