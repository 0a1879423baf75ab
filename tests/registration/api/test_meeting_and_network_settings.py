"""The settings of a network's year and a meeting's life: what an organiser sets is kept,
shown, changed by a PATCH, and carried by the events; a question that cannot be answered is
refused, naming the field."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tests.builders import ORGANISER
from tests.registration.api.conftest import Api


async def _events(database_url: str, event_type: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope FROM registration.outbox WHERE event_type = $1 ORDER BY id",
            event_type,
        )
    finally:
        await conn.close()
    return [
        json.loads(row["envelope"]) if isinstance(row["envelope"], str) else row["envelope"]
        for row in rows
    ]


DIET = {"text": "Kosthensyn", "kind": "text"}
ACCESS = {"text": "Adgang", "kind": "choice", "options": ["Trappefri", "Teleslynge"]}
USEFUL = {"text": "Hvor nyttigt var mødet?", "kind": "scale"}


async def test_a_network_keeps_its_year_settings_and_announces_them(
    api: Api, database_url: str
) -> None:
    network = await api.network(
        auto_register=True,
        term_ends_at="2026-12-31T23:00:00Z",
        waitlist="offer",
        offer_hours=48,
        proposals="moderated",
    )
    assert (network["auto_register"], network["waitlist"], network["offer_hours"]) == (
        True,
        "offer",
        48,
    )
    assert network["proposals"] == "moderated"
    assert datetime.fromisoformat(network["term_ends_at"]).year == 2026

    changed = await api.client.patch(
        f"/networks/{network['network_id']}",
        json={"proposals": "open", "waitlist": "automatic"},
        headers=ORGANISER,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["proposals"], changed.json()["offer_hours"]) == ("open", 48)

    [created] = await _events(database_url, "NetworkCreated")
    [updated] = await _events(database_url, "NetworkUpdated")
    assert created["payload"]["auto_register"] is True
    assert updated["payload"]["proposals"] == "open"


async def test_a_meeting_keeps_its_agenda_questions_and_co_hosts_with_ids_that_last(
    api: Api, database_url: str
) -> None:
    host = await api.network()
    partner = await api.network(title="Klimapolitisk netværk")
    meeting = await api.meeting(
        host["network_id"],
        co_hosts=[partner["network_id"]],
        agenda=[{"title": "Velkomst", "speakers": ["Anne Bæk"]}],
        questions=[DIET, ACCESS],
        answers_retention_days=30,
        feedback=[USEFUL],
        waitlist="offer",
        offer_hours=24,
    )
    assert meeting["co_hosts"] == [partner["network_id"]]
    assert meeting["agenda"][0]["speakers"] == ["Anne Bæk"]
    assert [q["kind"] for q in meeting["questions"]] == ["text", "choice"]
    assert (meeting["feedback"][0]["min"], meeting["feedback"][0]["max"]) == (1, 5)
    kept_id = meeting["questions"][1]["question_id"]
    uuid.UUID(kept_id)

    edited = {**ACCESS, "question_id": kept_id, "options": ["Trappefri", "Tolk"]}
    changed = await api.client.patch(
        f"/meetings/{meeting['meeting_id']}", json={"questions": [edited]}, headers=ORGANISER
    )
    assert changed.status_code == 200, changed.text
    assert [q["question_id"] for q in changed.json()["questions"]] == [kept_id]
    assert changed.json()["agenda"] == meeting["agenda"]  # left out, kept

    [scheduled] = await _events(database_url, "MeetingScheduled")
    assert scheduled["payload"]["co_hosts"] == [partner["network_id"]]
    assert scheduled["payload"]["answers_retention_days"] == 30
    [updated] = await _events(database_url, "MeetingUpdated")
    assert updated["payload"]["changed"] == ["questions"]


async def test_a_question_that_cannot_be_answered_is_refused_naming_it(api: Api) -> None:
    network = await api.network()
    for question, where in (
        ({"text": "Adgang", "kind": "choice", "options": ["Trappefri"]}, "questions"),
        ({"text": "Nytte", "kind": "scale", "min": 5, "max": 1}, "questions"),
        ({"text": "Kost", "kind": "text", "options": ["a", "b"]}, "questions"),
    ):
        answer = await api.client.post(
            f"/networks/{network['network_id']}/meetings",
            json={
                "title": "Møde",
                "starts_at": "2030-01-01T10:00:00Z",
                "ends_at": "2030-01-01T12:00:00Z",
                "capacity": 10,
                "questions": [question],
            },
            headers=ORGANISER,
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert where in answer.text

    nulled = await api.client.post(
        f"/networks/{network['network_id']}/meetings",
        json={
            "title": "Møde",
            "starts_at": "2030-01-01T10:00:00Z",
            "ends_at": "2030-01-01T12:00:00Z",
            "capacity": 10,
            "co_hosts": [network["network_id"], network["network_id"]],
        },
        headers=ORGANISER,
    )
    assert nulled.status_code == 422
    assert "co_hosts" in nulled.text
