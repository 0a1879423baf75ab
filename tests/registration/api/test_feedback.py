"""Feedback over HTTP: the link a check-in seals into the attendance event lets the person
give feedback once the meeting is over, once (409 after), only with its token (403), only if
they came (409); the event counts choices and numbers and names nobody; what people wrote stays
with the organisers and goes when the person is erased."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from registration.main import create_app
from registration.service.feedback import FEEDBACK_PURPOSE
from registration.tokens import SigningSecret, issue
from registration.unit_of_work import Clock
from tests.builders import ORGANISER, PERSONAL_DATA, member
from tests.registration.api.conftest import Api, registration_settings

DEV_PERSONAL_DATA_TOKEN = "dev-only-personal-data:test-organiser-token"
WRITTEN = "Mere tid til spørgsmål fra salen"
PERSONAL_DATA.add(WRITTEN)
FEEDBACK = [
    {"text": "Var mødet nyttigt?", "kind": "choice", "options": ["Ja", "Nej"], "required": True},
    {"text": "Samlet vurdering", "kind": "scale", "min": 1, "max": 5},
    {"text": "Hvad kan vi gøre bedre?", "kind": "text"},
]


class MovingClock(Clock):
    """The time the app's use cases see: now, moved on by what a test adds."""

    ahead: ClassVar[list[timedelta]] = [timedelta()]

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead[0]


@pytest.fixture
async def app_and_clock(database_url: str) -> AsyncIterator[tuple[Api, MovingClock]]:
    clock = MovingClock()
    clock.ahead[0] = timedelta()
    app = create_app(registration_settings(database_url), run_relay=False, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registration/api/v1"
        ) as client:
            yield Api(client, transport), clock


async def _outbox(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope::text AS text FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = $1 ORDER BY id",
            event_type,
        )
        return [json.loads(row["text"]) for row in rows]
    finally:
        await conn.close()


async def held_meeting_with_an_attendee(
    api: Api, database_url: str
) -> tuple[dict[str, Any], str, str, str]:
    """A meeting asking for feedback; Karen came and has her link, Jonas did not come. Returns
    the meeting, Karen's registration id and token, and Jonas's registration id."""
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True, feedback=FEEDBACK)
    came, stayed_away = [
        (
            await api.client.post(
                f"/meetings/{meeting['meeting_id']}/registrations", json={"member": member()}
            )
        ).json()["registration_id"]
        for _ in range(2)
    ]
    checked_in = await api.client.post(f"/registrations/{came}/check-in", headers=ORGANISER)
    assert checked_in.status_code == 200, checked_in.text
    (attendance,) = await _outbox(database_url, "AttendanceRecorded")
    sealed = attendance["payload"]["personal_sealed"]
    opened = await api.client.post(
        "/personal-data/open",
        json={"items": [sealed]},
        headers={"Authorization": f"Bearer {DEV_PERSONAL_DATA_TOKEN}"},
    )
    link = opened.json()["items"][0]["action_url"]
    assert "token=" not in json.dumps(attendance["payload"]).replace(
        json.dumps(sealed), ""
    )  # the link travels sealed only
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == f"/meetings/{meeting['meeting_id']}/feedback"
    assert query["registration"] == [came]
    return meeting, came, query["token"][0], stayed_away


def answers(meeting: dict[str, Any], useful: Any = "Ja", rating: Any = 4) -> list[dict[str, Any]]:
    useful_q, rating_q, words_q = meeting["feedback"]
    return [
        {"question_id": useful_q["question_id"], "value": useful},
        {"question_id": rating_q["question_id"], "value": rating},
        {"question_id": words_q["question_id"], "value": WRITTEN},
    ]


async def test_an_attendee_gives_feedback_once_after_the_meeting(
    app_and_clock: tuple[Api, MovingClock], database_url: str
) -> None:
    api, clock = app_and_clock
    meeting, came, token, _ = await held_meeting_with_an_attendee(api, database_url)
    path = f"/meetings/{meeting['meeting_id']}/feedback"
    body = {"registration_id": came, "token": token, "answers": answers(meeting)}

    too_early = await api.client.post(path, json=body)
    clock.ahead[0] = timedelta(days=15)
    given = await api.client.post(path, json=body)
    again = await api.client.post(path, json=body)

    assert (too_early.status_code, too_early.json()["type"].rsplit("/", 1)[-1]) == (
        409,
        "meeting-not-held",
    )
    assert given.status_code == 201, given.text
    assert again.status_code == 409 and again.json()["type"].endswith("feedback-given")
    (event,) = await _outbox(database_url, "FeedbackSubmitted")
    payload = event["payload"]
    assert set(payload) >= {"feedback_id", "meeting_id", "network_id", "answers"}
    assert "member_id" not in payload and "registration_id" not in payload
    assert sorted(str(a["value"]) for a in payload["answers"]) == ["4", "Ja"]
    assert WRITTEN not in json.dumps(event)
    seen = await api.client.get(path, headers=ORGANISER)
    assert seen.status_code == 200
    (response,) = seen.json()
    assert WRITTEN in [a["value"] for a in response["answers"]]


