"""A person's part in the member dialogue is in their data export, and their erasure removes
their answers' free text, their authorship of proposals and their votes' tie to them, while
every count stays what it was."""

from __future__ import annotations

import uuid

import asyncpg

from registration.service import (
    address_confirmations,
    consultation_responses,
    consultations,
    erasure,
    proposal_moderation,
    proposals,
    votes,
)
from registration.service.dialogue_commands import ConsultationIn, ProposalIn, ResponseIn, VoteIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.dialogue_builders import answers_to, confirm, consultation_body, events
from tests.registration.service.conftest import PLATFORM, Given

WORDS = "Bibliotekene i Nordland trenger flere hender"


async def test_the_export_has_the_persons_responses_proposals_and_votes(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person = await given.member(network_id)
    consultation = await consultations.create_consultation(
        tx,
        ctx,
        network_id,
        ConsultationIn.model_validate(consultation_body()),
        organiser=PLATFORM,
        once=as_is(),
    )
    await consultation_responses.submit_response(
        tx,
        ctx,
        consultation["id"],
        ResponseIn(member=person, answers=answers_to(consultation["questions"], text=WORDS)),
        once=as_is(),
    )
    proposal = await proposals.submit_proposal(
        tx, ctx, network_id, ProposalIn(member=person, title="Emne", body="Tekst"), once=as_is()
    )
    await confirm(tx, ctx, pool, person.email)
    await votes.vote(tx, ctx, proposal["id"], VoteIn(member=person), once=as_is())
    member_id = await pool.fetchval("SELECT id FROM members WHERE email = $1", person.email)

    own = await tx.read(
        lambda conn: address_confirmations.dialogue_of_member_within(conn, ctx, member_id)
    )

    (response,) = own["responses"]
    assert WORDS in response["answers"].values()
    assert [p["title"] for p in own["proposals"]] == ["Emne"]
    assert [v["status"] for v in own["votes"]] == ["counted"]
    assert own["address_confirmation"]["status"] == "confirmed"


async def test_erasure_removes_the_persons_voice_and_keeps_the_counts(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network(proposals="open")
    person, other = await given.member(network_id), await given.member(network_id)
    consultation = await consultations.create_consultation(
        tx,
        ctx,
        network_id,
        ConsultationIn.model_validate(consultation_body()),
        organiser=PLATFORM,
        once=as_is(),
    )
    submitted = await consultation_responses.submit_response(
        tx,
        ctx,
        consultation["id"],
        ResponseIn(member=person, answers=answers_to(consultation["questions"], text=WORDS)),
        once=as_is(),
    )
    proposal = await proposals.submit_proposal(
        tx, ctx, network_id, ProposalIn(member=person, title="Emne", body="Tekst"), once=as_is()
    )
    await confirm(tx, ctx, pool, person.email)
    await proposals.submit_proposal(
        tx, ctx, network_id, ProposalIn(member=other, title="Andet", body="Tekst"), once=as_is()
    )
    await confirm(tx, ctx, pool, other.email)
    for voter in (person, other):
        await votes.vote(tx, ctx, proposal["id"], VoteIn(member=voter), once=as_is())
    member_id = uuid.UUID(
        str(await pool.fetchval("SELECT id FROM members WHERE email = $1", person.email))
    )
    results_before = await consultations.consultation_results(
        tx, ctx, consultation["id"], organiser=PLATFORM
    )

    await erasure.forget_member(tx, ctx, member_id)

    response = await pool.fetchrow(
        "SELECT * FROM consultation_responses WHERE id = $1", submitted.response["id"]
    )
    assert response["member_id"] is None and response["text_sealed"] is None
    assert response["status"] == "counted"
    results_after = await consultations.consultation_results(
        tx, ctx, consultation["id"], organiser=PLATFORM
    )
    assert results_after["questions"] == results_before["questions"]
    assert results_after["responses"] == results_before["responses"] == 1
    after = await proposals.get_proposal(tx, proposal["id"])
    assert after is not None
    assert (after["member_id"], after["votes"], after["status"]) == (None, 2, "published")
    assert (
        await pool.fetchval("SELECT count(*) FROM proposal_votes WHERE member_id = $1", member_id)
        == 0
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM address_confirmations WHERE member_id = $1", member_id
        )
        == 0
    )
    export = await consultations.export_responses(tx, ctx, consultation["id"], organiser=PLATFORM)
    assert export.responses[0]["name"] is None
    assert WORDS not in export.responses[0]["answers"].values()
    # What the events carried of the person is gone from the outbox too.
    mine = await pool.fetch(
        "SELECT envelope FROM outbox WHERE envelope -> 'payload' ->> 'member_id' = $1",
        str(member_id),
    )
    assert mine and all("personal_sealed" not in row["envelope"]["payload"] for row in mine)

    meeting_id = await given.meeting(network_id)
    await proposal_moderation.schedule_proposal(
        tx, ctx, proposal["id"], meeting_id, organiser=PLATFORM, once=as_is()
    )
    scheduled = (await events(pool, "ProposalScheduled"))[-1]["payload"]
    assert scheduled["member_id"] == str(uuid.UUID(int=0))
    assert scheduled["personal_sealed"] is None and scheduled["votes"] == 2
