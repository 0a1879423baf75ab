"""The dashboard's headline figures (`/reports/overview`) over projected events, in real
Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from reporting import projection
from tests.builders import REPORTING
from tests.reporting.story import Story
from tilmeld_shared.events import EnrolmentCancelled, MemberEnrolled


async def test_the_overview_counts_members_a_week_ago_and_how_full_coming_meetings_are(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    story = Story()
    story.created()
    old = [story.member("Køge", now - timedelta(days=20)) for _ in range(3)]
    story.member("Roskilde", now - timedelta(days=2))  # new this week
    story.member("Herlev", now - timedelta(days=1))
    left = story.member("Odense", now - timedelta(days=30))
    _left(story, left, now - timedelta(days=3))  # a member a week ago, not now
    small = story.meeting(now + timedelta(days=5), capacity=4)
    large = story.meeting(now + timedelta(days=9), capacity=40)
    held = story.meeting(now - timedelta(days=10), capacity=10)
    gone = story.meeting(now + timedelta(days=12), capacity=100)
    story.cancel_meeting(gone, now - timedelta(days=1))
    story.registration(small, old[0], "Køge", now - timedelta(days=4), companions=1)
    story.registration(small, old[1], "Køge", now - timedelta(days=4))
    story.registration(large, old[2], "Køge", now - timedelta(days=4))
    story.registration(held, old[2], "Køge", now - timedelta(days=12), came=True)
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)

    one = await client.get(f"/reports/overview?network_id={story.network}", headers=REPORTING)
    every = (await client.get("/reports/overview", headers=REPORTING)).json()

    assert one.status_code == 200, one.text
    body = one.json()
    assert (body["members_active"], body["members_week_ago"], body["members_change"]) == (5, 4, 1)
    # The two meetings still to start (not the held or the cancelled one): 4 of 44 seats.
    assert (body["meetings_upcoming"], body["seats_offered"], body["seats_confirmed"]) == (2, 44, 4)
    assert body["fill_rate"] == round(4 / 44, 4)
    assert body["as_of"] is not None
    assert {k: v for k, v in every.items() if k != "network_id"} == {
        k: v for k, v in body.items() if k != "network_id"
    }
    assert every["network_id"] is None


async def test_an_overview_without_meetings_has_no_fill_rate_and_an_unknown_network_is_404(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    story.created()
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)

    body = await client.get(f"/reports/overview?network_id={story.network}", headers=REPORTING)
    missing = await client.get(f"/reports/overview?network_id={uuid.uuid4()}", headers=REPORTING)

    assert body.json()["fill_rate"] is None
    assert (body.json()["members_active"], body.json()["meetings_upcoming"]) == (0, 0)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def _left(story: Story, member: uuid.UUID, when: datetime) -> None:
    """The member's enrolment (the story's latest) cancelled at `when`."""
    _, enrolled = story.events[-1]
    assert isinstance(enrolled, MemberEnrolled) and enrolled.member_id == member
    story.add(
        enrolled.enrolment_id,
        EnrolmentCancelled(
            enrolment_id=enrolled.enrolment_id,
            network_id=story.network,
            member_id=member,
            municipality=enrolled.municipality,
            language="da",
            cancelled_at=when,
            cancelled_by="member",
        ),
    )
