"""Topic proposals: by the network's members, as its `proposals` setting allows, reviewed by an
organiser in a moderated network, published once counted in an open one, and put on a
meeting's agenda."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from registration.service import proposal_moderation, proposals
from registration.service.commands import MemberIn
from registration.service.dialogue_commands import ProposalIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import member
from tests.registration.dialogue_builders import confirm, events
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.problems import Conflict, Forbidden, NotFound


async def propose(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    person: MemberIn,
    title: str = "Kulturarv og klima",
) -> asyncpg.Record:
    command = ProposalIn(member=person, title=title, body="Hvordan passer vi på kulturarven?")
    return await proposals.submit_proposal(tx, ctx, network_id, command, once=as_is())


async def confirmed_member(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool, network_id: uuid.UUID
) -> MemberIn:
    """A member whose address is confirmed (they proposed once and followed the link)."""
    person = await given.member(network_id)
    await propose(tx, ctx, network_id, person, title="Første forslag")
    await confirm(tx, ctx, pool, person.email)
    return person


async def test_a_network_without_proposals_takes_none(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()  # proposals: off by default
    person = await given.member(network_id)

    with pytest.raises(Conflict) as refused:
        await propose(tx, ctx, network_id, person)

    assert refused.value.slug == "proposals-off"
    assert await pool.fetchval("SELECT count(*) FROM proposals") == 0


async def test_only_the_networks_members_propose(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network(proposals="open")

    with pytest.raises(Forbidden):
        await propose(tx, ctx, network_id, MemberIn.model_validate(member()))


async def test_an_unconfirmed_proposal_is_submitted_uncounted_and_asks_for_confirmation_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)

    first = await propose(tx, ctx, network_id, person)
    await propose(tx, ctx, network_id, person, title="Endnu et forslag")

    assert (first["status"], first["counted"]) == ("submitted", False)
    requests = await events(pool, "AddressConfirmationRequested")
    assert len(requests) == 1
    assert requests[0]["payload"]["subject"] == "proposal"
    listed = await proposals.list_proposals(
        tx, network_id, caller=None, sort="votes", status=None, limit=10, cursor=None
    )
    assert listed.rows == []


async def test_in_an_open_network_a_counted_proposal_is_published(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)
    waiting = await propose(tx, ctx, network_id, person)

    view = await confirm(tx, ctx, pool, person.email)
    at_once = await propose(tx, ctx, network_id, person, title="Nyt emne")

    assert view.proposals == 1
    assert at_once["status"] == "published"
    trail = [e["event_type"] for e in await events(pool, aggregate_id=waiting["id"])]
    assert trail == ["ProposalSubmitted", "ProposalSubmitted", "ProposalPublished"]
    versions = [e["aggregate_version"] for e in await events(pool, aggregate_id=waiting["id"])]
    assert versions == [1, 2, 3]
    published = (await events(pool, "ProposalPublished", aggregate_id=waiting["id"]))[0]
    assert published["payload"]["counted"] is True
    assert published["key"] == str(network_id)


async def test_in_a_moderated_network_an_organiser_publishes_or_rejects(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="moderated")
    person = await confirmed_member(given, tx, ctx, pool, network_id)
    one = await propose(tx, ctx, network_id, person, title="Et")
    other = await propose(tx, ctx, network_id, person, title="To")

    published = await proposal_moderation.publish_proposal(
        tx, ctx, one["id"], organiser=PLATFORM, once=as_is()
    )
    rejected = await proposal_moderation.reject_proposal(
        tx, ctx, other["id"], reason="Uden for netværkets formål", organiser=PLATFORM, once=as_is()
    )
    with pytest.raises(Conflict):
        await proposal_moderation.publish_proposal(
            tx, ctx, other["id"], organiser=PLATFORM, once=as_is()
        )

    assert one["status"] == "submitted" and one["counted"] is True
    assert published["status"] == "published"
    assert (rejected["status"], rejected["reason"]) == ("rejected", "Uden for netværkets formål")
    listed = await proposals.list_proposals(
        tx, network_id, caller=None, sort="votes", status=None, limit=10, cursor=None
    )
    assert [row["title"] for row in listed.rows] == ["Et"]
    review = await proposals.list_proposals(
        tx, network_id, caller=PLATFORM, sort="recent", status="submitted", limit=10, cursor=None
    )
    assert [row["title"] for row in review.rows] == ["Første forslag"]


async def test_an_unconfirmed_proposal_cannot_be_published(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network(proposals="moderated")
    proposal = await propose(tx, ctx, network_id, await given.member(network_id))

    with pytest.raises(Conflict) as refused:
        await proposal_moderation.publish_proposal(
            tx, ctx, proposal["id"], organiser=PLATFORM, once=as_is()
        )

    assert refused.value.slug == "awaiting-confirmation"


async def test_scheduling_puts_the_proposal_on_the_agenda_in_one_transaction(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await confirmed_member(given, tx, ctx, pool, network_id)
    proposal = await propose(tx, ctx, network_id, person, title="Grøn scenekunst")
    meeting_id = await given.meeting(network_id)
    version_before = await pool.fetchval("SELECT version FROM meetings WHERE id = $1", meeting_id)

    scheduled = await proposal_moderation.schedule_proposal(
        tx, ctx, proposal["id"], meeting_id, organiser=PLATFORM, once=as_is()
    )

    assert (scheduled["status"], scheduled["meeting_id"]) == ("scheduled", meeting_id)
    agenda = await pool.fetchval("SELECT agenda FROM meetings WHERE id = $1", meeting_id)
    assert agenda[-1]["title"] == "Grøn scenekunst"
    assert agenda[-1]["proposal_id"] == str(proposal["id"])
    updated = (await events(pool, "MeetingUpdated", aggregate_id=meeting_id))[-1]
    assert updated["payload"]["changed"] == ["agenda"]
    assert updated["aggregate_version"] == version_before + 1
    assert updated["key"] == str(meeting_id)
    assert (await events(pool, "ProposalScheduled"))[0]["payload"]["meeting_id"] == str(meeting_id)


async def test_a_meeting_of_another_network_is_not_the_proposals_to_schedule(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await confirmed_member(given, tx, ctx, pool, network_id)
    proposal = await propose(tx, ctx, network_id, person)
    elsewhere = await given.meeting(await given.network())
    co_hosted = await given.meeting(await given.network(), co_hosts=[str(network_id)])

    with pytest.raises(NotFound):
        await proposal_moderation.schedule_proposal(
            tx, ctx, proposal["id"], elsewhere, organiser=PLATFORM, once=as_is()
        )
    scheduled = await proposal_moderation.schedule_proposal(
        tx, ctx, proposal["id"], co_hosted, organiser=PLATFORM, once=as_is()
    )

    assert scheduled["meeting_id"] == co_hosted
    assert await pool.fetchval("SELECT agenda FROM meetings WHERE id = $1", elsewhere) == []


async def test_another_organisation_cannot_decide_on_the_proposal(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="moderated")
    person = await confirmed_member(given, tx, ctx, pool, network_id)
    proposal = await propose(tx, ctx, network_id, person)
    stranger = Principal(Role.ORGANISER, organisation_id=uuid.uuid4())

    with pytest.raises(NotFound):
        await proposal_moderation.publish_proposal(
            tx, ctx, proposal["id"], organiser=stranger, once=as_is()
        )
