"""One person, one voice: what a person says in the member dialogue (a response, a proposal, a
vote) counts once their address is confirmed through an emailed link. One request stands per
person, so they get one email, not one per vote (asked again only if they speak again a day
later and have still not confirmed); confirming it counts everything they have said that waits
for it, and is remembered for good, in every network.

The link's page shows what it confirms on GET and confirms only on POST: mail scanners follow
links, and must not confirm anything.

Enrolling in a network does not confirm an address: enrolment sends no link to follow, so
anyone could enrol with someone else's address. A member is asked once, like anyone else."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.repository import confirmations as confirmation_rows
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import AddressConfirmationRequested, AddressConfirmed, PersonalData
from tilmeld_shared.problems import Forbidden, NotFound

R = TypeVar("R")
CONFIRM_PURPOSE = "confirm-address"
# A person who speaks again this long after the last email, still unconfirmed, is sent another
# (the first may be lost); sooner, what they say waits for the one they have.
ASK_AGAIN_AFTER = timedelta(hours=24)


class ConfirmationView(NamedTuple):
    """What the link confirms (or has confirmed): the request, and how many of the person's
    responses, proposals and votes wait for it (or were counted by it)."""

    confirmation: asyncpg.Record
    responses: int
    proposals: int
    votes: int


def confirm_token(ctx: ServiceContext, confirmation_id: uuid.UUID) -> str:
    # It confirms one address once and for good; nothing is gained by its expiry.
    return tokens.issue(
        ctx.settings.effective_token_secret, CONFIRM_PURPOSE, confirmation_id, expires_at=None
    )


def confirm_url(ctx: ServiceContext, confirmation_id: uuid.UUID) -> str:
    token = confirm_token(ctx, confirmation_id)
    return f"{ctx.settings.public_base_url}/confirm/{confirmation_id}?token={token}"


async def _request(
    conn: Connection,
    ctx: ServiceContext,
    confirmation: asyncpg.Record,
    member: asyncpg.Record,
    network: asyncpg.Record,
) -> None:
    await record_event(
        conn,
        AddressConfirmationRequested(
            confirmation_id=confirmation["id"],
            network_id=network["id"],
            member_id=member["id"],
            language=member["language"] or network["language"],
            subject=confirmation["subject"],
            requested_at=confirmation["requested_at"],
            personal_sealed=ctx.vault.seal(
                member["id"],
                member["data_key"],
                PersonalData(
                    name=member["name"],
                    email=member["email"],
                    action_url=confirm_url(ctx, confirmation["id"]),
                ),
            ),
        ),
        aggregate_id=confirmation["id"],
        aggregate_version=confirmation["version"],
        key=network["id"],
    )


async def counts_within(
    conn: Connection,
    ctx: ServiceContext,
    member: asyncpg.Record,
    network: asyncpg.Record,
    *,
    subject: str,
) -> bool:
    """Whether what the person says now counts at once (their address is confirmed). If not,
    they are asked to confirm it: once, unless their last request is a day old."""
    now = ctx.clock.now()
    current = await confirmation_rows.of_member_for_update(conn, member["id"])
    if current is None:
        inserted = await confirmation_rows.insert(
            conn,
            confirmation_id=uuid.uuid4(),
            member_id=member["id"],
            network_id=network["id"],
            subject=subject,
            at=now,
        )
        if inserted is not None:
            await _request(conn, ctx, inserted, member, network)
            return False
        # A concurrent request of the same person inserted first: theirs stands.
        current = await confirmation_rows.of_member_for_update(conn, member["id"])
        assert current is not None
    if current["status"] == "confirmed":
        return True
    if now - current["requested_at"] >= ASK_AGAIN_AFTER:
        again = await confirmation_rows.ask_again(
            conn, current["id"], network_id=network["id"], subject=subject, at=now
        )
        await _request(conn, ctx, again, member, network)
    return False


async def _verified(
    conn: Connection, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> asyncpg.Record:
    confirmation = await confirmation_rows.get(conn, confirmation_id)
    if confirmation is None:
        raise NotFound(f"No confirmation {confirmation_id}.")
    if not tokens.verify(
        ctx.settings.effective_token_secret, CONFIRM_PURPOSE, confirmation_id, token, now=None
    ):
        raise Forbidden("The confirmation's token is missing or wrong.")
    return confirmation


async def show_within(
    conn: Connection, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> ConfirmationView:
    confirmation = await _verified(conn, ctx, confirmation_id, token)
    waiting = await confirmation_rows.waiting(conn, confirmation["member_id"])
    return ConfirmationView(
        confirmation, waiting["responses"], waiting["proposals"], waiting["votes"]
    )


async def confirm_within(
    conn: Connection, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> ConfirmationView:
    """Confirm the address: AddressConfirmed, then each response, proposal and vote of the
    person that waited for it counts (each with its new state). Confirming again changes
    nothing and says so (status `confirmed`, nothing counted)."""
    # Imported here: those use cases ask this module whether what is said counts.
    from registration.service import consultation_responses, proposals, votes

    if await confirmation_rows.lock(conn, confirmation_id) is None:
        raise NotFound(f"No confirmation {confirmation_id}.")
    confirmation = await _verified(conn, ctx, confirmation_id, token)
    if confirmation["status"] == "confirmed":
        return ConfirmationView(confirmation, 0, 0, 0)
    now = ctx.clock.now()
    await confirmation_rows.confirm(conn, confirmation_id, at=now)
    confirmed = await confirmation_rows.get(conn, confirmation_id)
    assert confirmed is not None
    await record_event(
        conn,
        AddressConfirmed(
            member_id=confirmed["member_id"],
            network_id=confirmed["network_id"],
            confirmed_at=now,
        ),
        aggregate_id=confirmation_id,
        aggregate_version=confirmed["version"],
        key=confirmed["network_id"],
    )
    member_id = confirmed["member_id"]
    responses = await consultation_responses.count_pending_within(conn, ctx, member_id)
    counted_proposals = await proposals.count_proposals_within(conn, ctx, member_id)
    counted_votes = await votes.count_votes_within(conn, ctx, member_id)
    return ConfirmationView(confirmed, responses, counted_proposals, counted_votes)


async def show_confirmation(
    tx: Transactions, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> ConfirmationView:
    """What the link confirms; changes nothing (mail scanners follow links)."""
    return await tx.read(lambda conn: show_within(conn, ctx, confirmation_id, token))


async def confirm_address(
    tx: Transactions,
    ctx: ServiceContext,
    confirmation_id: uuid.UUID,
    token: str,
    *,
    once: Once[ConfirmationView, R],
) -> R:
    """The person confirms their address: everything of theirs that waits for it counts."""
    return await tx.once(once, lambda conn: confirm_within(conn, ctx, confirmation_id, token))


async def forget_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: the confirmation goes (an erased person says nothing more)."""
    await confirmation_rows.forget(conn, member_id)


async def dialogue_of_member_within(
    conn: Connection, ctx: ServiceContext, member_id: uuid.UUID
) -> dict[str, Any]:
    """The person's part in the member dialogue, for their data export: their responses with
    every answer (free text opened), their proposals and votes, and their confirmation."""
    # Imported here: those use cases ask this module whether what is said counts.
    from registration.service import consultation_responses, proposals

    confirmation = await confirmation_rows.of_member(conn, member_id)
    return {
        "responses": await consultation_responses.export_of_member_within(conn, ctx, member_id),
        **await proposals.export_of_member_within(conn, member_id),
        "address_confirmation": dict(confirmation) if confirmation else None,
    }


async def forget_dialogue_of_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: the person's free-text answers, their authorship of proposals, their votes'
    tie to them and their confirmation go; what was counted stays counted, tied to nobody."""
    from registration.service import consultation_responses, proposals

    await consultation_responses.forget_member_within(conn, member_id)
    await proposals.forget_member_within(conn, member_id)
    await forget_member_within(conn, member_id)
