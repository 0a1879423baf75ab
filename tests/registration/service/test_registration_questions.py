"""A meeting's questions (dietary needs, accessibility) are answered at registration: answers
that do not fit are refused naming the field, nothing kept; those that fit are kept sealed with
the member's key, in no event, shown to the organisers and in the person's export, and gone
with the person."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from registration.service import erasure, members, registrations, rosters
from registration.service.commands import AnswerIn, MemberIn, RegistrationIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import PERSONAL_DATA, member
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.problems import Invalid

DIET = "Glutenfri, og ingen nødder, tak"
PERSONAL_DATA.add(DIET)


def questions() -> list[dict[str, Any]]:
    return [
        {
            "text": "Kost",
            "kind": "choice",
            "options": ["Alt", "Vegetar", "Vegansk"],
            "required": True,
        },
        {"text": "Allergier eller andre behov", "kind": "text"},
        {"text": "Hvor godt kan du gå på trapper?", "kind": "scale", "min": 1, "max": 5},
    ]


async def asked(given: Given) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, open_to_public=True, questions=questions())
    row = await given.tx.read(
        lambda conn: conn.fetchrow("SELECT questions FROM meetings WHERE id = $1", meeting_id)
    )
    return meeting_id, list(row["questions"])


def answered(person: MemberIn, *answers: tuple[str, Any]) -> RegistrationIn:
    return RegistrationIn(
        member=person,
        answers=[AnswerIn(question_id=uuid.UUID(qid), value=value) for qid, value in answers],
    )


async def register(given: Given, meeting_id: uuid.UUID, command: RegistrationIn) -> Any:
    return await registrations.register_for_meeting(
        given.tx, given.ctx, meeting_id, command, once=as_is()
    )


async def test_answers_that_fit_are_kept_sealed_and_in_no_event(
    given: Given, pool: asyncpg.Pool, ctx: ServiceContext
) -> None:
    meeting_id, (diet, needs, stairs) = await asked(given)
    person = MemberIn.model_validate(member())

    registered = await register(
        given,
        meeting_id,
        answered(
            person,
            (diet["question_id"], "Vegetar"),
            (needs["question_id"], DIET),
            (stairs["question_id"], 2),
        ),
    )

    stored = await pool.fetchval(
        "SELECT answers_sealed::text FROM registrations WHERE id = $1",
        registered.registration["id"],
    )
    assert stored is not None and DIET not in stored and "Vegetar" not in stored
    events = await pool.fetch("SELECT envelope::text AS text FROM outbox ORDER BY id")
    assert not any(DIET in row["text"] for row in events)
    event = json.loads(events[-1]["text"])
    assert event["event_type"] == "RegistrationConfirmed"
    assert "Vegetar" not in events[-1]["text"]  # the options are in the meeting's own events
    assert "answers" not in event["payload"]  # no field that could carry them either
    roster = await rosters.meeting_with_roster(
        given.tx, meeting_id, organiser=PLATFORM, vault=ctx.vault
    )
    assert roster.answers[registered.registration["id"]] == {
        diet["question_id"]: "Vegetar",
        needs["question_id"]: DIET,
        stairs["question_id"]: 2,
    }


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("unknown question", "answers.0.question_id"),
        ("choice outside the options", "answers.0.value"),
        ("scale above its range", "answers.1.value"),
        ("scale below its range", "answers.1.value"),
        ("a number for a text", "answers.1.value"),
        ("required one missing", "answers"),
        ("the same question twice", "answers.1.question_id"),
    ],
)
async def test_answers_that_do_not_fit_are_refused_naming_the_field_and_nothing_is_kept(
    given: Given, pool: asyncpg.Pool, case: str, field: str
) -> None:
    meeting_id, (diet, needs, stairs) = await asked(given)
    answers = {
        "unknown question": [(str(uuid.uuid4()), "Alt"), (diet["question_id"], "Alt")],
        "choice outside the options": [(diet["question_id"], "Pescetar")],
        "scale above its range": [(diet["question_id"], "Alt"), (stairs["question_id"], 6)],
        "scale below its range": [(diet["question_id"], "Alt"), (stairs["question_id"], 0)],
        "a number for a text": [(diet["question_id"], "Alt"), (needs["question_id"], 3)],
        "required one missing": [(needs["question_id"], DIET)],
        "the same question twice": [(diet["question_id"], "Alt"), (diet["question_id"], "Vegetar")],
    }[case]
    before = await pool.fetchval("SELECT count(*) FROM outbox")

    with pytest.raises(Invalid) as refused:
        await register(given, meeting_id, answered(MemberIn.model_validate(member()), *answers))

    assert [error["field"] for error in refused.value.extensions["errors"]] == [field]
    assert await pool.fetchval("SELECT count(*) FROM registrations") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == before


async def test_an_optional_question_may_be_left_unanswered(
    given: Given, pool: asyncpg.Pool
) -> None:
    meeting_id, (diet, _, _) = await asked(given)

    registered = await register(
        given, meeting_id, answered(MemberIn.model_validate(member()), (diet["question_id"], "Alt"))
    )

    assert registered.registration["status"] == "confirmed"


async def test_the_export_holds_the_answers_and_erasure_takes_them(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    meeting_id, (diet, needs, _) = await asked(given)
    registered = await register(
        given,
        meeting_id,
        answered(
            MemberIn.model_validate(member()),
            (diet["question_id"], "Vegansk"),
            (needs["question_id"], DIET),
        ),
    )
    member_id = registered.registration["member_id"]

    exported = await tx.read(lambda conn: members.answers_of_member(conn, ctx.vault, member_id))
    await erasure.forget_member(tx, ctx, member_id)
    after = await tx.read(lambda conn: members.answers_of_member(conn, ctx.vault, member_id))

    (given_answers,) = exported["registration_answers"]
    assert {a["value"] for a in given_answers["answers"]} == {"Vegansk", DIET}
    questions = {a["question"] for a in given_answers["answers"]}
    assert questions == {"Kost", "Allergier eller andre behov"}
    assert after["registration_answers"][0]["answers"] == []
    assert after["registration_answers"][0]["erased_at"] is not None
    assert (
        await pool.fetchval(
            "SELECT answers_sealed FROM registrations WHERE id = $1", registered.registration["id"]
        )
        is None
    )


async def test_a_meeting_without_questions_refuses_answers(given: Given) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, open_to_public=True)

    with pytest.raises(Invalid):
        await register(
            given,
            meeting_id,
            answered(MemberIn.model_validate(member()), (str(uuid.uuid4()), "Alt")),
        )
