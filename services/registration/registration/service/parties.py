"""Use cases of parties: a municipality joins a network of municipalities (at once, or by an
application an organiser accepts or declines) and withdraws; the network lists its parties.

Every change writes the party's full state to the outbox (PartyApplied, PartyJoined,
PartyDeclined, PartyWithdrew), keyed by the network; the contact person is a member, so their
name, address and withdraw link travel sealed with their own key, and erasing them leaves the
party (the municipality is nobody's personal data) without a person.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import parties as party_rows
from registration.service.commands import MemberIn, PartyIn
from registration.service.members import member_for_sign_up
from registration.service.organisations import organises, require_in_scope
from registration.service.party_municipalities import municipality_of_party
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    PartyApplied,
    PartyDeclined,
    PartyJoined,
    PartyState,
    PartyWithdrew,
    PersonalData,
)
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

WITHDRAW_PURPOSE = "withdraw-party"
R = TypeVar("R")
# What a party can still be moved from: an application awaits a decision; a joined party may
# withdraw (as may an applicant).
STANDING = ("applied", "joined")


def withdraw_token(ctx: ServiceContext, party_id: uuid.UUID) -> str:
    # A party has no end date, so the token does not expire; it acts on this one party only.
    return tokens.issue(
        ctx.settings.effective_token_secret, WITHDRAW_PURPOSE, party_id, expires_at=None
    )


def withdraw_url(ctx: ServiceContext, party_id: uuid.UUID) -> str:
    token = withdraw_token(ctx, party_id)
    return f"{ctx.settings.public_base_url}/cancel/parties/{party_id}?token={token}"


class Applied(NamedTuple):
    party: asyncpg.Record
    withdraw_token: str


async def _announce(
    conn: Connection,
    ctx: ServiceContext,
    party_id: uuid.UUID,
    event: type[PartyState],
    *,
    previous_status: str | None,
    with_link: bool = False,
    withdrawn_by: str | None = None,
) -> asyncpg.Record:
    """Write the party's state as `event` to the outbox; the party as it now stands."""
    party = await party_rows.get(conn, party_id)
    network = await network_rows.get(conn, party["network_id"]) if party else None
    assert party is not None and network is not None
    contact = (
        await member_rows.get(conn, party["contact_member_id"])
        if party["contact_member_id"]
        else None
    )
    sealed = None
    if contact is not None and contact["email"] and contact["data_key"]:
        sealed = ctx.vault.seal(
            contact["id"],
            contact["data_key"],
            PersonalData(
                name=contact["name"],
                email=contact["email"],
                cancel_url=withdraw_url(ctx, party_id) if with_link else None,
            ),
        )
    extra = {"withdrawn_by": withdrawn_by} if withdrawn_by else {}
    payload = event(
        party_id=party_id,
        network_id=network["id"],
        network_title=network["title"],
        organisation_id=network["organisation_id"],
        municipality_id=party["municipality_id"],
        municipality=party["municipality"],
        country=party["country"],
        municipality_code=party["municipality_code"],
        municipality_kind=party["municipality_kind"],
        status=party["status"],
        previous_status=previous_status,
        applied_at=party["applied_at"],
        decided_at=party["decided_at"],
        reason=party["reason"],
        contact_member_id=party["contact_member_id"],
        language=(contact["language"] if contact else None) or network["language"],
        network_contact_email=(network["contact"] or {}).get("email"),
        personal_sealed=sealed,
        **extra,
    )
    await record_event(
        conn, payload, aggregate_id=party_id, aggregate_version=party["version"], key=network["id"]
    )
    return party


