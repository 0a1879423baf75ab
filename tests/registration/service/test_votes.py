"""Votes for topic proposals: one standing vote per person per proposal, counted once the
voter's address is confirmed, withdrawn with its token; and under a crowd of concurrent votes,
each person counts once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from registration.service import proposals, votes
from registration.service.commands import MemberIn
from registration.service.dialogue_commands import ProposalIn, VoteIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.dialogue_builders import confirm, events
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.problems import Conflict, Forbidden

PEOPLE = 100


async def published_proposal(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> tuple[uuid.UUID, uuid.UUID]:
    """A network that takes proposals openly, with one published proposal: (network, proposal)."""
    network_id = await given.network(proposals="open")
    author = await given.member(network_id)
    command = ProposalIn(member=author, title="Klimaregnskab for kulturhuse", body="Hvordan?")
    proposal = await proposals.submit_proposal(tx, ctx, network_id, command, once=as_is())
    await confirm(tx, ctx, pool, author.email)
    return network_id, proposal["id"]


async def cast(
    tx: Transactions, ctx: ServiceContext, proposal_id: uuid.UUID, person: MemberIn
) -> votes.Voted:
    return await votes.vote(tx, ctx, proposal_id, VoteIn(member=person), once=as_is())


async def counted(tx: Transactions, proposal_id: uuid.UUID) -> int:
    proposal = await proposals.get_proposal(tx, proposal_id)
    assert proposal is not None
    return int(proposal["votes"])


async def test_a_vote_counts_once_the_voters_address_is_confirmed(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, proposal_id = await published_proposal(given, tx, ctx, pool)
    voter = await given.member(network_id)

    voted = await cast(tx, ctx, proposal_id, voter)
    before = await counted(tx, proposal_id)
    view = await confirm(tx, ctx, pool, voter.email)

    assert voted.vote["status"] == "pending"
    assert (before, await counted(tx, proposal_id)) == (0, 1)
    assert view.votes == 1
    trail = await events(pool, aggregate_id=voted.vote["id"])
    assert [(e["event_type"], e["payload"]["status"]) for e in trail] == [
        ("ProposalVoted", "pending"),
        ("ProposalVoted", "counted"),
    ]
    assert [e["aggregate_version"] for e in trail] == [1, 2]
    assert {e["key"] for e in trail} == {str(network_id)}


async def test_a_confirmed_person_is_not_asked_again_in_any_network(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, proposal_id = await published_proposal(given, tx, ctx, pool)
    voter = await given.member(network_id)
    await cast(tx, ctx, proposal_id, voter)
    await confirm(tx, ctx, pool, voter.email)
    other_network, other_proposal = await published_proposal(given, tx, ctx, pool)
    await given.enrol(other_network, voter)
    asked = len(await events(pool, "AddressConfirmationRequested"))

    voted = await cast(tx, ctx, other_proposal, voter)

    assert voted.vote["status"] == "counted"
    assert len(await events(pool, "AddressConfirmationRequested")) == asked


async def test_a_second_vote_is_a_conflict_naming_the_first(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, proposal_id = await published_proposal(given, tx, ctx, pool)
    voter = await given.member(network_id)
    first = await cast(tx, ctx, proposal_id, voter)

    with pytest.raises(Conflict) as again:
        await cast(tx, ctx, proposal_id, voter)

    assert again.value.slug == "already-voted"
    assert again.value.extensions["vote_id"] == str(first.vote["id"])


async def test_a_withdrawn_vote_stops_counting_and_may_be_cast_again(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, proposal_id = await published_proposal(given, tx, ctx, pool)
    voter = await given.member(network_id)
    first = await cast(tx, ctx, proposal_id, voter)
    await confirm(tx, ctx, pool, voter.email)

    with pytest.raises(Forbidden):
        await votes.withdraw_vote(
            tx, ctx, first.vote["id"], token="0.wrong", organiser=None, once=as_is()
        )
    withdrawn = await votes.withdraw_vote(
        tx, ctx, first.vote["id"], token=first.token, organiser=None, once=as_is()
    )
    after_withdrawal = await counted(tx, proposal_id)
    with pytest.raises(Conflict):
        await votes.withdraw_vote(
            tx, ctx, first.vote["id"], token=first.token, organiser=None, once=as_is()
        )
    again = await cast(tx, ctx, proposal_id, voter)

    assert withdrawn["status"] == "withdrawn"
    assert after_withdrawal == 0
    assert again.vote["status"] == "counted"
    assert await counted(tx, proposal_id) == 1
    gone = (await events(pool, "ProposalVoteWithdrawn"))[0]
    assert gone["payload"]["status"] == "withdrawn" and gone["aggregate_version"] == 3


async def test_only_a_published_proposal_takes_votes(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="moderated")
    author = await given.member(network_id)
    command = ProposalIn(member=author, title="Et emne", body="Om noget")
    proposal = await proposals.submit_proposal(tx, ctx, network_id, command, once=as_is())
    await confirm(tx, ctx, pool, author.email)

    with pytest.raises(Conflict) as refused:
        await cast(tx, ctx, proposal["id"], author)

    assert refused.value.slug == "proposal-not-published"


async def test_two_hundred_concurrent_votes_from_a_hundred_people_count_a_hundred(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, proposal_id = await published_proposal(given, tx, ctx, pool)
    people = [await given.member(network_id) for _ in range(PEOPLE)]
    # Half the crowd confirmed its address before (it proposed once); the other half confirms
    # after voting, so both ways to be counted are under the same crowd.
    for person in people[: PEOPLE // 2]:
        await published_for(tx, ctx, network_id, person)
        await confirm(tx, ctx, pool, person.email)

    results = await asyncio.gather(
        *(cast(tx, ctx, proposal_id, person) for person in people + people),
        return_exceptions=True,
    )
    for person in people[PEOPLE // 2 :]:
        await confirm(tx, ctx, pool, person.email)

    cast_ok = [r for r in results if isinstance(r, votes.Voted)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(cast_ok) == PEOPLE and len(refused) == PEOPLE, [
        r for r in results if not isinstance(r, votes.Voted | Conflict)
    ][:3]
    assert await counted(tx, proposal_id) == PEOPLE
    assert await pool.fetchval("SELECT count(*) FROM proposal_votes") == PEOPLE
    # One request to confirm per person, however many things they said.
    assert await pool.fetchval("SELECT count(*) FROM address_confirmations") == PEOPLE + 1
    listed = await proposals.list_proposals(
        tx, network_id, caller=None, sort="votes", status=None, limit=1, cursor=None
    )
    assert (listed.rows[0]["id"], listed.rows[0]["votes"]) == (proposal_id, PEOPLE)


async def published_for(
    tx: Transactions, ctx: ServiceContext, network_id: uuid.UUID, person: MemberIn
) -> None:
    command = ProposalIn(member=person, title=f"Forslag {uuid.uuid4().hex[:6]}", body="Noget")
    await proposals.submit_proposal(tx, ctx, network_id, command, once=as_is())


async def test_the_ranking_orders_by_counted_votes_and_pages(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id, first = await published_proposal(given, tx, ctx, pool)
    author = await given.member(network_id)
    for _ in range(2):
        await published_for(tx, ctx, network_id, author)
    await confirm(tx, ctx, pool, author.email)
    listed = await proposals.list_proposals(
        tx, network_id, caller=PLATFORM, sort="recent", status=None, limit=10, cursor=None
    )
    ids = [row["id"] for row in listed.rows]
    voters = [await given.member(network_id) for _ in range(3)]
    for voter in voters:
        await published_for(tx, ctx, network_id, voter)
        await confirm(tx, ctx, pool, voter.email)
    for voter in voters[:2]:
        await cast(tx, ctx, ids[1], voter)
    await cast(tx, ctx, ids[2], voters[2])

    seen: list[tuple[uuid.UUID, int]] = []
    cursor = None
    while True:
        page = await proposals.list_proposals(
            tx, network_id, caller=None, sort="votes", status=None, limit=2, cursor=cursor
        )
        seen += [(row["id"], row["votes"]) for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen[:2] == [(ids[1], 2), (ids[2], 1)]
    assert len(seen) == len({proposal for proposal, _ in seen}) == 3 + 3
    assert [votes for _, votes in seen] == sorted((votes for _, votes in seen), reverse=True)
    assert first in {proposal for proposal, _ in seen}
