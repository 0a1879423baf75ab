"""Use cases of enrolment in a network: enrol, cancel, roster."""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import enrolments as enrolment_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.service import party_municipalities, series_enrolment
from registration.service.commands import EnrolmentIn
from registration.service.members import member_for_sign_up
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import EnrolmentCancelled, MemberEnrolled, PersonalData
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

CANCEL_PURPOSE = "cancel-enrolment"
R = TypeVar("R")


def cancel_token(ctx: ServiceContext, enrolment_id: uuid.UUID) -> str:
    # Membership has no end date, so this token does not expire; it acts on one enrolment only.
    return tokens.issue(
        ctx.settings.effective_token_secret, CANCEL_PURPOSE, enrolment_id, expires_at=None
    )


class Enrolled(NamedTuple):
    enrolment: asyncpg.Record
    cancel_token: str


async def enrol_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: EnrolmentIn
) -> Enrolled:
    """Enrol a person in a network; a second active enrolment is a conflict."""
    network = await network_rows.lock(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    if network["status"] != "open":
        raise Conflict("The network is closed for enrolment.", slug="network-closed")
    if network["term_ends_at"] is not None and network["term_ends_at"] <= ctx.clock.now():
        # An enrolment would end at once: it waits for the organiser to set the next term.
        raise Conflict(
            "The network's term has ended; enrolment opens again when the next term is set.",
            slug="term-ended",
        )
    member = await member_for_sign_up(conn, ctx.vault, command.member)
    await party_municipalities.require_from_a_party(conn, network, member)
    existing = await enrolment_rows.active(conn, network_id=network_id, member_id=member["id"])
    if existing is not None:
        raise Conflict(
            "This person is already enrolled in the network.",
            slug="already-enrolled",
            enrolment_id=str(existing["id"]),
        )
    now = ctx.clock.now()
    enrolment = await enrolment_rows.insert(
        conn, enrolment_id=uuid.uuid4(), network_id=network_id, member_id=member["id"], at=now
    )
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
            municipality_id=member["municipality_id"],
            country=member["country"],
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
    return Enrolled(enrolment, token)


async def cancel_enrolment_within(
    conn: Connection,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
    erasure: bool = False,
) -> asyncpg.Record:
    """Leave a network, by the person's token or by an organiser."""
    enrolment = await enrolment_rows.lock(conn, enrolment_id)
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
    if enrolment["status"] == "ended":
        raise Conflict("The enrolment ended with the network's term.", slug="enrolment-ended")
    now = ctx.clock.now()
    cancelled = await enrolment_rows.cancel(conn, enrolment_id, at=now)
    if not erasure:  # erasure cancels every registration of the person itself
        # Leaving the network: the meetings still to come that series enrolment registered the
        # person for go with it (they are for members); their own registrations stay.
        await series_enrolment.cancel_automatic_from(
            conn, ctx, enrolment_id, since=now, by="organiser" if by_organiser else "member"
        )
    member = await member_rows.get(conn, enrolment["member_id"])
    network = await network_rows.get(conn, enrolment["network_id"])
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
            municipality_id=member["municipality_id"],
            country=member["country"],
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


async def roster_within(
    conn: Connection, network_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of the network's enrolments with the people, in the order they enrolled."""
    if await network_rows.get(conn, network_id) is None:
        raise NotFound(f"No network {network_id}.")
    rows = await enrolment_rows.roster(
        conn,
        network_id,
        after_time=cursor.after_time if cursor else None,
        after_id=cursor.after_id if cursor else None,
        limit=limit + 1,
    )
    return Cursor.page(rows, limit, time_column="enrolled_at", id_column="enrolment_id")


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def enrol(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: EnrolmentIn,
    *,
    once: Once[Enrolled, R],
) -> R:
    """Enrol a person in a network (by themselves, or entered by an organiser); in an
    auto_register network, then register them for its upcoming meetings."""
    answer = await tx.once(once, lambda conn: enrol_within(conn, ctx, network_id, command))
    await series_enrolment.register_owed_now(tx, ctx, network_id=network_id)
    return answer


async def cancel_enrolment(
    tx: Transactions,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    token: str | None,
    organiser: Principal | None,
    once: Once[asyncpg.Record, R],
) -> R:
    """Leave a network: the person with their token, or an organiser of the network's own."""

    async def cancel(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "enrolment", enrolment_id)
        return await cancel_enrolment_within(
            conn, ctx, enrolment_id, token=token, by_organiser=organiser is not None
        )

    return await tx.once(once, cancel)


async def roster(
    tx: Transactions,
    network_id: uuid.UUID,
    *,
    organiser: Principal,
    limit: int,
    cursor: Cursor | None,
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of the network's enrolments, for an organiser of its own."""

    async def read(conn: Connection) -> tuple[list[asyncpg.Record], Cursor | None]:
        await require_in_scope(conn, organiser, "network", network_id)
        return await roster_within(conn, network_id, limit=limit, cursor=cursor)

    return await tx.read(read)


class EnrolmentInFull(NamedTuple):
    enrolment: asyncpg.Record
    network: asyncpg.Record
    member: asyncpg.Record


async def enrolment_in_full(tx: Transactions, enrolment_id: uuid.UUID) -> EnrolmentInFull | None:
    """The enrolment with its network and member, for the person's own pages; None if none."""

    async def read(conn: Connection) -> EnrolmentInFull | None:
        enrolment = await enrolment_rows.get(conn, enrolment_id)
        if enrolment is None:
            return None
        network = await network_rows.get(conn, enrolment["network_id"])
        member = await member_rows.get(conn, enrolment["member_id"])
        assert network is not None and member is not None
        return EnrolmentInFull(enrolment, network, member)

    return await tx.read(read)