async def apply_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: PartyIn
) -> Applied:
    """A municipality joins (open admission) or applies to (application) a network of
    municipalities, once: while it has applied or joined, again is a conflict."""
    network = await network_rows.lock(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    if network["membership"] != "municipalities":
        raise Conflict(
            "People, not municipalities, are the members of this network.",
            slug="not-a-network-of-municipalities",
        )
    now = ctx.clock.now()
    if network["status"] != "open":
        raise Conflict("The network is closed.", slug="network-closed")
    if network["applications_close_at"] is not None and now > network["applications_close_at"]:
        raise Conflict("Applications to this network have closed.", slug="applications-closed")
    municipality = await municipality_of_party(conn, command)
    standing = await party_rows.standing(
        conn, network_id=network_id, municipality_id=municipality["municipality_id"]
    )
    if standing is not None:
        raise Conflict(
            f"{municipality['name']} is already a party of this network (or has applied).",
            slug="already-a-party",
            party_id=str(standing["id"]),
        )
    contact = await member_for_sign_up(
        conn,
        ctx.vault,
        MemberIn(
            name=command.contact.name,
            email=command.contact.email,
            municipality=municipality["name"],
            municipality_id=municipality["municipality_id"],
            role=command.contact.role,
            language=command.contact.language,
        ),
    )
    party_id = uuid.uuid4()
    status = "joined" if network["admission"] == "open" else "applied"
    await party_rows.insert(
        conn,
        party_id=party_id,
        network_id=network_id,
        municipality_id=municipality["municipality_id"],
        contact_member_id=contact["id"],
        statement=command.statement,
        status=status,
        at=now,
    )
    party = await _announce(
        conn,
        ctx,
        party_id,
        PartyJoined if status == "joined" else PartyApplied,
        previous_status=None,
        with_link=True,
    )
    return Applied(party, withdraw_token(ctx, party_id))


async def decide_within(
    conn: Connection,
    ctx: ServiceContext,
    party_id: uuid.UUID,
    *,
    accept: bool,
    reason: str | None,
) -> asyncpg.Record:
    """Accept (joined) or decline an application; only an application awaiting one."""
    party = await party_rows.lock(conn, party_id)
    if party is None:
        raise NotFound(f"No party {party_id}.")
    if party["status"] != "applied":
        raise Conflict(
            f"The party is {party['status']}: only an application awaiting a decision can be "
            "accepted or declined.",
            slug="not-awaiting-decision",
            party_status=party["status"],
        )
    await party_rows.move(
        conn,
        party_id,
        status="joined" if accept else "declined",
        at=ctx.clock.now(),
        reason=None if accept else reason,
    )
    return await _announce(
        conn,
        ctx,
        party_id,
        PartyJoined if accept else PartyDeclined,
        previous_status="applied",
        with_link=accept,
    )


async def withdraw_within(
    conn: Connection,
    ctx: ServiceContext,
    party_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
    reason: str | None = None,
) -> asyncpg.Record:
    """Withdraw an application or a joined party: the contact with their token, or an
    organiser (with a reason, sent to the contact)."""
    party = await party_rows.lock(conn, party_id)
    if party is None:
        raise NotFound(f"No party {party_id}.")
    if not by_organiser and not (
        token
        and tokens.verify(
            ctx.settings.effective_token_secret, WITHDRAW_PURPOSE, party_id, token, now=None
        )
    ):
        raise Forbidden("The withdraw token is missing or wrong.")
    if party["status"] not in STANDING:
        raise Conflict(
            f"The party is already {party['status']}.",
            slug="already-withdrawn" if party["status"] == "withdrawn" else "already-declined",
            party_status=party["status"],
        )
    await party_rows.move(
        conn,
        party_id,
        status="withdrawn",
        at=ctx.clock.now(),
        reason=reason if by_organiser else None,
    )
    return await _announce(
        conn,
        ctx,
        party_id,
        PartyWithdrew,
        previous_status=party["status"],
        withdrawn_by="organiser" if by_organiser else "contact",
    )


class PartyList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None
    # Whether the caller organises the network: they see every status and the contacts.
    in_full: bool


async def parties_within(
    conn: Connection,
    network_id: uuid.UUID,
    *,
    in_full: bool,
    status: str | None,
    limit: int,
    cursor: Cursor | None,
) -> PartyList:
    """A page of the network's parties in the order they applied: the joined ones for anyone,
    every status (or `status`) for its organisers."""
    if await network_rows.get(conn, network_id) is None:
        raise NotFound(f"No network {network_id}.")
    statuses = ([status] if status else None) if in_full else ["joined"]
    rows = await party_rows.page(
        conn,
        network_id,
        statuses=statuses,
        after_time=cursor.after_time if cursor else None,
        after_id=cursor.after_id if cursor else None,
        limit=limit + 1,
    )
    page, next_cursor = Cursor.page(rows, limit, time_column="applied_at")
    return PartyList(page, next_cursor, in_full)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def apply(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: PartyIn,
    *,
    once: Once[Applied, R],
) -> R:
    """A municipality joins or applies to a network (its contact, or an organiser for it)."""
    return await tx.once(once, lambda conn: apply_within(conn, ctx, network_id, command))


async def decide(
    tx: Transactions,
    ctx: ServiceContext,
    party_id: uuid.UUID,
    *,
    accept: bool,
    reason: str | None,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own accepts or declines an application."""

    async def decide_it(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "party", party_id)
        return await decide_within(conn, ctx, party_id, accept=accept, reason=reason)

    return await tx.once(once, decide_it)


async def withdraw(
    tx: Transactions,
    ctx: ServiceContext,
    party_id: uuid.UUID,
    *,
    token: str | None,
    reason: str | None,
    organiser: Principal | None,
    once: Once[asyncpg.Record, R],
) -> R:
    """The contact (with their token) or an organiser of the network's own withdraws a party."""

    async def withdraw_it(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "party", party_id)
        return await withdraw_within(
            conn, ctx, party_id, token=token, by_organiser=organiser is not None, reason=reason
        )

    return await tx.once(once, withdraw_it)


async def list_parties(
    tx: Transactions,
    network_id: uuid.UUID,
    *,
    caller: Principal | None,
    status: str | None,
    limit: int,
    cursor: Cursor | None,
) -> PartyList:
    """The network's parties: joined ones for anyone; all, with contacts, for its organisers."""

    async def read(conn: Connection) -> PartyList:
        in_full = await organises(conn, caller, "network", network_id)
        return await parties_within(
            conn, network_id, in_full=in_full, status=status, limit=limit, cursor=cursor
        )

    return await tx.read(read)


async def get_party(tx: Transactions, party_id: uuid.UUID) -> asyncpg.Record | None:
    """The party with its municipality and contact, for the pages; None if none."""
    return await tx.read(lambda conn: party_rows.get(conn, party_id))
