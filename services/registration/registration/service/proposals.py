"""Use cases of topic proposals and votes: the network's members propose topics for its
meetings and vote for them, once each; an organiser puts a proposal on a meeting's agenda.

The network's `proposals` decides: `off` takes none; `moderated` publishes a proposal once an
organiser has reviewed it; `open` publishes it as soon as it counts. Proposals and votes are
its active members' (matched by address), and count once their address is confirmed (see
address_confirmations): an uncounted proposal is neither reviewed nor listed, a pending vote
is not in `votes`. A withdrawn vote may be cast again.

Every change writes the proposal's (ProposalSubmitted, -Published, -Rejected, -Scheduled) or
the vote's (ProposalVoted, ProposalVoteWithdrawn) full state to the outbox, keyed by the
network; each proposal and each vote is an aggregate of its own. Title and body are meant for
the network's pages and travel in clear; the author and the voters only sealed.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import confirmations as confirmation_rows
from registration.repository import enrolments as enrolment_rows
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import proposals as proposal_rows
from registration.service import address_confirmations
from registration.service.commands import MemberIn
from registration.service.dialogue_commands import ProposalIn, VoteIn
from registration.service.meetings import _event_fields
from registration.service.organisations import organises, require_in_scope
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    MeetingUpdated,
    PersonalData,
    ProposalPublished,
    ProposalRejected,
    ProposalScheduled,
    ProposalState,
    ProposalSubmitted,
    ProposalVoted,
    ProposalVoteWithdrawn,
)
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

R = TypeVar("R")
Sort = Literal["votes", "recent"]
WITHDRAW_PURPOSE = "withdraw-vote"
# In events about a proposal whose author has been erased: nobody.
NOBODY = uuid.UUID(int=0)
LISTED = ["published", "scheduled"]
# A meeting that takes new agenda items: one still to be held.
AGENDA_OPEN = ("scheduled",)


class Voted(NamedTuple):
    """A vote as stored, and the token that withdraws it."""

    vote: asyncpg.Record
    token: str


class ProposalList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None
    # Whether the caller organises the network: they may list submitted and rejected ones too.
    in_full: bool = False


def withdraw_token(ctx: ServiceContext, vote_id: uuid.UUID) -> str:
    # A vote has no end date; the token acts on this one vote only.
    return tokens.issue(
        ctx.settings.effective_token_secret, WITHDRAW_PURPOSE, vote_id, expires_at=None
    )


def proposals_url(ctx: ServiceContext, network_id: uuid.UUID) -> str:
    return f"{ctx.settings.public_base_url}/networks/{network_id}/proposals"


async def _member_of_network(
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
    if found["data_key"] is None:
        keyed = await member_rows.give_data_key(
            conn, found["id"], data_key=ctx.vault.new_wrapped_key(found["id"])
        )
        assert keyed is not None
        found = keyed
    return found


def _require_proposals_taken(network: asyncpg.Record) -> None:
    if network["proposals"] == "off":
        raise Conflict("The network does not take topic proposals.", slug="proposals-off")


async def _announce(
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


# --- proposals ----------------------------------------------------------------------------------


async def submit_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: ProposalIn
) -> asyncpg.Record:
    """A member proposes a topic: submitted; in an `open` network published at once if their
    address is confirmed (then its status says `published`)."""
    network = await network_rows.get(conn, network_id)
    if network is None:
        raise NotFound(f"No network {network_id}.")
    _require_proposals_taken(network)
    if network["status"] != "open":
        raise Conflict("The network is closed.", slug="network-closed")
    author = await _member_of_network(conn, ctx, network, command.member)
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
    proposal = await _announce(conn, ctx, proposal_id, ProposalSubmitted)
    if counts and network["proposals"] == "open":
        proposal = await _publish_within(conn, ctx, proposal_id)
    return proposal


async def _publish_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID
) -> asyncpg.Record:
    await proposal_rows.move(conn, proposal_id, status="published", decided_at=ctx.clock.now())
    return await _announce(conn, ctx, proposal_id, ProposalPublished)


async def _locked(conn: Connection, proposal_id: uuid.UUID) -> asyncpg.Record:
    if await proposal_rows.lock(conn, proposal_id) is None:
        raise NotFound(f"No proposal {proposal_id}.")
    proposal = await proposal_rows.get(conn, proposal_id)
    assert proposal is not None
    return proposal


async def publish_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID
) -> asyncpg.Record:
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] != "submitted":
        raise Conflict(
            f"The proposal is {proposal['status']}: only a submitted one can be published.",
            slug="not-awaiting-review",
            proposal_status=proposal["status"],
        )
    if not proposal["counted"]:
        raise Conflict(
            "The proposal's author has not confirmed their address yet.",
            slug="awaiting-confirmation",
        )
    return await _publish_within(conn, ctx, proposal_id)


async def reject_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, *, reason: str | None
) -> asyncpg.Record:
    """Reject a submitted proposal, or take a published one down (not one on an agenda)."""
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] not in ("submitted", "published"):
        raise Conflict(
            f"The proposal is {proposal['status']}: only a submitted or published one can be "
            "rejected.",
            slug="not-rejectable",
            proposal_status=proposal["status"],
        )
    await proposal_rows.move(
        conn, proposal_id, status="rejected", decided_at=ctx.clock.now(), reason=reason
    )
    return await _announce(conn, ctx, proposal_id, ProposalRejected)


async def schedule_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, meeting_id: uuid.UUID
) -> asyncpg.Record:
    """Put a published proposal on the agenda of a meeting the network hosts or co-hosts: an
    agenda item with the proposal's title, MeetingUpdated (changed agenda) and
    ProposalScheduled, together."""
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] != "published":
        raise Conflict(
            f"The proposal is {proposal['status']}: only a published one can be put on an agenda.",
            slug="not-published",
            proposal_status=proposal["status"],
        )
    meeting = await meeting_rows.lock(conn, meeting_id)
    network_id = proposal["network_id"]
    if meeting is None or (
        meeting["network_id"] != network_id and network_id not in (meeting["co_hosts"] or [])
    ):
        raise NotFound(f"No meeting {meeting_id} of this proposal's network.")
    if meeting["status"] not in AGENDA_OPEN:
        raise Conflict(
            f"The meeting is {meeting['status']}: its agenda is closed.",
            slug="meeting-" + meeting["status"],
        )
    item: dict[str, Any] = {
        "starts_at": None,
        "title": proposal["title"],
        "speakers": [],
        "proposal_id": str(proposal_id),
    }
    agenda = [*(meeting["agenda"] or []), item]
    updated = await meeting_rows.update(conn, meeting_id, changes={"agenda": agenda})
    await record_event(
        conn,
        MeetingUpdated(**_event_fields(updated), changed=["agenda"]),
        aggregate_id=meeting_id,
        aggregate_version=updated["version"],
        key=meeting_id,
    )
    await proposal_rows.move(
        conn, proposal_id, status="scheduled", decided_at=ctx.clock.now(), meeting_id=meeting_id
    )
    return await _announce(conn, ctx, proposal_id, ProposalScheduled)


async def count_proposals_within(
    conn: Connection, ctx: ServiceContext, member_id: uuid.UUID
) -> int:
    """The author's address is confirmed: each of their proposals counts (and says so); in an
    `open` network it is published as well."""
    waiting = await proposal_rows.pending_of_author(conn, member_id)
    for proposal_id in waiting:
        await proposal_rows.count(conn, proposal_id)
        proposal = await _announce(conn, ctx, proposal_id, ProposalSubmitted)
        if proposal["status"] == "submitted" and proposal["policy"] == "open":
            await _publish_within(conn, ctx, proposal_id)
    return len(waiting)


# --- votes --------------------------------------------------------------------------------------


async def vote_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, command: VoteIn
) -> Voted:
    """A member votes for a published proposal, once (again while the vote stands: 409)."""
    proposal = await proposal_rows.get(conn, proposal_id)
    if proposal is None:
        raise NotFound(f"No proposal {proposal_id}.")
    network = await network_rows.get(conn, proposal["network_id"])
    assert network is not None
    _require_proposals_taken(network)
    if proposal["status"] != "published" or not proposal["counted"]:
        raise Conflict(
            "The proposal is not open for votes: only published ones are.",
            slug="proposal-not-published",
            proposal_status=proposal["status"],
        )
    voter = await _member_of_network(conn, ctx, network, command.member)
    standing = await proposal_rows.standing_vote(conn, proposal_id, voter["id"])
    if standing is not None:
        raise _already(standing)
    counts = await address_confirmations.counts_within(conn, ctx, voter, network, subject="vote")
    vote = await proposal_rows.insert_vote(
        conn,
        vote_id=uuid.uuid4(),
        proposal_id=proposal_id,
        voter=voter,
        status="counted" if counts else "pending",
        at=ctx.clock.now(),
    )
    if vote is None:  # a concurrent twin committed first
        standing = await proposal_rows.standing_vote(conn, proposal_id, voter["id"])
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
    vote = await proposal_rows.lock_vote(conn, vote_id)
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
    withdrawn = await proposal_rows.move_vote(conn, vote_id, status="withdrawn", at=ctx.clock.now())
    await _announce_vote(
        conn, ctx, withdrawn, network_id=vote["network_id"], event=ProposalVoteWithdrawn
    )
    return withdrawn


async def count_votes_within(conn: Connection, ctx: ServiceContext, member_id: uuid.UUID) -> int:
    """The voter's address is confirmed: each of their pending votes counts (and says so)."""
    pending = await proposal_rows.pending_votes_of(conn, member_id)
    for row in pending:
        counted = await proposal_rows.move_vote(
            conn, row["id"], status="counted", at=ctx.clock.now()
        )
        await _announce_vote(conn, ctx, counted, network_id=row["network_id"])
    return len(pending)


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


