"""A held meeting's feedback results over HTTP: how many gave feedback, each choice and scale
question's answers (a scale's mean too), JSON and CSV, each feedback counted once, for the
callers allowed to read the meeting's reports; nothing of what people wrote."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from reporting import projection
from reporting.api.auth import Callers
from tests.builders import REPORTING
from tests.reporting.story import DAY, Story
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.events import Answer, FeedbackSubmitted, MeetingUpdated, Question

OURS, THEIRS = uuid.uuid4(), uuid.uuid4()
USEFUL = Question(
    question_id=uuid.uuid4(),
    text="Var mødet nyttigt?",
    kind="choice",
    options=["Ja", "Delvis", "Nej"],
)
RATING = Question(question_id=uuid.uuid4(), text="Samlet vurdering", kind="scale", min=1, max=5)
WORDS = Question(question_id=uuid.uuid4(), text="Hvad kan vi gøre bedre?", kind="text")


async def _apply(pool: asyncpg.Pool, events: list[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, events)


class FeedbackStory(Story):
    def held_with_feedback(self) -> uuid.UUID:
        meeting = self.meeting(DAY)
        self.add(
            meeting,
            MeetingUpdated(
                meeting_id=meeting,
                network_id=self.network,
                title="Møde",
                starts_at=DAY,
                ends_at=DAY + timedelta(hours=2),
                timezone="Europe/Copenhagen",
                capacity=10,
                status="held",
                changed=["status"],
                feedback=[USEFUL, RATING, WORDS],
            ),
        )
        return meeting

    def feedback(self, meeting: uuid.UUID, useful: str | None, rating: int | None) -> None:
        answers = [
            *([Answer(question_id=USEFUL.question_id, value=useful)] if useful else []),
            *([Answer(question_id=RATING.question_id, value=rating)] if rating else []),
        ]
        self.add(
            meeting,
            FeedbackSubmitted(
                feedback_id=uuid.uuid4(),
                meeting_id=meeting,
                network_id=self.network,
                submitted_at=DAY + timedelta(hours=3),
                answers=answers,
            ),
        )


@pytest.fixture
async def story(pool: asyncpg.Pool) -> FeedbackStory:
    """Three attendees gave feedback on a held meeting; the last one is delivered twice."""
    story = FeedbackStory()
    story.created("Grøn omstilling", organisation_id=OURS)
    meeting = story.held_with_feedback()
    story.feedback(meeting, "Ja", 5)
    story.feedback(meeting, "Ja", 4)
    story.feedback(meeting, "Delvis", None)
    await _apply(pool, story.events)
    await _apply(pool, story.events[-1:])  # redelivered
    story.meeting_id = meeting  # type: ignore[attr-defined]
    return story


async def test_the_report_counts_each_answer_once_with_a_scales_mean(
    client: httpx.AsyncClient, story: Any
) -> None:
    response = await client.get(f"/reports/meetings/{story.meeting_id}/feedback", headers=REPORTING)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["responses"] == 3
    assert report["as_of"] is not None
    useful, rating = report["questions"]  # the text question is not in reporting
    assert useful["text"] == "Var mødet nyttigt?"
    assert [(a["value"], a["count"]) for a in useful["answers"]] == [
        ("Ja", 2),
        ("Delvis", 1),
        ("Nej", 0),
    ]
    assert useful["answered"] == 3 and useful["mean"] is None
    assert [(a["value"], a["count"]) for a in rating["answers"]] == [
        (1, 0),
        (2, 0),
        (3, 0),
        (4, 1),
        (5, 1),
    ]
    assert (rating["answered"], rating["mean"]) == (2, 4.5)


async def test_the_csv_has_a_row_per_answer_of_each_question(
    client: httpx.AsyncClient, story: Any
) -> None:
    response = await client.get(
        f"/reports/meetings/{story.meeting_id}/feedback",
        headers={**REPORTING, "Accept": "text/csv"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 + 5
    assert {row["responses"] for row in rows} == {"3"}
    ja = next(row for row in rows if row["value"] == "Ja")
    assert (ja["question"], ja["count"]) == ("Var mødet nyttigt?", "2")
    five = next(row for row in rows if row["kind"] == "scale" and row["value"] == "5")
    assert (five["count"], five["mean"]) == ("1", "4.5")


async def test_a_meeting_without_feedback_yet_reports_none(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = FeedbackStory()
    story.created()
    meeting = story.held_with_feedback()
    await _apply(pool, story.events)

    report = (await client.get(f"/reports/meetings/{meeting}/feedback", headers=REPORTING)).json()

    assert report["responses"] == 0
    assert all(answer["count"] == 0 for q in report["questions"] for answer in q["answers"])


async def test_an_organisation_reads_only_its_own_meetings_feedback(
    client: httpx.AsyncClient, story: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"ours": Principal(Role.REPORTING, OURS), "theirs": Principal(Role.REPORTING, THEIRS)}

    async def principal(_: Callers, token: str) -> Principal | None:
        return keys.get(token)

    monkeypatch.setattr(Callers, "principal", principal)
    url = f"/reports/meetings/{story.meeting_id}/feedback"

    own = await client.get(url, headers={"Authorization": "Bearer ours"})
    other = await client.get(url, headers={"Authorization": "Bearer theirs"})
    anonymous = await client.get(url)
    unknown = await client.get(
        f"/reports/meetings/{uuid.uuid4()}/feedback", headers={"Authorization": "Bearer ours"}
    )

    assert own.status_code == 200
    assert (other.status_code, other.headers["content-type"]) == (404, "application/problem+json")
    assert "Var mødet" not in other.text
    assert anonymous.status_code == 401
    assert unknown.status_code == 404
