"""Use cases of topic proposals: the network's members propose topics for its meetings (their
votes are in `votes`; an organiser's publishing, rejecting and scheduling in
`proposal_moderation`).

The network's `proposals` decides: `off` takes none; `moderated` publishes a proposal once an
organiser has reviewed it; `open` publishes it as soon as it counts. Proposals and votes are
its active members' (matched by address), and count once their address is confirmed (see
address_confirmations): an uncounted proposal is neither reviewed nor listed.

Every change writes the proposal's full state (ProposalSubmitted, -Published, -Rejected,
-Scheduled) to the outbox, keyed by the network; each proposal is an aggregate of its own.
Title and body are meant for the network's pages and travel in clear; the author only sealed.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import confirmations as confirmation_rows
from registration.repository import enrolments as enrolment_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import proposals as proposal_rows
from registration.repository import votes as vote_rows
from registration.service import address_confirmations
from registration.service.commands import MemberIn
from registration.service.dialogue_commands import ProposalIn
from registration.service.members import with_data_key
from registration.service.organisations import organises
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    PersonalData,
    ProposalPublished,
    ProposalState,
    ProposalSubmitted,
)
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

R = TypeVar("R")
Sort = Literal["votes", "recent"]
# In events about a proposal whose author has been erased: nobody.
NOBODY = uuid.UUID(int=0)
LISTED = ["published", "scheduled"]


class ProposalList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None
    # Whether the caller organises the network: they may list submitted and rejected ones too.
    in_full: bool = False


def proposals_url(ctx: ServiceContext, network_id: uuid.UUID) -> str:
    return f"{ctx.settings.public_base_url}/networks/{network_id}/proposals"


async def member_of_network(
    conn: Connection, ctx: ServiceContext, network: asyncpg.Record, person: MemberIn
) -> asyncpg.Record:
    """The network's active member with this address (with a data key), or 403: proposals and
    votes are its members' (nobody else is created)."""
    found = await confirmation_rows.member_by_email(conn, person.email)
    if found is None or (
        await enrolment_rows.active(conn, network_id=network["id"], member_id=found["id"]) is None
    ):
        raise Forbidden(
            "Topic proposals and votes are the network's active members'; the address given "
            "is not among them.",
            slug="not-a-member",
        )
    return await with_data_key(conn, ctx.vault, found)


def require_proposals_taken(network: asyncpg.Record) -> None:
    """409 where the network takes no topic proposals (nor votes for them)."""
    if network["proposals"] == "off":
        raise Conflict("The network does not take topic proposals.", slug="proposals-off")


async def announce_proposal(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, event: type[ProposalState]
) -> asyncpg.Record:
    """Write the proposal's full state as `event`; the proposal as it now stands."""
    proposal = await proposal_rows.get(conn, proposal_id)
    assert proposal is not None
    author = await member_rows.get(conn, proposal["member_id"]) if proposal["member_id"] else None
    sealed = None
    if author is not None and author["email"] and author["data_key"]:
        sealed = ctx.vault.seal(
            author["id"],
            author["data_key"],
            PersonalData(
                name=author["name"],
                email=author["email"],
                action_url=proposals_url(ctx, proposal["network_id"]),
            ),
        )
    await record_event(
        conn,
        event(
            network_id=proposal["network_id"],
            member_id=author["id"] if author else NOBODY,
            language=(author["language"] if author else None) or proposal["network_language"],
            municipality_id=proposal["municipality_id"],
            municipality=proposal["municipality"],
            country=proposal["country"],
            personal_sealed=sealed,
            proposal_id=proposal["id"],
            title=proposal["title"],
            body=proposal["body"],
            status=proposal["status"],
            counted=proposal["counted"],
            submitted_at=proposal["submitted_at"],
            decided_at=proposal["decided_at"],
            reason=proposal["reason"],
            meeting_id=proposal["meeting_id"],
            votes=proposal["votes"],
        ),
        aggregate_id=proposal["id"],
        aggregate_version=proposal["version"],
        key=proposal["network_id"],
    )
    return proposal