async def _organising(conn: Connection, organiser: Principal, proposal_id: uuid.UUID) -> None:
    owner = await proposal_rows.organisation_of(conn, proposal_id)
    if owner is None:
        raise NotFound(f"No proposal {proposal_id}.")
    await require_in_scope(conn, organiser, "network", owner["network_id"])


async def publish_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own publishes a submitted proposal."""

    async def publish(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await publish_within(conn, ctx, proposal_id)

    return await tx.once(once, publish)


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

    async def reject(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await reject_within(conn, ctx, proposal_id, reason=reason)

    return await tx.once(once, reject)


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

    async def schedule(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await schedule_within(conn, ctx, proposal_id, meeting_id)

    return await tx.once(once, schedule)


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
            found = await proposal_rows.vote(conn, vote_id)
            if found is None:
                raise NotFound(f"No vote {vote_id}.")
            await require_in_scope(conn, organiser, "network", found["network_id"])
        return await withdraw_vote_within(
            conn, ctx, vote_id, token=token, by_organiser=organiser is not None
        )

    return await tx.once(once, withdraw)


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


async def get_vote(tx: Transactions, vote_id: uuid.UUID) -> asyncpg.Record | None:
    """The vote with its proposal's network; None if none."""
    return await tx.read(lambda conn: proposal_rows.vote(conn, vote_id))


# --- the person's data: export and erasure ------------------------------------------------------


async def export_of_member_within(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    """The person's proposals and votes, for their data export."""
    return {
        "proposals": [dict(row) for row in await proposal_rows.of_author(conn, member_id)],
        "votes": [dict(row) for row in await proposal_rows.votes_of(conn, member_id)],
    }


async def forget_member_within(conn: Connection, member_id: uuid.UUID) -> None:
    """Erasure: their proposals stay without an author, their votes stay as they were (counted
    or not) without a voter, so the counts stay right."""
    await proposal_rows.forget_author(conn, member_id)
    await proposal_rows.forget_voter(conn, member_id)
