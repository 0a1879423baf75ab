"""Member dialogue's projection against real Postgres: whatever Kafka redelivers and in whatever
order, the counts are those of each response's, proposal's and vote's final state."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from reporting import dialogue_reports, projection
from tests.reporting.dialogue_story import BODY, FREE_TEXT, REASON, DialogueStory
from tests.reporting.story import DAY
from tilmeld_shared.events import (
    AddressConfirmationRequested,
    AddressConfirmed,
    Answer,
    ConsultationInvitation,
    MemberErased,
    PersonalData,
    ProposalState,
    ProposalVoted,
    ResponseSubmitted,
)

KOEGE, ROSKILDE = uuid.uuid4(), uuid.uuid4()
# The histories a vote can have in the registration service.
VOTE_HISTORIES = (
    ("pending",),
    ("counted",),
    ("pending", "counted"),
    ("counted", "withdrawn"),
    ("pending", "counted", "withdrawn"),
    ("pending", "withdrawn"),
)


async def _apply(pool: asyncpg.Pool, events: list[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, events)


def _final_states(story: DialogueStory) -> dict[uuid.UUID, Any]:
    """Each aggregate's payload at its highest version: what the registration service holds."""
    final: dict[uuid.UUID, tuple[int, Any]] = {}
    for envelope, payload in story.events:
        known = final.get(envelope.aggregate_id)
        if known is None or envelope.aggregate_version > known[0]:
            final[envelope.aggregate_id] = (envelope.aggregate_version, payload)
    return {aggregate: payload for aggregate, (_, payload) in final.items()}


