"""A joint meeting counts for its network and for each co-host in their own reports, and once in
any total across networks; an enrolment ended with its network's term is no active member."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from reporting import projection
from tests.builders import REPORTING
from tests.reporting.story import DAY, Story
from tilmeld_shared.events import EnrolmentEnded, MeetingScheduled


async def _apply(pool: asyncpg.Pool, events: list[Any]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, events)


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, headers=REPORTING, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def joint_meeting(host: Story, co_host: Story) -> uuid.UUID:
    meeting = uuid.uuid4()
    host.add(
        meeting,
        MeetingScheduled(
            meeting_id=meeting,
            network_id=host.network,
            title="Fælles møde om klimapolitik",
            starts_at=DAY - timedelta(days=5),
            ends_at=DAY - timedelta(days=5) + timedelta(hours=3),
            timezone="Europe/Copenhagen",
            capacity=40,
            co_hosts=[co_host.network],
        ),
    )
    return meeting


@pytest.fixture
async def networks(pool: asyncpg.Pool) -> tuple[Story, Story, uuid.UUID]:
    """Green transition (host) and climate policy (co-host) of one organisation: a joint meeting
    with one person from each, and a meeting of each network's own with one person."""
    organisation = uuid.uuid4()
    green, climate = Story(), Story()
    green.created("Grøn omstilling", organisation)
    climate.created("Klimapolitik", organisation)
    from_green = green.member("Helsingør", DAY - timedelta(days=30))
    from_climate = climate.member("Køge", DAY - timedelta(days=30))
    joint = joint_meeting(green, climate)
    # Its registrations carry the host's network, as registration writes them.
    green.registration(joint, from_green, "Helsingør", DAY - timedelta(days=9), came=True)
    green.registration(joint, from_climate, "Køge", DAY - timedelta(days=8), came=True)
    own_green = green.meeting(DAY - timedelta(days=20))
    green.registration(own_green, from_green, "Helsingør", DAY - timedelta(days=25))
    own_climate = climate.meeting(DAY - timedelta(days=15))
    climate.registration(own_climate, from_climate, "Køge", DAY - timedelta(days=25))
    await _apply(pool, green.events + climate.events)
    return green, climate, joint


async def test_a_joint_meeting_counts_for_the_host_and_the_co_host(
    client: httpx.AsyncClient, networks: tuple[Story, Story, uuid.UUID]
) -> None:
    green, climate, _ = networks

    for story in (green, climate):
        report = await _get(client, f"/reports/networks/{story.network}")
        assert (report["meetings_scheduled"], report["registrations_confirmed"]) == (2, 3)
        assert report["attended"] == 2


async def test_totals_across_networks_count_a_joint_meeting_once(
    client: httpx.AsyncClient, networks: tuple[Story, Story, uuid.UUID]
) -> None:
    _, climate, joint = networks

    everywhere = await _get(client, "/reports/municipalities")
    of_climate = await _get(client, "/reports/municipalities", network_id=str(climate.network))
    all_meetings = await _get(client, "/reports/meetings")
    climate_meetings = await _get(client, "/reports/meetings", network_id=str(climate.network))
    series = await _get(client, "/reports/timeseries", metric="registrations", bucket="week")
    climate_series = await _get(
        client,
        "/reports/timeseries",
        metric="registrations",
        bucket="week",
        network_id=str(climate.network),
    )

    assert sum(m["registrations_confirmed"] for m in everywhere["items"]) == 4
    assert sum(m["attended"] for m in everywhere["items"]) == 2
    assert sum(m["registrations_confirmed"] for m in of_climate["items"]) == 3
    assert [m["meeting_id"] for m in all_meetings["items"]].count(str(joint)) == 1
    assert len(all_meetings["items"]) == 3
    assert str(joint) in [m["meeting_id"] for m in climate_meetings["items"]]
    assert len(climate_meetings["items"]) == 2
    assert sum(point["value"] for point in series) == 4
    assert sum(point["value"] for point in climate_series) == 3


async def test_an_enrolment_ended_with_the_term_is_no_active_member_nor_a_cancellation(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    story.member("Helsingør", DAY - timedelta(days=300))
    leaving = story.member("Køge", DAY - timedelta(days=300))
    enrolment = next(
        envelope.aggregate_id
        for envelope, payload in story.events
        if getattr(payload, "member_id", None) == leaving
    )
    story.add(
        enrolment,
        EnrolmentEnded(
            enrolment_id=enrolment,
            network_id=story.network,
            member_id=leaving,
            municipality="Køge",
            language="da",
            cancelled_at=DAY,
        ),
    )
    await _apply(pool, story.events)

    report = await _get(client, f"/reports/networks/{story.network}")
    municipalities = await _get(client, "/reports/municipalities", network_id=str(story.network))

    assert (report["members_active"], report["enrolments_total"]) == (1, 2)
    assert (report["enrolments_ended"], report["enrolments_cancelled"]) == (1, 0)
    assert {m["municipality"]: m["members_active"] for m in municipalities["items"]} == {
        "Helsingør": 1
    }
