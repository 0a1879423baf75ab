"""Consultations through HTTP: the organiser asks, the audience answers (problems naming the
field, the window, the audience, once per person), amends with its token, confirms its address
through the emailed link, and the organiser exports JSON and CSV and reads the counts."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from registration.personal_data import PersonalDataVault
from tests.builders import ORGANISER, REPORTING, member
from tests.registration.api.conftest import Api, registration_settings
from tests.registration.dialogue_builders import answers_to, consultation_body
from tilmeld_shared.events import SealedPersonalData


async def outbox(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope::text AS text FROM registration.outbox "
            "WHERE event_type = $1 ORDER BY id",
            event_type,
        )
        return [json.loads(row["text"]) for row in rows]
    finally:
        await conn.close()


async def emailed_link(database_url: str, email: str) -> str:
    """The link in the person's confirmation email, as notification would open it."""
    settings = registration_settings(database_url)
    vault = PersonalDataVault.from_setting("", development_fallback=settings.effective_token_secret)
    conn = await asyncpg.connect(database_url)
    try:
        for envelope in await outbox(database_url, "AddressConfirmationRequested"):
            payload = envelope["payload"]
            key = await conn.fetchval(
                "SELECT data_key FROM registration.members WHERE id = $1",
                uuid.UUID(payload["member_id"]),
            )
            opened = vault.open(SealedPersonalData.model_validate(payload["personal_sealed"]), key)
            if opened is not None and opened.email == email:
                assert opened.action_url is not None
                return opened.action_url
    finally:
        await conn.close()
    raise AssertionError(f"no confirmation was asked of {email}")


def api_path(link: str) -> str:
    """The emailed page's address as the API's: /confirm/{id}?token= → /confirmations/{id}."""
    path = link.split("/confirm/", 1)[1]
    return f"/confirmations/{path}"


