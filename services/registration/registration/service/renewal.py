"""Enrolling again for the next term, through the link the term's end emailed (see
series_enrolment): the member's stored details, once the organiser has set the next term."""

from __future__ import annotations

import uuid
from typing import TypeVar

import asyncpg

from registration.repository import enrolments as enrolment_rows
from registration.repository import members as member_rows
from registration.service.commands import EnrolmentIn, MemberIn
from registration.service.enrolments import Enrolled, enrol_within
from registration.service.organisations import require_in_scope
from registration.service.series_enrolment import register_owed_now, renew_token_valid
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Forbidden, NotFound

R = TypeVar("R")


async def renew_within(
    conn: Connection,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
) -> Enrolled:
    """Enrol the member of an ended (or cancelled) enrolment again, with the details they
    gave: possible once the organiser has set the next term (else 409 term-ended)."""
    enrolment = await enrolment_rows.get(conn, enrolment_id)
    if enrolment is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    if not by_organiser and not renew_token_valid(ctx, enrolment_id, token or ""):
        raise Forbidden("The renew token is missing or wrong.")
    member = await member_rows.get(conn, enrolment["member_id"])
    assert member is not None
    if member["email"] is None:  # erased: nobody left to enrol
        raise NotFound(f"No enrolment {enrolment_id}.")
    command = EnrolmentIn(member=member_in(member), consent=True)
    return await enrol_within(conn, ctx, enrolment["network_id"], command)


def member_in(member: asyncpg.Record) -> MemberIn:
    """The member's stored details as a sign-up gives them."""
    return MemberIn(
        name=member["name"],
        email=member["email"],
        municipality=member["municipality"],
        municipality_id=member["municipality_id"],
        role=member["role"],
        organisation=member["organisation"],
        language=member["language"],
    )


async def renew(
    tx: Transactions,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    token: str | None,
    organiser: Principal | None,
    once: Once[Enrolled, R],
) -> R:
    """Enrol again for the next term: the person with the link's token, or an organiser of the
    network's own; then the series registrations of an auto_register network."""
    enrolled: list[uuid.UUID] = []

    async def renew_enrolment(conn: Connection) -> Enrolled:
        await require_in_scope(conn, organiser, "enrolment", enrolment_id)
        result = await renew_within(
            conn, ctx, enrolment_id, token=token, by_organiser=organiser is not None
        )
        enrolled.append(result.enrolment["network_id"])
        return result

    answer = await tx.once(once, renew_enrolment)
    if enrolled:  # not a replay of an Idempotency-Key
        await register_owed_now(tx, ctx, network_id=enrolled[0])
    return answer


async def renewal_form(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    token: str,
) -> dict[str, str] | None:
    """The enrol form's fields filled in with the member's stored details, for the renew link
    of an enrolment of this network; None for a wrong link or an erased member."""
    if not renew_token_valid(ctx, enrolment_id, token):
        return None

    async def read(conn: Connection) -> dict[str, str] | None:
        enrolment = await enrolment_rows.get(conn, enrolment_id)
        if enrolment is None or enrolment["network_id"] != network_id:
            return None
        member = await member_rows.get(conn, enrolment["member_id"])
        if member is None or member["email"] is None:
            return None
        fields = ("name", "email", "municipality", "role", "organisation")
        return {name: member[name] for name in fields if member[name]}

    return await tx.read(read)
