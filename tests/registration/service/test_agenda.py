"""A meeting's agenda: timed items within the meeting, proposals of its own networks only, and
a move of the meeting that would leave items outside it refused unless the agenda moves too."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from registration.service import meetings
from registration.service.agenda import in_order
from registration.service.commands import MeetingIn, MeetingPatch
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.builders import meeting_body
from tests.registration.service.conftest import PLATFORM, Given
from tilmeld_shared.problems import Invalid


async def proposal(pool: asyncpg.Pool, network_id: uuid.UUID, status: str = "published") -> str:
    proposal_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO proposals (id, network_id, title, body, status, submitted_at) "
        "VALUES ($1, $2, 'KI im Alltag', 'Erfahrungen teilen', $3, now())",
        proposal_id,
        network_id,
        status,
    )
    return str(proposal_id)


def body_with(agenda: list[dict[str, Any]]) -> dict[str, Any]:
    body = meeting_body()
    return {**body, "agenda": agenda}


def at(body: dict[str, Any], minutes: int) -> str:
    return (datetime.fromisoformat(body["starts_at"]) + timedelta(minutes=minutes)).isoformat()


async def schedule(tx: Transactions, network_id: uuid.UUID, body: dict[str, Any]) -> Any:
    return await meetings.schedule_meeting(
        tx, network_id, MeetingIn.model_validate(body), organiser=PLATFORM, once=as_is()
    )


async def test_an_agenda_with_times_speakers_and_a_proposal_is_kept(
    tx: Transactions, given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    body = meeting_body()
    linked = await proposal(pool, network_id)
    body["agenda"] = [
        {"starts_at": at(body, 0), "title": "Begrüßung", "speakers": ["Anne Melzig"]},
        {"starts_at": at(body, 30), "title": "KI im Alltag", "proposal_id": linked},
        {"title": "Offene Runde"},
    ]

    row = await schedule(tx, network_id, body)

    assert [item["title"] for item in row["agenda"]] == [
        "Begrüßung",
        "KI im Alltag",
        "Offene Runde",
    ]
    assert row["agenda"][0]["speakers"] == ["Anne Melzig"]
    assert row["agenda"][1]["proposal_id"] == linked


async def test_items_outside_the_meeting_are_named_in_the_problem(
    tx: Transactions, given: Given
) -> None:
    network_id = await given.network()
    body = meeting_body()
    body["agenda"] = [
        {"starts_at": at(body, -30), "title": "Kaffee vorher"},
        {"starts_at": at(body, 60), "title": "Vortrag"},
        {"starts_at": at(body, 5 * 60), "title": "Nach dem Ende"},
    ]

    with pytest.raises(Invalid) as refused:
        await schedule(tx, network_id, body)

    assert [error["field"] for error in refused.value.extensions["errors"]] == [
        "agenda.0.starts_at",
        "agenda.2.starts_at",
    ]


async def test_a_proposal_of_another_network_or_a_rejected_one_is_refused(
    tx: Transactions, given: Given, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    elsewhere = await proposal(pool, await given.network())
    rejected = await proposal(pool, network_id, status="rejected")
    body = meeting_body()
    body["agenda"] = [
        {"title": "Fremd", "proposal_id": elsewhere},
        {"title": "Abgelehnt", "proposal_id": rejected},
        {"title": "Unbekannt", "proposal_id": str(uuid.uuid4())},
    ]

    with pytest.raises(Invalid) as refused:
        await schedule(tx, network_id, body)

    assert [error["field"] for error in refused.value.extensions["errors"]] == [
        "agenda.0.proposal_id",
        "agenda.1.proposal_id",
        "agenda.2.proposal_id",
    ]


def test_a_blank_title_is_invalid_input() -> None:
    with pytest.raises(ValueError, match="title"):
        MeetingIn.model_validate(body_with([{"title": "   "}]))


async def test_moving_the_meeting_away_from_its_agenda_needs_the_agenda_moved_too(
    tx: Transactions, ctx: ServiceContext, given: Given
) -> None:
    network_id = await given.network()
    body = meeting_body()
    body["agenda"] = [{"starts_at": at(body, 60), "title": "Vortrag"}]
    meeting_id = (await schedule(tx, network_id, body))["id"]
    later = {
        "starts_at": at(body, 7 * 24 * 60),
        "ends_at": at(body, 7 * 24 * 60 + 5 * 60),
    }

    with pytest.raises(Invalid) as refused:
        await meetings.update_meeting(
            tx, ctx, meeting_id, MeetingPatch.model_validate(later), organiser=PLATFORM
        )
    moved = await meetings.update_meeting(
        tx,
        ctx,
        meeting_id,
        MeetingPatch.model_validate(
            {**later, "agenda": [{"starts_at": at(body, 7 * 24 * 60 + 60), "title": "Vortrag"}]}
        ),
        organiser=PLATFORM,
    )

    assert refused.value.extensions["errors"][0]["field"] == "agenda.0.starts_at"
    assert moved["starts_at"].isoformat() == datetime.fromisoformat(later["starts_at"]).isoformat()


def test_the_agenda_is_shown_by_time_with_untimed_items_where_they_were_put() -> None:
    agenda = [
        {"starts_at": "2025-03-06T11:00:00+00:00", "title": "B"},
        {"title": "Pause"},
        {"starts_at": "2025-03-06T10:00:00+00:00", "title": "A"},
    ]

    assert [item["title"] for item in in_order(agenda)] == ["A", "Pause", "B"]