async def ask(api: Api, network_id: str, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post(
        f"/networks/{network_id}/consultations",
        json=consultation_body(**overrides),
        headers=ORGANISER,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def answer(api: Api, consultation: dict[str, Any], person: dict[str, Any], **kw: Any) -> Any:
    answers = kw.pop("raw", None) or answers_to(consultation["questions"], **kw)
    return await api.client.post(
        f"/consultations/{consultation['consultation_id']}/responses",
        json={"member": person, "answers": answers},
    )


async def test_an_organiser_asks_and_anyone_reads_the_consultation(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    await api.enrolled(network_id)

    unauthorised = await api.client.post(
        f"/networks/{network_id}/consultations", json=consultation_body()
    )
    reporting = await api.client.post(
        f"/networks/{network_id}/consultations", json=consultation_body(), headers=REPORTING
    )
    created = await ask(api, network_id)
    later = await ask(api, network_id, opens_in=timedelta(days=2))
    one = await api.client.get(f"/consultations/{created['consultation_id']}")
    listed = await api.client.get(f"/networks/{network_id}/consultations", params={"limit": 1})
    rest = await api.client.get(
        f"/networks/{network_id}/consultations", params={"cursor": listed.json()["next_cursor"]}
    )

    assert (unauthorised.status_code, reporting.status_code) == (401, 403)
    assert (created["status"], later["status"]) == ("open", "scheduled")
    assert created["audience_size"] == 1
    assert all(uuid.UUID(q["question_id"]) for q in created["questions"])
    assert one.json() == created
    assert [c["consultation_id"] for c in listed.json()["items"] + rest.json()["items"]] == [
        created["consultation_id"],
        later["consultation_id"],
    ]
    assert rest.json()["next_cursor"] is None
    missing = await api.client.get(f"/consultations/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_questions_that_cannot_be_answered_are_a_422_naming_the_field(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    bad = consultation_body(
        questions=[
            {"text": "Hvilket?", "kind": "choice", "options": ["Kun én"]},
            {"text": "Hvor?", "kind": "scale", "min": 3, "max": 2.5},
        ]
    )

    response = await api.client.post(
        f"/networks/{network_id}/consultations", json=bad, headers=ORGANISER
    )

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"questions.0", "questions.1.max"} <= fields


async def test_answers_are_checked_against_the_questions_with_a_422_naming_each(
    api: Api, database_url: str
) -> None:
    network_id = (await api.network())["network_id"]
    person = await api.enrolled(network_id)
    consultation = await ask(api, network_id)
    text_q, choice_q, scale_q = (q["question_id"] for q in consultation["questions"])

    refused = await answer(
        api,
        consultation,
        person,
        raw=[
            {"question_id": text_q, "value": "Ja"},
            {"question_id": choice_q, "value": "Teater"},
            {"question_id": scale_q, "value": 2.5},
        ],
    )
    missing = await answer(api, consultation, person, raw=[{"question_id": text_q, "value": "Ja"}])

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["answers.2.value"]  # by pydantic
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {
            "field": "answers",
            "in": "body",
            "message": f"the question {consultation['questions'][1]['text']!r} must be answered",
            "question_id": choice_q,
        }
    ]
    not_an_option = await answer(
        api,
        consultation,
        person,
        raw=[{"question_id": choice_q, "value": "Teater"}, {"question_id": scale_q, "value": 9}],
    )
    assert [e["field"] for e in not_an_option.json()["errors"]] == [
        "answers.0.value",
        "answers.1.value",
    ]
    assert await outbox(database_url, "ResponseSubmitted") == []


async def test_a_response_counts_once_the_emailed_link_is_posted(
    api: Api, database_url: str
) -> None:
    network_id = (await api.network())["network_id"]
    person = await api.enrolled(network_id)
    consultation = await ask(api, network_id)

    first = await answer(api, consultation, person)
    again = await answer(api, consultation, person, choice="Kulturskole")
    link = await emailed_link(database_url, person["email"])
    shown = await api.client.get(api_path(link))
    shown_again = await api.client.get(api_path(link))
    forged = await api.client.post(api_path(link).split("?")[0], params={"token": "0.forged"})
    confirmed = await api.client.post(api_path(link))
    results = await api.client.get(
        f"/consultations/{consultation['consultation_id']}/results", headers=ORGANISER
    )

    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending" and first.json()["token"]
    assert again.status_code == 409
    assert again.json()["response_id"] == first.json()["response_id"]
    assert person["email"] not in again.text
    assert shown.json()["status"] == shown_again.json()["status"] == "requested"
    assert shown.json()["waiting"] == {"responses": 1, "proposals": 0, "votes": 0}
    assert forged.status_code == 403
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["waiting"]["responses"] == 1
    assert (results.json()["responses"], results.json()["pending"]) == (1, 0)
    statuses = [e["payload"]["status"] for e in await outbox(database_url, "ResponseSubmitted")]
    assert statuses == ["pending", "counted"]


async def test_the_window_and_the_audience_are_kept(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    await api.enrolled(network_id)
    later = await ask(api, network_id, opens_in=timedelta(days=1))
    now = await ask(api, network_id)

    early = await answer(api, later, member())
    stranger = await answer(api, now, member())

    assert (early.status_code, early.json()["type"].rsplit("/", 1)[-1]) == (
        409,
        "consultation-not-open",
    )
    assert (stranger.status_code, stranger.json()["type"].rsplit("/", 1)[-1]) == (
        403,
        "not-in-audience",
    )


async def test_the_response_is_amended_with_its_token(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    person = await api.enrolled(network_id)
    consultation = await ask(api, network_id)
    first = (await answer(api, consultation, person)).json()
    new = answers_to(consultation["questions"], choice="Frivillighet", scale=2)

    wrong = await api.client.patch(
        f"/responses/{first['response_id']}", json={"token": "0.nope", "answers": new}
    )
    amended = await api.client.patch(
        f"/responses/{first['response_id']}", json={"token": first["token"], "answers": new}
    )
    export = await api.client.get(
        f"/consultations/{consultation['consultation_id']}/responses", headers=ORGANISER
    )

    assert wrong.status_code == 403
    assert amended.status_code == 200, amended.text
    assert amended.json()["amended_at"] is not None and amended.json()["token"] is None
    (item,) = export.json()["items"]
    assert item["answers"][consultation["questions"][1]["question_id"]] == "Frivillighet"


async def test_the_export_is_json_or_a_spreadsheet_safe_csv(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    person = await api.enrolled(network_id, name="Åse Ødegård")
    consultation = await ask(api, network_id)
    await answer(api, consultation, person, text="=1+2 og æøå")
    path = f"/consultations/{consultation['consultation_id']}/responses"

    as_json = await api.client.get(path, headers=ORGANISER)
    by_accept = await api.client.get(path, headers={**ORGANISER, "Accept": "text/csv"})
    by_format = await api.client.get(path, params={"format": "csv"}, headers=ORGANISER)
    public = await api.client.get(path)

    assert public.status_code == 401
    assert as_json.json()["items"][0]["name"] == "Åse Ødegård"
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.text == by_format.text
    assert by_accept.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(by_accept.text.lstrip("\ufeff"))))
    assert rows[0][-3:] == [q["text"] for q in consultation["questions"]]
    assert rows[1][4] == "Åse Ødegård"
    assert rows[1][-3:] == ["'=1+2 og æøå", "Bibliotek", "4"]


async def test_another_organisations_token_sees_nothing(api: Api) -> None:
    network_id = (await api.network())["network_id"]
    consultation = await ask(api, network_id)
    organisation = await api.client.post(
        "/organisations", json={"name": "Andre"}, headers=ORGANISER
    )
    key = await api.client.post(
        f"/organisations/{organisation.json()['organisation_id']}/api-keys",
        json={"name": "test"},
        headers=ORGANISER,
    )
    theirs = {"Authorization": f"Bearer {key.json()['key']}"}

    export = await api.client.get(
        f"/consultations/{consultation['consultation_id']}/responses", headers=theirs
    )
    create = await api.client.post(
        f"/networks/{network_id}/consultations", json=consultation_body(), headers=theirs
    )

    assert (export.status_code, create.status_code) == (404, 404)


async def test_a_retried_response_with_its_idempotency_key_is_answered_alike_and_stored_once(
    api: Api, database_url: str
) -> None:
    network_id = (await api.network())["network_id"]
    person = await api.enrolled(network_id)
    consultation = await ask(api, network_id)
    body = {"member": person, "answers": answers_to(consultation["questions"])}
    path = f"/consultations/{consultation['consultation_id']}/responses"

    first = await api.client.post(path, json=body, headers={"Idempotency-Key": "svar-1"})
    retry = await api.client.post(path, json=body, headers={"Idempotency-Key": "svar-1"})
    other_body = await api.client.post(
        path,
        json={**body, "answers": answers_to(consultation["questions"], scale=1)},
        headers={"Idempotency-Key": "svar-1"},
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert other_body.status_code == 422
    assert len(await outbox(database_url, "ResponseSubmitted")) == 1
