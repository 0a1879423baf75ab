"""Consultations: asked by an organiser, answered once per person in their window and by their
audience, amended until they close, exported and counted; free text sealed everywhere."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from registration.service import consultation_responses, consultations
from registration.service.commands import MemberIn
from registration.service.dialogue_commands import ConsultationIn, ResponseIn, ResponsePatch
from registration.service.history import PinnedClock
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import member
from tests.registration.dialogue_builders import (
    answers_to,
    confirm,
    consultation_body,
    events,
)
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound


async def ask(
    tx: Transactions, ctx: ServiceContext, network_id: uuid.UUID, **overrides: Any
) -> asyncpg.Record:
    command = ConsultationIn.model_validate(consultation_body(**overrides))
    return await consultations.create_consultation(
        tx, ctx, network_id, command, organiser=PLATFORM, once=as_is()
    )


async def answer(
    tx: Transactions,
    ctx: ServiceContext,
    consultation: asyncpg.Record,
    person: MemberIn,
    **answers: Any,
) -> consultation_responses.Submitted:
    command = ResponseIn(
        member=person,
        answers=answers.pop("raw", None) or answers_to(consultation["questions"], **answers),
    )
    return await consultation_responses.submit_response(
        tx, ctx, consultation["id"], command, once=as_is()
    )


async def test_a_consultation_whose_window_has_begun_opens_at_once_and_invites_the_members(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    first, second = await given.member(network_id), await given.member(network_id)

    consultation = await ask(tx, ctx, network_id)

    assert consultation["status"] == "open"
    assert [q["kind"] for q in consultation["questions"]] == ["text", "choice", "scale"]
    assert all(uuid.UUID(q["question_id"]) for q in consultation["questions"])
    scale = consultation["questions"][2]
    assert (scale["min"], scale["max"]) == (1, 5)
    opened = await events(pool, "ConsultationOpened")
    assert len(opened) == 1
    assert opened[0]["payload"]["audience_size"] == 2
    assert opened[0]["aggregate_version"] == 1
    assert opened[0]["key"] == str(network_id)
    assert opened[0]["topic"] == "registration.dialogue.v1"
    invitations = await events(pool, "ConsultationInvitation")
    assert len(invitations) == 2
    assert {i["key"] for i in invitations} == {str(network_id)}
    for invitation in invitations:
        payload = invitation["payload"]
        assert payload.get("personal") is None and payload["personal_sealed"] is not None
        opened_data = ctx.vault.open(
            _sealed(payload), await _key(pool, uuid.UUID(payload["member_id"]))
        )
        assert opened_data is not None
        assert opened_data.email in (first.email, second.email)
        assert opened_data.action_url == (
            f"{ctx.settings.public_base_url}/consultations/{consultation['id']}"
        )


async def test_one_to_come_is_scheduled_and_writes_nothing_yet(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    await given.member(network_id)

    consultation = await ask(tx, ctx, network_id, opens_in=timedelta(days=1))

    assert consultation["status"] == "scheduled"
    assert await events(pool, "ConsultationOpened") == []
    assert await events(pool, "ConsultationInvitation") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"questions": []}, "questions"),
        ({"questions": [{"text": "Hvilket?", "kind": "choice", "options": ["Ja"]}]}, "questions.0"),
        (
            {"questions": [{"text": "Hvilket?", "kind": "choice", "options": ["Ja", "ja"]}]},
            "questions.0",
        ),
        ({"questions": [{"text": "Hvor?", "kind": "scale", "min": 5, "max": 5}]}, "questions.0"),
        ({"questions": [{"text": "Hvor?", "kind": "text", "options": ["a", "b"]}]}, "questions.0"),
        ({"audience": "everyone"}, "audience"),
    ],
)
def test_questions_that_cannot_be_answered_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ConsultationIn.model_validate(consultation_body(**change))
    assert field in {".".join(str(p) for p in e["loc"]) for e in refused.value.errors()}


def test_a_window_that_closes_before_it_opens_is_refused() -> None:
    body = consultation_body(lasts=timedelta(hours=-1))
    with pytest.raises(ValidationError, match="closes_at must be after opens_at"):
        ConsultationIn.model_validate(body)


async def test_a_member_answers_once_and_a_second_answer_names_the_first(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)

    submitted = await answer(tx, ctx, consultation, person)
    with pytest.raises(Conflict) as again:
        await answer(tx, ctx, consultation, person, choice="Kulturskole")

    assert submitted.response["status"] == "pending"  # the address is not yet confirmed
    assert again.value.slug == "already-responded"
    assert again.value.extensions["response_id"] == str(submitted.response["id"])
    assert person.email not in again.value.detail
    rows = await pool.fetch("SELECT * FROM consultation_responses")
    assert len(rows) == 1


async def test_free_text_is_stored_and_sent_only_sealed(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    words = "Vi ønsker flere midler til kulturskolen i Bodø"

    submitted = await answer(tx, ctx, consultation, person, text=words)

    stored = await pool.fetchrow(
        "SELECT answers::text AS answers, text_sealed::text AS sealed FROM consultation_responses"
    )
    assert stored is not None
    assert words not in stored["answers"] and words not in stored["sealed"]
    outbox = await pool.fetch("SELECT envelope::text AS text FROM outbox")
    assert all(words not in row["text"] for row in outbox)
    response_events = await events(pool, "ResponseSubmitted")
    assert len(response_events) == 1
    payload = response_events[0]["payload"]
    assert payload["status"] == "pending"
    assert {a["value"] for a in payload["answers"]} == {"Bibliotek", 4}
    assert response_events[0]["aggregate_id"] == str(submitted.response["id"])
    assert response_events[0]["key"] == str(network_id)
    personal = ctx.vault.open(_sealed(payload), await _key(pool, uuid.UUID(payload["member_id"])))
    assert personal is not None
    text_question = consultation["questions"][0]["question_id"]
    assert personal.answers == {text_question: words}
    assert personal.action_url is not None and submitted.token in personal.action_url


async def test_answers_that_do_not_fit_are_refused_naming_each_field(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    text_q, choice_q, scale_q = (q["question_id"] for q in consultation["questions"])
    bad = [
        {"question_id": str(uuid.uuid4()), "value": "x"},  # 0: unknown question
        {"question_id": choice_q, "value": "Teater"},  # 1: not an option
        {"question_id": scale_q, "value": 6},  # 2: out of range
        {"question_id": text_q, "value": 3},  # 3: a number for free text
        {"question_id": scale_q, "value": 3},  # 4: answered twice
    ]

    with pytest.raises(Invalid) as refused:
        await answer(tx, ctx, consultation, person, raw=bad)

    fields = [error["field"] for error in refused.value.extensions["errors"]]
    assert fields == [
        "answers.0.question_id",
        "answers.1.value",
        "answers.2.value",
        "answers.3.value",
        "answers.4.question_id",
    ]
    assert refused.value.extensions["errors"][1]["question_id"] == choice_q
    assert await pool.fetchval("SELECT count(*) FROM consultation_responses") == 0
    assert await events(pool, "AddressConfirmationRequested") == []


async def test_a_required_question_left_unanswered_is_named(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    text_q, choice_q, _ = (q["question_id"] for q in consultation["questions"])

    with pytest.raises(Invalid) as refused:
        await answer(tx, ctx, consultation, person, raw=[{"question_id": text_q, "value": "Ja"}])

    (error,) = refused.value.extensions["errors"]
    assert (error["field"], error["question_id"]) == ("answers", choice_q)


async def test_a_scale_takes_only_whole_numbers(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    _, choice_q, scale_q = (q["question_id"] for q in consultation["questions"])

    with pytest.raises(Invalid) as refused:
        await answer(
            tx,
            ctx,
            consultation,
            person,
            raw=[
                {"question_id": choice_q, "value": "bibliotek"},  # any case: the option
                {"question_id": scale_q, "value": "4"},
            ],
        )

    assert [e["field"] for e in refused.value.extensions["errors"]] == ["answers.1.value"]


async def test_outside_the_window_answers_are_refused(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    later = await ask(tx, ctx, network_id, opens_in=timedelta(days=1))
    consultation = await ask(tx, ctx, network_id)
    after_close = replace(ctx, clock=PinnedClock(datetime.now(UTC) + timedelta(days=8)))

    with pytest.raises(Conflict) as early:
        await answer(tx, ctx, later, person)
    with pytest.raises(Conflict) as late:
        await answer(tx, after_close, consultation, person)

    assert early.value.slug == "consultation-not-open"
    assert late.value.slug == "consultation-closed"


async def test_only_the_audience_may_answer(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    stranger = MemberIn.model_validate(member())

    with pytest.raises(Forbidden) as refused:
        await answer(tx, ctx, consultation, stranger)

    assert refused.value.slug == "not-in-audience"
    # Nobody was created for the refused stranger.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM members WHERE lower(email) = lower($1)", stranger.email
        )
        == 0
    )


async def test_anyone_answers_a_public_consultation(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    consultation = await ask(tx, ctx, network_id, audience="public")

    submitted = await answer(tx, ctx, consultation, MemberIn.model_validate(member()))

    assert submitted.response["status"] == "pending"


async def test_the_response_is_amended_with_its_token_until_it_closes(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    submitted = await answer(tx, ctx, consultation, person)
    response_id = submitted.response["id"]
    new_answers = answers_to(consultation["questions"], text="Ny tekst", choice="Frivillighet")

    amended = await consultation_responses.amend_response(
        tx, ctx, response_id, ResponsePatch(token=submitted.token, answers=new_answers)
    )
    with pytest.raises(Forbidden):
        await consultation_responses.amend_response(
            tx, ctx, response_id, ResponsePatch(token="0.nope", answers=new_answers)
        )
    after_close = replace(ctx, clock=PinnedClock(datetime.now(UTC) + timedelta(days=8)))
    with pytest.raises(Conflict):
        await consultation_responses.amend_response(
            tx, after_close, response_id, ResponsePatch(token=submitted.token, answers=new_answers)
        )

    assert amended["amended_at"] is not None and amended["version"] == 2
    view = await consultation_responses.get_response(tx, ctx, response_id, submitted.token)
    assert view.answers[consultation["questions"][0]["question_id"]] == "Ny tekst"
    assert view.answers[consultation["questions"][1]["question_id"]] == "Frivillighet"
    versions = [e["aggregate_version"] for e in await events(pool, aggregate_id=response_id)]
    assert versions == [1, 2]


async def test_confirming_the_address_counts_the_response(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    submitted = await answer(tx, ctx, consultation, person)

    view = await confirm(tx, ctx, pool, person.email)

    assert view.responses == 1
    latest = (await events(pool, aggregate_id=submitted.response["id"]))[-1]
    assert latest["payload"]["status"] == "counted"
    assert latest["aggregate_version"] == 2
    results = await consultations.consultation_results(
        tx, ctx, consultation["id"], organiser=PLATFORM
    )
    assert (results["responses"], results["pending"]) == (1, 0)


async def test_the_results_count_counted_responses_per_option_and_municipality(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    people = [await given.member(network_id) for _ in range(3)]
    consultation = await ask(tx, ctx, network_id)
    await answer(tx, ctx, consultation, people[0], choice="Bibliotek", scale=5)
    await answer(tx, ctx, consultation, people[1], choice="Kulturskole", scale=3)
    await answer(tx, ctx, consultation, people[2], choice="Bibliotek", scale=4)
    for person in people[:2]:
        await confirm(tx, ctx, pool, person.email)

    results = await consultations.consultation_results(
        tx, ctx, consultation["id"], organiser=PLATFORM
    )

    assert (results["responses"], results["pending"], results["audience_size"]) == (2, 1, 3)
    assert results["response_rate"] == round(2 / 3, 4)
    choice = results["questions"][1]
    assert choice["counts"] == [
        {"value": "Kulturskole", "count": 1},
        {"value": "Bibliotek", "count": 1},
        {"value": "Frivillighet", "count": 0},
    ]
    scale = results["questions"][2]
    assert [c["count"] for c in scale["counts"]] == [0, 0, 1, 0, 1]
    assert results["municipalities"][0]["municipality"] == "Roskilde"
    assert results["municipalities"][0]["responses"] == 2


async def test_the_export_has_each_response_with_who_gave_it_and_every_answer(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    person = await given.member(network_id)
    consultation = await ask(tx, ctx, network_id)
    await answer(tx, ctx, consultation, person, text='=HYPERLINK("x")')

    export = await consultations.export_responses(tx, ctx, consultation["id"], organiser=PLATFORM)

    (item,) = export.responses
    assert (item["name"], item["email"], item["status"]) == (person.name, person.email, "pending")
    assert item["answers"][consultation["questions"][0]["question_id"]] == '=HYPERLINK("x")'


async def test_another_organisations_organiser_sees_no_responses(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    consultation = await ask(tx, ctx, network_id)
    stranger = Principal(Role.ORGANISER, organisation_id=uuid.uuid4())

    with pytest.raises(NotFound):
        await consultations.export_responses(tx, ctx, consultation["id"], organiser=stranger)
    command = ConsultationIn.model_validate(consultation_body())
    with pytest.raises(NotFound):
        await consultations.create_consultation(
            tx, ctx, network_id, command, organiser=stranger, once=as_is()
        )


async def test_a_parties_consultation_asks_the_contacts_and_members_from_joined_parties(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    from tests.registration.service.test_parties import apply, municipalities_network, party_body

    network_id = await municipalities_network(given)
    joined = await apply(tx, ctx, network_id, party_body())
    contact = joined.party["contact_email"]
    from_the_party = MemberIn.model_validate(member(municipality="Rødovre"))
    await given.enrol(network_id, from_the_party)
    # The contact enrolled as a member too: asked once, all the same.
    await given.enrol(
        network_id, MemberIn.model_validate({**member(municipality="Rødovre"), "email": contact})
    )

    consultation = await ask(tx, ctx, network_id, audience="parties")
    by_contact = await answer(
        tx, ctx, consultation, MemberIn.model_validate({**member(), "email": contact})
    )
    by_member = await answer(tx, ctx, consultation, from_the_party)

    assert consultation["audience_size"] == 2
    assert by_contact.response["municipality"] == "Rødovre"
    assert by_member.response["status"] == "pending"


def _sealed(payload: dict[str, Any]) -> Any:
    from tilmeld_shared.events import SealedPersonalData

    return SealedPersonalData.model_validate(payload["personal_sealed"])


async def _key(pool: asyncpg.Pool, member_id: uuid.UUID) -> bytes | None:
    key: bytes | None = await pool.fetchval("SELECT data_key FROM members WHERE id = $1", member_id)
    return key