async def test_feedback_is_refused_without_the_link_or_without_having_come(
    app_and_clock: tuple[Api, MovingClock], database_url: str
) -> None:
    api, clock = app_and_clock
    meeting, came, token, stayed_away = await held_meeting_with_an_attendee(api, database_url)
    path = f"/meetings/{meeting['meeting_id']}/feedback"
    clock.ahead[0] = timedelta(days=15)

    wrong_token = await api.client.post(
        path, json={"registration_id": came, "token": "0.forged", "answers": answers(meeting)}
    )
    someone_elses = await api.client.post(
        path, json={"registration_id": stayed_away, "token": token, "answers": answers(meeting)}
    )
    other_meeting = await api.client.post(
        f"/meetings/{uuid.uuid4()}/feedback",
        json={"registration_id": came, "token": token, "answers": answers(meeting)},
    )
    unfit = await api.client.post(
        path,
        json={"registration_id": came, "token": token, "answers": answers(meeting, "Måske", 9)},
    )
    clock.ahead[0] = timedelta(days=15 + 31)
    too_late = await api.client.post(
        path, json={"registration_id": came, "token": token, "answers": answers(meeting)}
    )

    assert wrong_token.status_code == 403
    assert someone_elses.status_code == 403  # the token is Karen's, not Jonas's
    assert other_meeting.status_code == 404
    assert unfit.status_code == 422
    assert [e["field"] for e in unfit.json()["errors"]] == ["answers.0.value", "answers.1.value"]
    assert too_late.status_code == 409 and too_late.json()["type"].endswith("feedback-closed")
    assert await _outbox(database_url, "FeedbackSubmitted") == []


async def test_a_no_show_with_their_own_link_is_refused(
    app_and_clock: tuple[Api, MovingClock], database_url: str
) -> None:
    api, clock = app_and_clock
    meeting, _, _, stayed_away = await held_meeting_with_an_attendee(api, database_url)
    clock.ahead[0] = timedelta(days=15)
    # A valid token for the registration, as if it had been mailed: they still did not come.
    token = issue(
        SigningSecret("test-secret"), FEEDBACK_PURPOSE, uuid.UUID(stayed_away), expires_at=None
    )

    refused = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/feedback",
        json={"registration_id": stayed_away, "token": token, "answers": answers(meeting)},
    )

    assert refused.status_code == 409 and refused.json()["type"].endswith("not-attended")


async def test_erasure_takes_what_the_person_wrote_and_keeps_the_counts(
    app_and_clock: tuple[Api, MovingClock], database_url: str
) -> None:
    api, clock = app_and_clock
    meeting, came, token, _ = await held_meeting_with_an_attendee(api, database_url)
    path = f"/meetings/{meeting['meeting_id']}/feedback"
    clock.ahead[0] = timedelta(days=15)
    given = await api.client.post(
        path, json={"registration_id": came, "token": token, "answers": answers(meeting)}
    )
    member_id = (
        given.json()
        and (await api.client.get(f"/registrations/{came}", headers=ORGANISER)).json()["member_id"]
    )

    erased = await api.client.delete(f"/members/{member_id}", headers=ORGANISER)
    seen = await api.client.get(path, headers=ORGANISER)

    assert erased.status_code == 204
    (response,) = seen.json()
    assert sorted(str(a["value"]) for a in response["answers"]) == ["4", "Ja"]


async def test_a_feedback_page_whose_link_is_wrong_is_a_page_not_found(
    app_and_clock: tuple[Api, MovingClock], database_url: str
) -> None:
    api, clock = app_and_clock
    meeting, came, token, _ = await held_meeting_with_an_attendee(api, database_url)
    clock.ahead[0] = timedelta(days=15)
    pages = httpx.AsyncClient(transport=api.transport, base_url="http://registration")
    page = f"/meetings/{meeting['meeting_id']}/feedback"

    no_registration = await pages.get(page, params={"token": token})
    not_an_id = await pages.get(page, params={"registration": "42", "token": token})
    forged = await pages.get(page, params={"registration": came, "token": "0.forged"})
    shown = await pages.get(page, params={"registration": came, "token": token, "lang": "en"})
    await pages.aclose()

    for answer in (no_registration, not_an_id, forged):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
    assert shown.status_code == 200
    assert "Samlet vurdering" in shown.text and "no-store" in shown.headers["cache-control"]