def _random_dialogue(rng: random.Random) -> tuple[DialogueStory, uuid.UUID]:
    story = DialogueStory()
    story.created("Kultur for framtida")
    story.party("Køge", KOEGE, "joined")
    story.party("Roskilde", ROSKILDE, "joined")
    consultation = story.consultation(audience_size=40, closed=True)
    places = [(KOEGE, "Køge"), (ROSKILDE, "Roskilde"), (None, "Kulturforvaltningen"), (None, None)]
    for _ in range(30):
        municipality_id, name = rng.choice(places)
        counted_from = rng.randrange(4)  # pending until then, counted after (3: never)
        history = [
            (
                "counted" if step >= counted_from else "pending",
                rng.choice([*story.choice.options, None]),
                rng.choice([1, 2, 3, 4, 5, None]),
            )
            for step in range(rng.randint(1, 3))
        ]
        story.response(consultation, *history, municipality=name, municipality_id=municipality_id)
    proposals = [
        story.proposal(f"Emne {n}", *statuses, submitted_at=DAY + timedelta(hours=n))
        for n, statuses in enumerate(
            [
                ("submitted", "published"),
                ("submitted", "published", "scheduled"),
                ("submitted", "published"),
                ("submitted", "rejected"),
                ("submitted",),
                ("submitted", "published"),
            ]
        )
    ]
    for _ in range(80):
        story.vote(
            rng.choice(proposals),
            *rng.choice(VOTE_HISTORIES),
            municipality_id=rng.choice([KOEGE, ROSKILDE, None]),
        )
    return story, consultation


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_counts_after_a_shuffled_redelivered_stream_equal_those_of_the_final_states(
    pool: asyncpg.Pool, seed: int
) -> None:
    rng = random.Random(seed)
    story, consultation = _random_dialogue(rng)
    stream = list(story.events)
    stream += rng.sample(stream, len(stream) // 3)  # redelivered: the same events again
    rng.shuffle(stream)
    last_seen = {envelope.aggregate_id: envelope.aggregate_version for envelope, _ in stream}
    newest = {envelope.aggregate_id: envelope.aggregate_version for envelope, _ in story.events}
    # The stream must be able to fail a projection where the last event read wins.
    assert sum(last_seen[a] < newest[a] for a in newest) > 10

    while stream:  # in batches of any size, as the consumer's fetches make them
        size = rng.randint(1, 25)
        batch, stream = stream[:size], stream[size:]
        await _apply(pool, batch)

    final = _final_states(story)
    responses = [p for p in final.values() if isinstance(p, ResponseSubmitted)]
    counted = [p for p in responses if p.status == "counted"]
    votes = [p for p in final.values() if isinstance(p, ProposalVoted)]
    async with pool.acquire() as conn:
        report = await dialogue_reports.consultation_report(conn, consultation)
        ranking = await dialogue_reports.proposal_ranking(conn, story.network)

    assert report["responses"] == len(counted)
    assert report["responses_pending"] == len(responses) - len(counted)
    assert report["response_rate"] == round(len(counted) / 40, 4)
    assert report["status"] == "closed"
    by_place = Counter(
        (p.municipality_id, p.municipality if not p.municipality_id else None) for p in counted
    )
    assert {
        (m["municipality_id"], None if m["municipality_id"] else m["municipality"]): m["responses"]
        for m in report["municipalities"]
    } == {(mid, name): n for (mid, name), n in by_place.items()}
    answers = {q["question_id"]: q for q in report["questions"]}
    for question in (story.choice, story.scale):
        truth = Counter(
            a.value for p in counted for a in p.answers if a.question_id == question.question_id
        )
        shown = answers[str(question.question_id)]
        assert {a["value"]: a["count"] for a in shown["answers"] if a["count"]} == dict(truth)
        assert shown["answered"] == sum(truth.values())
    tally = Counter(v.proposal_id for v in votes if v.status == "counted")
    public = sorted(
        (
            p
            for p in final.values()
            if isinstance(p, ProposalState) and p.status in ("published", "scheduled")
        ),
        key=lambda p: (-tally[p.proposal_id], p.submitted_at),
    )
    assert [(i["proposal_id"], i["votes"]) for i in ranking["items"]] == [
        (p.proposal_id, tally[p.proposal_id]) for p in public
    ]
    assert ranking["votes"] == sum(tally[p.proposal_id] for p in public)
    assert [i["rank"] for i in ranking["items"]] == list(range(1, len(public) + 1))


async def test_a_vote_read_before_its_proposal_is_counted_once_the_proposal_arrives(
    pool: asyncpg.Pool,
) -> None:
    story = DialogueStory()
    story.created()
    await _apply(pool, story.events)
    proposal = uuid.uuid4()
    story.events.clear()
    story.vote(proposal, "pending", "counted")
    votes = list(story.events)
    story.events.clear()
    story.proposal("Varmeplaner", "submitted", "published", proposal_id=proposal)
    await _apply(pool, votes[1:])  # counted, before anything else
    await _apply(pool, votes[:1])  # the older pending state, late

    async with pool.acquire() as conn:
        before = await dialogue_reports.proposal_ranking(conn, story.network)
        await _apply(pool, story.events)
        after = await dialogue_reports.proposal_ranking(conn, story.network)

    assert before["items"] == []  # no proposal known yet: nothing to rank
    assert [(i["title"], i["votes"]) for i in after["items"]] == [("Varmeplaner", 1)]


async def test_only_counted_votes_and_responses_count(pool: asyncpg.Pool) -> None:
    story = DialogueStory()
    story.created()
    consultation = story.consultation(audience_size=4)
    story.response(consultation, ("pending", "Musik", 5))
    story.response(consultation, ("pending", "Musik", 4), ("counted", "Bibliotek", 2))
    proposal = story.proposal("Varmeplaner", "submitted", "published")
    story.vote(proposal, "pending")
    story.vote(proposal, "counted", "withdrawn")
    story.vote(proposal, "pending", "counted")
    await _apply(pool, story.events)

    async with pool.acquire() as conn:
        report = await dialogue_reports.consultation_report(conn, consultation)
        ranking = await dialogue_reports.proposal_ranking(conn, story.network)

    assert (report["responses"], report["responses_pending"], report["response_rate"]) == (
        1,
        1,
        0.25,
    )
    choice, scale = report["questions"]
    assert {a["value"]: a["count"] for a in choice["answers"]} == {
        "Bibliotek": 1,  # the amended answer, not the first one
        "Musik": 0,
        "Kulturarv": 0,
    }
    assert [a["value"] for a in scale["answers"]] == [1, 2, 3, 4, 5]
    assert (scale["answered"], scale["mean"]) == (1, 2.0)
    assert [(i["votes"], i["votes_pending"]) for i in ranking["items"]] == [(1, 1)]


async def test_an_erasure_leaves_the_counts_as_they_were(pool: asyncpg.Pool) -> None:
    story = DialogueStory()
    story.created()
    consultation = story.consultation()
    story.response(consultation, ("counted", "Musik", 3), municipality_id=KOEGE)
    proposal = story.proposal("Varmeplaner", "submitted", "published")
    voter = uuid.uuid4()
    story.vote(proposal, "counted", member_id=voter, municipality_id=KOEGE)
    story.vote(proposal, "counted")
    await _apply(pool, story.events)
    async with pool.acquire() as conn:
        before = await dialogue_reports.consultation_report(conn, consultation)
        ranking_before = await dialogue_reports.proposal_ranking(conn, story.network)

    (_, response), *_ = [e for e in story.events if isinstance(e[1], ResponseSubmitted)]
    story.events.clear()
    for member in (voter, response.member_id):
        story.add(member, MemberErased(member_id=member, erased_at=DAY))
    await _apply(pool, story.events)
    async with pool.acquire() as conn:
        after = await dialogue_reports.consultation_report(conn, consultation)
        ranking_after = await dialogue_reports.proposal_ranking(conn, story.network)

    assert {**after, "as_of": None} == {**before, "as_of": None}
    assert ranking_after["items"] == ranking_before["items"]
    assert ranking_after["items"][0]["votes"] == 2


async def test_reporting_keeps_no_person_body_reason_or_free_text_answer(
    pool: asyncpg.Pool,
) -> None:
    story = DialogueStory()
    story.created()
    consultation = story.consultation()
    story.response(consultation, ("counted", "Musik", 3))
    rejected = story.proposal("Om Karen Hansens nabo", "submitted", "rejected")
    published = story.proposal("Varmeplaner", "submitted", "published")
    story.vote(published, "counted")
    member = uuid.uuid4()
    personal = PersonalData(
        name="Karen Hansen",
        email="karen@ishoj.example",
        action_url="https://tilmeld.example/confirm/secret",
    )
    story.add(
        uuid.uuid4(),
        ConsultationInvitation(
            consultation_id=consultation,
            network_id=story.network,
            member_id=member,
            language="da",
            title="Medlemsdialog",
            closes_at=DAY,
            personal=personal,
        ),
    )
    story.add(
        uuid.uuid4(),
        AddressConfirmationRequested(
            confirmation_id=uuid.uuid4(),
            network_id=story.network,
            member_id=member,
            language="da",
            subject="vote",
            requested_at=DAY,
            personal=personal,
        ),
    )
    story.add(
        uuid.uuid4(),
        AddressConfirmed(member_id=member, network_id=story.network, confirmed_at=DAY),
    )
    await _apply(pool, story.events)

    members = {str(p.member_id) for _, p in story.events if hasattr(p, "member_id")}
    kept = []
    for table in ("consultations", "responses", "proposals", "votes"):
        kept += [json.dumps(dict(row), default=str) for row in await pool.fetch(f"TABLE {table}")]
    text = "\n".join(kept)

    for secret in (FREE_TEXT, BODY, REASON, "Karen", "ishoj.example", "secret", *members):
        assert secret not in text
    titles = {row["id"]: row["title"] for row in await pool.fetch("TABLE proposals")}
    assert titles == {published: "Varmeplaner", rejected: None}  # a rejected one was never public


@pytest.mark.parametrize("response_first", [True, False])
async def test_a_free_text_answer_sent_in_clear_by_mistake_is_not_kept(
    pool: asyncpg.Pool, response_first: bool
) -> None:
    story = DialogueStory()
    story.created()
    consultation = story.consultation()
    opened = list(story.events)
    story.events.clear()
    response = story.response(consultation, ("counted", "Musik", 2))
    (envelope, payload) = story.events[-1]
    leaked = payload.model_copy(
        update={
            "answers": [
                *payload.answers,
                Answer(question_id=story.text.question_id, value=FREE_TEXT),
            ]
        }
    )
    story.events[-1] = (envelope, leaked)
    for batch in (story.events, opened) if response_first else (opened, story.events):
        await _apply(pool, batch)

    kept = await pool.fetchval("SELECT answers FROM responses WHERE id = $1", response)
    async with pool.acquire() as conn:
        report = await dialogue_reports.consultation_report(conn, consultation)

    assert kept == {str(story.choice.question_id): "Musik", str(story.scale.question_id): 2}
    assert FREE_TEXT not in json.dumps(report, default=str)
