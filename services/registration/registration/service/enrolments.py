"""Use cases of enrolment in a network: enrol, cancel, roster."""

from __future__ import annotations

import uuid

import asyncpg

from registration import repository as repo
from registration import tokens
from registration.api.schemas import EnrolmentIn
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.service.members import member_for_sign_up
from registration.unit_of_work import ServiceContext
from tilmeld_shared.db import Connection
from tilmeld_shared.events import EnrolmentCancelled, MemberEnrolled, PersonalData
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

CANCEL_PURPOSE = "cancel-enrolment"


def cancel_token(ctx: ServiceContext, enrolment_id: uuid.UUID) -> str:
    # Membership has no end date, so this token does not expire; it acts on one enrolment only.
    return tokens.issue(
        ctx.settings.effective_token_secret, CANCEL_PURPOSE, enrolment_id, expires_at=None
    )


async def enrol(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: EnrolmentIn
) -> tuple[asyncpg.Record, str]:
    """Enrol a person in a network; a second active enrolment is a conflict."""
    network = await conn.fetchrow(repo.NETWORK_FOR_UPDATE, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    if network["status"] != "open":
        raise Conflict("The network is closed for enrolment.", slug="network-closed")
    member = await member_for_sign_up(conn, ctx.vault, command.member)
    existing = await conn.fetchrow(repo.ACTIVE_ENROLMENT, network_id, member["id"])
    if existing is not None:
        raise Conflict(
            "This person is already enrolled in the network.",
            slug="already-enrolled",
            enrolment_id=str(existing["id"]),
        )
    now = ctx.clock.now()
    enrolment = await conn.fetchrow(
        repo.INSERT_ENROLMENT, uuid.uuid4(), network_id, member["id"], now
    )
    assert enrolment is not None
    token = cancel_token(ctx, enrolment["id"])
    cancel_url = f"{ctx.settings.public_base_url}/cancel/enrolments/{enrolment['id']}?token={token}"
    await record_event(
        conn,
        MemberEnrolled(
            enrolment_id=enrolment["id"],
            network_id=network_id,
            network_title=network["title"],
            member_id=member["id"],
            municipality=member["municipality"],
            role=member["role"],
            language=member["language"] or network["language"],
            enrolled_at=now,
            # The cancel link travels sealed with the person: a topic reader is not the person.
            personal_sealed=ctx.vault.seal(
                member["id"],
                member["data_key"],
                PersonalData(name=member["name"], email=member["email"], cancel_url=cancel_url),
            ),
        ),
        aggregate_id=enrolment["id"],
        aggregate_version=enrolment["version"],
        key=network_id,
    )
    return enrolment, token


async def cancel_enrolment(
    conn: Connection,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
    erasure: bool = False,
) -> asyncpg.Record:
    """Leave a network, by the person's token or by an organiser."""
    enrolment = await conn.fetchrow(repo.ENROLMENT_FOR_UPDATE, enrolment_id)
    if enrolment is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    if not by_organiser and not (
        token
        and tokens.verify(
            ctx.settings.effective_token_secret,
            CANCEL_PURPOSE,
            enrolment_id,
            token,
            now=ctx.clock.now(),
        )
    ):
        raise Forbidden("The cancel token is missing or wrong.")
    if enrolment["status"] == "cancelled":
        raise Conflict("The enrolment is already cancelled.", slug="already-cancelled")
    now = ctx.clock.now()
    cancelled = await conn.fetchrow(repo.CANCEL_ENROLMENT, enrolment_id, now)
    assert cancelled is not None
    member = await conn.fetchrow(repo.MEMBER, enrolment["member_id"])
    network = await conn.fetchrow(repo.NETWORK, enrolment["network_id"])
    assert member is not None and network is not None
    personal = (
        ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(name=member["name"], email=member["email"]),
        )
        if member["email"] and member["data_key"] and not erasure
        else None
    )
    await record_event(
        conn,
        EnrolmentCancelled(
            enrolment_id=enrolment_id,
            network_id=enrolment["network_id"],
            member_id=enrolment["member_id"],
            municipality=member["municipality"],
            language=member["language"] or network["language"],
            cancelled_at=now,
            cancelled_by="erasure" if erasure else ("organiser" if by_organiser else "member"),
            personal_sealed=personal,
        ),
        aggregate_id=enrolment_id,
        aggregate_version=cancelled["version"],
        key=enrolment["network_id"],
    )
    return cancelled


async def roster(
    conn: Connection, network_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    if await conn.fetchrow(repo.NETWORK, network_id) is None:
        raise NotFound(f"No network {network_id}.")
    rows = await conn.fetch(
        repo.ENROLMENT_ROSTER,
        network_id,
        cursor.after_time if cursor else None,
        cursor.after_id if cursor else None,
        limit + 1,
    )
    return Cursor.page(rows, limit, time_column="enrolled_at", id_column="enrolment_id")
