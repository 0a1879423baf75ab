"""Use cases of topic proposals and votes: members propose topics for the network's meetings
(published at once or after an organiser's review, as the network's `proposals` says), vote
for them once each, withdraw a vote; an organiser puts a proposal on a meeting's agenda."""

from __future__ import annotations

import uuid
from typing import Literal, NamedTuple, TypeVar

import asyncpg

from registration.pagination import Cursor
from registration.service.dialogue_commands import ProposalIn, VoteIn
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal

R = TypeVar("R")
Sort = Literal["votes", "recent"]


class Voted(NamedTuple):
    """A vote as stored, and the token that withdraws it."""

    vote: asyncpg.Record
    token: str


class ProposalList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None


async def submit_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: ProposalIn,
    *,
    once: Once[asyncpg.Record, R],
) -> R:
    """A member proposes a topic (status submitted)."""
    raise NotImplementedError


async def publish_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own publishes a submitted proposal."""
    raise NotImplementedError


async def reject_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    *,
    reason: str | None,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own rejects a submitted proposal, with a reason."""
    raise NotImplementedError


async def schedule_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser puts a published proposal on the agenda of a meeting of the network."""
    raise NotImplementedError


async def vote(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    command: VoteIn,
    *,
    once: Once[Voted, R],
) -> R:
    """A person votes for a published proposal, once."""
    raise NotImplementedError


async def withdraw_vote(
    tx: Transactions,
    ctx: ServiceContext,
    vote_id: uuid.UUID,
    *,
    token: str | None,
    organiser: Principal | None,
    once: Once[asyncpg.Record, R],
) -> R:
    """The voter (with their token) withdraws their vote."""
    raise NotImplementedError


async def list_proposals(
    tx: Transactions,
    network_id: uuid.UUID,
    *,
    caller: Principal | None,
    sort: Sort,
    status: str | None,
    limit: int,
    cursor: Cursor | None,
) -> ProposalList:
    """Published and scheduled proposals with their counted `votes` (by votes, or newest
    first); the network's organisers may list the submitted and rejected ones too."""
    raise NotImplementedError


async def get_proposal(tx: Transactions, proposal_id: uuid.UUID) -> asyncpg.Record | None:
    """The proposal with its counted votes; None if none."""
    raise NotImplementedError
