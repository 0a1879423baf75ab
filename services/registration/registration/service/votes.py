"""Use cases of votes for topic proposals: a member of the network votes for a published
proposal, once while the vote stands, and may withdraw it (with the token the vote returned) and
vote again; an organiser of the network's own may withdraw any vote. A vote counts once the
voter's address is confirmed (see address_confirmations); until then it is pending and not in
the proposal's `votes`.

Every change writes the vote's full state (ProposalVoted, ProposalVoteWithdrawn) to the outbox,
keyed by the network; each vote is an aggregate of its own, its voter only sealed.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import proposals as proposal_rows
from registration.repository import votes as vote_rows
from registration.service import address_confirmations
from registration.service.dialogue_commands import VoteIn
from registration.service.organisations import require_in_scope
from registration.service.proposals import member_of_network, require_proposals_taken
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import PersonalData, ProposalVoted, ProposalVoteWithdrawn
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

R = TypeVar("R")
WITHDRAW_PURPOSE = "withdraw-vote"


class Voted(NamedTuple):
    """A vote as stored, and the token that withdraws it."""

    vote: asyncpg.Record
    token: str


def withdraw_token(ctx: ServiceContext, vote_id: uuid.UUID) -> str:
    # A vote has no end date; the token acts on this one vote only.
    return tokens.issue(
        ctx.settings.effective_token_secret, WITHDRAW_PURPOSE, vote_id, expires_at=None
    )


async def _announce_vote(
    conn: Connection,
    ctx: ServiceContext,
    vote: asyncpg.Record,
    *,
    network_id: uuid.UUID,
    event: type[ProposalVoted] = ProposalVoted,
) -> None:
    voter = await member_rows.get(conn, vote["member_id"]) if vote["member_id"] else None
    network = await network_rows.get(conn, network_id)
    assert voter is not None and network is not None
    sealed = None
    if voter["email"] and voter["data_key"]:
        sealed = ctx.vault.seal(
            voter["id"],
            voter["data_key"],
            PersonalData(name=voter["name"], email=voter["email"]),
        )
    await record_event(
        conn,
        event(
            network_id=network_id,
            member_id=voter["id"],
            language=voter["language"] or network["language"],
            municipality_id=vote["municipality_id"],
            municipality=vote["municipality"],
            country=vote["country"],
            personal_sealed=sealed,
            vote_id=vote["id"],
            proposal_id=vote["proposal_id"],
            status=vote["status"],
            voted_at=vote["voted_at"],
        ),
        aggregate_id=vote["id"],
        aggregate_version=vote["version"],
        key=network_id,
    )


async def vote_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, command: VoteIn
) -> Voted:
    """A member votes for a published proposal, once (again while the vote stands: 409)."""
    proposal = await proposal_rows.get(conn, proposal_id)
    if proposal is None:
        raise NotFound(f"No proposal {proposal_id}.")
    network = await network_rows.get(conn, proposal["network_id"])
    assert network is not None
    require_proposals_taken(network)
    if proposal["status"] != "published" or not proposal["counted"]:
        raise Conflict(
            "The proposal is not open for votes: only published ones are.",
            slug="proposal-not-published",
            proposal_status=proposal["status"],
        )
    voter = await member_of_network(conn, ctx, network, command.member)
    standing = await vote_rows.standing(conn, proposal_id, voter["id"])
    if standing is not None:
        raise _already(standing)
    counts = await address_confirmations.counts_within(conn, ctx, voter, network, subject="vote")
    vote = await vote_rows.insert(
        conn,
        vote_id=uuid.uuid4(),
        proposal_id=proposal_id,
        voter=voter,
        status="counted" if counts else "pending",
        at=ctx.clock.now(),
    )
    if vote is None:  # a concurrent twin committed first
        standing = await vote_rows.standing(conn, proposal_id, voter["id"])
        assert standing is not None
        raise _already(standing)
    await _announce_vote(conn, ctx, vote, network_id=network["id"])
    return Voted(vote, withdraw_token(ctx, vote["id"]))


def _already(standing: asyncpg.Record) -> Conflict:
    return Conflict(
        "This person has voted for this proposal already.",
        slug="already-voted",
        vote_id=str(standing["id"]),
    )


async def withdraw_vote_within(
    conn: Connection,
    ctx: ServiceContext,
    vote_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
) -> asyncpg.Record:
    vote = await vote_rows.lock(conn, vote_id)
    if vote is None or vote["member_id"] is None:
        raise NotFound(f"No vote {vote_id}.")
    if not by_organiser and not (
        token
        and tokens.verify(
            ctx.settings.effective_token_secret, WITHDRAW_PURPOSE, vote_id, token, now=None
        )
    ):
        raise Forbidden("The vote's token is missing or wrong.")
    if vote["status"] == "withdrawn":
        raise Conflict("The vote is withdrawn already.", slug="already-withdrawn")
    withdrawn = await vote_rows.move(conn, vote_id, status="withdrawn", at=ctx.clock.now())
    await _announce_vote(
        conn, ctx, withdrawn, network_id=vote["network_id"], event=ProposalVoteWithdrawn
    )
    return withdrawn


async def count_votes_within(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> int:
    """The voter's address is confirmed: each of their pending votes counts (and says so)."""
    pending = await vote_rows.pending_of(conn, member_id)
    for row in pending:
        counted = await vote_rows.move(conn, row["id"], status="counted", at=ctx.clock.now())
        await _announce_vote(conn, ctx, counted, network_id=row["network_id"])
    return len(pending)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def vote(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    command: VoteIn,
    *,
    once: Once[Voted, R],
) -> R:
    """A person votes for a published proposal, once."""
    return await tx.once(once, lambda conn: vote_within(conn, ctx, proposal_id, command))


async def withdraw_vote(
    tx: Transactions,
    ctx: ServiceContext,
    vote_id: uuid.UUID,
    *,
    token: str | None,
    organiser: Principal | None,
    once: Once[asyncpg.Record, R],
) -> R:
    """The voter (with their token), or an organiser of the network's own, withdraws a vote."""

    async def withdraw(conn: Connection) -> asyncpg.Record:
        if organiser is not None:
            found = await vote_rows.get(conn, vote_id)
            if found is None:
                raise NotFound(f"No vote {vote_id}.")
            await require_in_scope(conn, organiser, "network", found["network_id"])
        return await withdraw_vote_within(
            conn, ctx, vote_id, token=token, by_organiser=organiser is not None
        )

    return await tx.once(once, withdraw)


async def get_vote(tx: Transactions, vote_id: uuid.UUID) -> asyncpg.Record | None:
    """The vote with its proposal's network; None if none."""
    return await tx.read(lambda conn: vote_rows.get(conn, vote_id))
