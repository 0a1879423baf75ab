"""One person, one voice: what a person says in the member dialogue (a response, a proposal, a
vote) counts once their address is confirmed through an emailed link. One request stands per
person; confirming it counts everything they have said that waits for it, and is remembered
for good, in every network.

Enrolling in a network does not confirm an address: enrolment sends no link to follow, so
anyone could enrol with someone else's address. A member is asked once, like anyone else."""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

import asyncpg

from registration.unit_of_work import Once, ServiceContext, Transactions

R = TypeVar("R")


class ConfirmationView(NamedTuple):
    """What the link confirms (or has confirmed): the request, and how many of the person's
    responses, proposals and votes wait for it (or were counted by it)."""

    confirmation: asyncpg.Record
    responses: int
    proposals: int
    votes: int


async def show_confirmation(
    tx: Transactions, ctx: ServiceContext, confirmation_id: uuid.UUID, token: str
) -> ConfirmationView:
    """What the link confirms; changes nothing (mail scanners follow links)."""
    raise NotImplementedError


async def confirm_address(
    tx: Transactions,
    ctx: ServiceContext,
    confirmation_id: uuid.UUID,
    token: str,
    *,
    once: Once[ConfirmationView, R],
) -> R:
    """The person confirms their address: everything of theirs that waits for it counts."""
    raise NotImplementedError
