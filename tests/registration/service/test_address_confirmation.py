"""One person, one voice: what an unconfirmed address says waits; the emailed link shows on
GET and confirms on POST, counting everything that waited, once; the confirmation is kept for
good, and enrolling alone confirms nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from registration.service import (
    address_confirmations,
    consultation_responses,
    consultations,
    proposals,
    votes,
)
from registration.service.dialogue_commands import ConsultationIn, ProposalIn, ResponseIn, VoteIn
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.dialogue_builders import (
    answers_to,
    confirm,
    confirmation_of,
    consultation_body,
    events,
)
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.events import SealedPersonalData
from tilmeld_shared.problems import Forbidden, NotFound


async def test_a_member_who_only_enrolled_is_asked_to_confirm(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)

    proposal = await proposals.submit_proposal(
        tx, ctx, network_id, ProposalIn(member=person, title="Emne", body="Tekst"), once=as_is()
    )

    assert proposal["counted"] is False
    (request,) = await events(pool, "AddressConfirmationRequested")
    payload = request["payload"]
    assert payload["subject"] == "proposal" and payload.get("personal") is None
    assert request["key"] == str(network_id)
    member_id = uuid.UUID(payload["member_id"])
    key = await pool.fetchval("SELECT data_key FROM members WHERE id = $1", member_id)
    personal = ctx.vault.open(SealedPersonalData.model_validate(payload["personal_sealed"]), key)
    assert personal is not None and personal.email == person.email
    confirmation_id = payload["confirmation_id"]
    assert personal.action_url is not None
    assert personal.action_url.startswith(
        f"{ctx.settings.public_base_url}/confirm/{confirmation_id}?token="
    )


async def test_showing_the_link_changes_nothing_and_a_wrong_token_is_refused(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)
    await proposals.submit_proposal(
        tx, ctx, network_id, ProposalIn(member=person, title="Emne", body="Tekst"), once=as_is()
    )
    row = await confirmation_of(pool, person.email)
    assert row is not None
    token = address_confirmations.confirm_token(ctx, row["id"])
    written = len(await events(pool))

    shown = await address_confirmations.show_confirmation(tx, ctx, row["id"], token)
    shown_again = await address_confirmations.show_confirmation(tx, ctx, row["id"], token)
    with pytest.raises(Forbidden):
        await address_confirmations.show_confirmation(tx, ctx, row["id"], "0.forged")
    with pytest.raises(Forbidden):
        await address_confirmations.confirm_address(tx, ctx, row["id"], "0.forged", once=as_is())
    with pytest.raises(NotFound):
        await address_confirmations.show_confirmation(tx, ctx, uuid.uuid4(), token)

    assert shown.confirmation["status"] == shown_again.confirmation["status"] == "requested"
    assert (shown.responses, shown.proposals, shown.votes) == (0, 1, 0)
    assert len(await events(pool)) == written
    assert await pool.fetchval("SELECT counted FROM proposals") is False


async def test_confirming_counts_the_response_proposal_and_vote_of_every_network_once(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    first_network = await given.network(proposals="moderated")
    second_network = await given.network(proposals="open")
    person = await given.member(first_network)
    await given.enrol(second_network, person)
    consultation = await consultations.create_consultation(
        tx,
        ctx,
        first_network,
        ConsultationIn.model_validate(consultation_body()),
        organiser=PLATFORM,
        once=as_is(),
    )
    response = await consultation_responses.submit_response(
        tx,
        ctx,
        consultation["id"],
        ResponseIn(member=person, answers=answers_to(consultation["questions"])),
        once=as_is(),
    )
    own = await proposals.submit_proposal(
        tx, ctx, second_network, ProposalIn(member=person, title="Mit", body="Emne"), once=as_is()
    )
    other_author = await given.member(second_network)
    other = await proposals.submit_proposal(
        tx,
        ctx,
        second_network,
        ProposalIn(member=other_author, title="Andet", body="Emne"),
        once=as_is(),
    )
    await confirm(tx, ctx, pool, other_author.email)
    vote = await votes.vote(tx, ctx, other["id"], VoteIn(member=person), once=as_is())
    assert len(await events(pool, "AddressConfirmationRequested")) == 2  # one each
    confirmed_before = len(await events(pool, "AddressConfirmed"))

    view = await confirm(tx, ctx, pool, person.email)
    again = await confirm(tx, ctx, pool, person.email)

    assert (view.responses, view.proposals, view.votes) == (1, 1, 1)
    assert view.confirmation["status"] == "confirmed"
    assert (again.responses, again.proposals, again.votes) == (0, 0, 0)
    assert len(await events(pool, "AddressConfirmed")) == confirmed_before + 1
    assert (
        await pool.fetchval(
            "SELECT status FROM consultation_responses WHERE id = $1", response.response["id"]
        )
        == "counted"
    )
    own_now = await proposals.get_proposal(tx, own["id"])
    assert own_now is not None and (own_now["status"], own_now["counted"]) == ("published", True)
    assert (
        await pool.fetchval("SELECT status FROM proposal_votes WHERE id = $1", vote.vote["id"])
        == "counted"
    )


async def test_one_request_stands_per_person_and_a_day_later_they_are_asked_again(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)

    async def propose(at: ServiceContext) -> None:
        command = ProposalIn(member=person, title=f"E{uuid.uuid4().hex[:4]}", body="T")
        await proposals.submit_proposal(tx, at, network_id, command, once=as_is())

    await propose(ctx)
    await propose(ctx)
    soon = len(await events(pool, "AddressConfirmationRequested"))
    await propose(replace(ctx, clock=PinnedClock(datetime.now(UTC) + timedelta(hours=25))))
    later = await events(pool, "AddressConfirmationRequested")

    assert soon == 1
    assert len(later) == 2
    assert later[0]["aggregate_id"] == later[1]["aggregate_id"]
    assert [e["aggregate_version"] for e in later] == [1, 2]
    assert await pool.fetchval("SELECT count(*) FROM address_confirmations") == 1