async def submit_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: ProposalIn
) -> asyncpg.Record:
    """A member proposes a topic: submitted; in an `open` network published at once if their
    address is confirmed (then its status says `published`)."""
    network = await network_rows.get(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    require_proposals_taken(network)
    if network["status"] != "open":
        raise Conflict("The network is closed.", slug="network-closed")
    author = await member_of_network(conn, ctx, network, command.member)
    counts = await address_confirmations.counts_within(
        conn, ctx, author, network, subject="proposal"
    )
    proposal_id = uuid.uuid4()
    now = ctx.clock.now()
    await proposal_rows.insert(
        conn,
        proposal_id=proposal_id,
        network_id=network_id,
        author=author,
        title=command.title,
        body=command.body,
        counted=counts,
        at=now,
    )
    proposal = await announce_proposal(conn, ctx, proposal_id, ProposalSubmitted)
    if counts and network["proposals"] == "open":
        proposal = await publish_now_within(conn, ctx, proposal_id)
    return proposal


async def publish_now_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID
) -> asyncpg.Record:
    """Publish a proposal the caller has judged publishable (counted, and reviewed or in an
    `open` network): ProposalPublished."""
    await proposal_rows.move(conn, proposal_id, status="published", decided_at=ctx.clock.now())
    return await announce_proposal(conn, ctx, proposal_id, ProposalPublished)


async def count_proposals_within(
    conn: Connection, ctx: ServiceContext, member_id: uuid.UUID
) -> int:
    """The author's address is confirmed: each of their proposals counts (and says so); in an
    `open` network it is published as well."""
    waiting = await proposal_rows.pending_of_author(conn, member_id)
    for proposal_id in waiting:
        await proposal_rows.count(conn, proposal_id)
        proposal = await announce_proposal(conn, ctx, proposal_id, ProposalSubmitted)
        if proposal["status"] == "submitted" and proposal["policy"] == "open":
            await publish_now_within(conn, ctx, proposal_id)
    return len(waiting)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def submit_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: ProposalIn,
    *,
    once: Once[asyncpg.Record, R],
) -> R:
    """A member proposes a topic (status submitted)."""
    return await tx.once(once, lambda conn: submit_within(conn, ctx, network_id, command))


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

    async def read(conn: Connection) -> ProposalList:
        if await network_rows.get(conn, network_id) is None:
            raise NotFound(f"No network {network_id}.")
        in_full = await organises(conn, caller, "network", network_id)
        if in_full and status is not None:
            statuses = [status]
        else:
            statuses = [status] if status in LISTED else LISTED
        rows = await proposal_rows.page(
            conn,
            network_id,
            statuses=statuses,
            # Not even its organisers review a proposal whose author has not confirmed.
            uncounted_too=False,
            by_votes=sort == "votes",
            after_votes=cursor.after_position if cursor else None,
            after_time=cursor.after_time if cursor else None,
            after_id=cursor.after_id if cursor else None,
            limit=limit + 1,
        )
        if len(rows) <= limit:
            return ProposalList(rows, None, in_full)
        last = rows[limit - 1]
        next_cursor = Cursor(
            after_time=last["submitted_at"],
            after_id=last["id"],
            after_position=int(last["votes"]) if sort == "votes" else None,
        )
        return ProposalList(rows[:limit], next_cursor, in_full)

    return await tx.read(read)


async def get_proposal(tx: Transactions, proposal_id: uuid.UUID) -> asyncpg.Record | None:
    """The proposal with its counted votes; None if none."""
    return await tx.read(lambda conn: proposal_rows.get(conn, proposal_id))


# --- the person's data: export and erasure ------------------------------------------------------


async def export_of_member_within(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    """The person's proposals and votes, for their data export."""
    return {
        "proposals": [dict(row) for row in await proposal_rows.of_author(conn, member_id)],
        "votes": [dict(row) for row in await vote_rows.of_member(conn, member_id)],
    }


async def forget_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: their proposals stay without an author, their votes stay as they were (counted
    or not) without a voter, so the counts stay right."""
    await proposal_rows.forget_author(conn, member_id)
    await vote_rows.forget_voter(conn, member_id)
