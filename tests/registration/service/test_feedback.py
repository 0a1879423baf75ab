"""Feedback is given once per registration, even by two requests at the same moment, and its
event names nobody."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from registration.service import feedback, members, registrations
from registration.service.commands import AnswerIn, FeedbackIn
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.problems import Conflict

# Meetings built by `meeting_body` start 14 days ahead and last 5 hours.
AFTER = datetime.now(UTC) + timedelta(days=15)


async def test_two_submissions_at_once_keep_one_feedback_and_one_event(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(
        network_id,
        open_to_public=True,
        feedback=[{"text": "Samlet vurdering", "kind": "scale", "min": 1, "max": 5}],
    )
    person = await given.member(network_id)
    registered = await given.register(meeting_id, person)
    registration_id = registered.registration["id"]
    await registrations.check_in(tx, ctx, registration_id, organiser=PLATFORM, once=as_is())
    stored = await pool.fetchval("SELECT feedback FROM meetings WHERE id = $1", meeting_id)
    question_id = uuid.UUID(stored[0]["question_id"])
    later = replace(ctx, clock=PinnedClock(AFTER))
    command = FeedbackIn(
        registration_id=registration_id,
        token=feedback.feedback_token(ctx, registration_id),
        answers=[AnswerIn(question_id=question_id, value=5)],
    )

    outcomes = await asyncio.gather(
        feedback.submit_feedback(tx, later, meeting_id, command, once=as_is()),
        feedback.submit_feedback(tx, later, meeting_id, command, once=as_is()),
        return_exceptions=True,
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "Record"]
    assert await pool.fetchval("SELECT count(*) FROM meeting_feedback") == 1
    rows = await pool.fetch(
        "SELECT envelope::text AS text FROM outbox "
        "WHERE envelope ->> 'event_type' = 'FeedbackSubmitted'"
    )
    (event,) = [json.loads(row["text"]) for row in rows]
    assert event["payload"]["answers"] == [{"question_id": str(question_id), "value": 5}]
    assert str(person.email) not in rows[0]["text"]
    assert str(registered.registration["member_id"]) not in rows[0]["text"]
    with pytest.raises(Conflict):
        await feedback.submit_feedback(tx, later, meeting_id, command, once=as_is())


async def test_the_persons_export_holds_their_feedback_with_what_they_wrote(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(
        network_id,
        open_to_public=True,
        feedback=[
            {"text": "Nyttigt?", "kind": "choice", "options": ["Ja", "Nej"]},
            {"text": "Hvad kan vi gøre bedre?", "kind": "text"},
        ],
    )
    registered = await given.register(meeting_id, await given.member(network_id))
    registration_id = registered.registration["id"]
    await registrations.check_in(tx, ctx, registration_id, organiser=PLATFORM, once=as_is())
    useful, better = await pool.fetchval("SELECT feedback FROM meetings WHERE id = $1", meeting_id)
    await feedback.submit_feedback(
        tx,
        replace(ctx, clock=PinnedClock(AFTER)),
        meeting_id,
        FeedbackIn(
            registration_id=registration_id,
            token=feedback.feedback_token(ctx, registration_id),
            answers=[
                AnswerIn(question_id=uuid.UUID(useful["question_id"]), value="Ja"),
                AnswerIn(question_id=uuid.UUID(better["question_id"]), value="Kortere pauser"),
            ],
        ),
        once=as_is(),
    )
    member_id = registered.registration["member_id"]

    exported = await tx.read(lambda conn: members.answers_of_member(conn, ctx.vault, member_id))

    (given_feedback,) = exported["feedback"]
    assert {a["value"] for a in given_feedback["answers"]} == {"Ja", "Kortere pauser"}
    stored = await pool.fetchval("SELECT text_sealed::text FROM meeting_feedback")
    assert "Kortere pauser" not in stored  # kept sealed
