"""The reports API over projected events, against real Postgres."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from reporting import projection
from tests.builders import REPORTING
from tests.reporting.story import DAY, Story
from tilmeld_shared.events import MemberEnrolled, MemberErased


@pytest.fixture
async def story(pool: asyncpg.Pool) -> Story:
    story = Story()
    story.created()
    koege = story.member("Køge", DAY)
    roskilde = story.member("Roskilde", DAY + timedelta(days=1))
    herlev = story.member("Herlev", DAY + timedelta(days=8))
    past = story.meeting(DAY - timedelta(days=30))
    upcoming = story.meeting(datetime.now(UTC) + timedelta(days=30), capacity=4)
    story.registration(past, koege, "Køge", DAY - timedelta(days=40), came=True)
    story.registration(past, roskilde, "Roskilde", DAY - timedelta(days=40))
    story.registration(upcoming, koege, "Køge", DAY, companions=1)
    story.registration(
        upcoming, herlev, "Herlev", DAY + timedelta(days=1), cancelled_at=DAY + timedelta(days=9)
    )
    story.past, story.upcoming = past, upcoming  # type: ignore[attr-defined]
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)
    return story


async def test_a_meeting_report_counts_seats_companions_and_no_shows(
    client: httpx.AsyncClient, story: Story
) -> None:
    past = (await client.get(f"/reports/meetings/{story.past}", headers=REPORTING)).json()
    upcoming = (await client.get(f"/reports/meetings/{story.upcoming}", headers=REPORTING)).json()

    assert (past["registrations_confirmed"], past["attended"], past["no_shows"]) == (2, 1, 1)
    assert upcoming["no_shows"] is None  # not ended yet
    assert (
        upcoming["seats_confirmed"],
        upcoming["companions_confirmed"],
        upcoming["cancelled"],
        upcoming["utilisation"],
    ) == (2, 1, 1, 0.5)
    assert upcoming["as_of"] is not None


async def test_the_network_report_and_attendance_rate(
    client: httpx.AsyncClient, story: Story
) -> None:
    report = (await client.get(f"/reports/networks/{story.network}", headers=REPORTING)).json()

    assert report["members_active"] == 3
    assert report["municipalities"] == 3
    assert report["meetings_scheduled"] == 2
    assert report["registrations_confirmed"] == 3
    assert report["attendance_rate"] == 0.5  # 1 of the 2 confirmed at the meeting that ended


async def test_municipalities_count_members_and_participation(
    client: httpx.AsyncClient, story: Story
) -> None:
    body = (await client.get("/reports/municipalities", headers=REPORTING)).json()

    by_name = {row["municipality"]: row for row in body["items"]}
    assert by_name["Køge"] == {
        "municipality": "Køge",
        "municipality_id": None,  # typed, not resolved: kept as typed
        "country": None,
        "members_active": 1,
        "networks": 1,
        "parties": 0,
        "registrations_confirmed": 2,
        "attended": 1,
    }
    assert by_name["Herlev"]["registrations_confirmed"] == 0


async def test_the_time_series_fills_empty_days_and_buckets_weeks(
    client: httpx.AsyncClient, story: Story
) -> None:
    daily = (
        await client.get(
            "/reports/timeseries",
            headers=REPORTING,
            params={"metric": "enrolments", "bucket": "day"},
        )
    ).json()
    weekly = (
        await client.get(
            "/reports/timeseries",
            headers=REPORTING,
            params={
                "metric": "enrolments",
                "bucket": "week",
                "from": DAY.isoformat(),
                "to": (DAY + timedelta(days=14)).isoformat(),
            },
        )
    ).json()

    assert [p["value"] for p in daily] == [1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert daily[0]["bucket_start"].startswith("2026-03-02")
    assert [(p["bucket_start"][:10], p["value"]) for p in weekly] == [
        ("2026-03-02", 2),
        ("2026-03-09", 1),
        ("2026-03-16", 0),  # `to` is Monday the 16th, 09:00: that week has begun
    ]


async def test_the_time_series_covers_the_whole_requested_range_with_zeros(
    client: httpx.AsyncClient, story: Story
) -> None:
    daily = await client.get(
        "/reports/timeseries",
        headers=REPORTING,
        params={
            "metric": "enrolments",
            "from": (DAY - timedelta(days=3)).isoformat(),  # Friday 27 February, 09:00
            "to": datetime(2026, 3, 14, tzinfo=UTC).isoformat(),  # exclusive: up to the 13th
        },
    )

    points = [(p["bucket_start"][:10], p["value"]) for p in daily.json()]
    assert points[:4] == [
        ("2026-02-27", 0),
        ("2026-02-28", 0),
        ("2026-03-01", 0),
        ("2026-03-02", 1),
    ]
    assert points[-4:] == [
        ("2026-03-10", 1),
        ("2026-03-11", 0),
        ("2026-03-12", 0),
        ("2026-03-13", 0),
    ]
    assert len(points) == 15


async def test_a_range_without_any_counts_is_still_every_bucket_with_zero(
    client: httpx.AsyncClient, story: Story
) -> None:
    quiet = {"from": "2025-06-01T00:00:00Z", "to": "2025-06-15T00:00:00+02:00"}

    daily = await client.get(
        "/reports/timeseries", headers=REPORTING, params={"metric": "cancellations", **quiet}
    )
    weekly = await client.get(
        "/reports/timeseries",
        headers=REPORTING,
        params={"metric": "registrations", "bucket": "week", **quiet},
    )

    assert [p["value"] for p in daily.json()] == [0] * 14  # 1 to 14 June, UTC
    assert [(p["bucket_start"][:10], p["value"]) for p in weekly.json()] == [
        ("2025-05-26", 0),
        ("2025-06-02", 0),
        ("2025-06-09", 0),
    ]


async def test_an_absurdly_long_time_series_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/reports/timeseries",
        headers=REPORTING,
        params={
            "metric": "enrolments",
            "from": "1900-01-01T00:00:00Z",
            "to": "2100-01-01T00:00:00Z",
        },
    )
    weekly = await client.get(
        "/reports/timeseries",
        headers=REPORTING,
        params={
            "metric": "enrolments",
            "bucket": "week",
            "from": "2000-01-01T00:00:00Z",
            "to": "2040-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    weeks = weekly.json()  # forty years by week is fine
    assert (weeks[0]["bucket_start"][:10], weeks[-1]["bucket_start"][:10]) == (
        "1999-12-27",
        "2039-12-26",
    )
    assert len(weeks) == 2088


async def test_times_at_the_ends_of_the_calendar_are_answered_not_errors(
    client: httpx.AsyncClient, story: Story
) -> None:
    before_year_one = {"from": "0001-01-01T00:00:00+01:00"}  # 31 December of year 0, in UTC
    nothing_before = {"metric": "enrolments", "to": "0001-01-01T00:00:00Z"}

    for path in ("/reports/timeseries", "/reports/meetings", "/reports/municipalities"):
        answer = await client.get(
            path, headers=REPORTING, params={"metric": "enrolments", **before_year_one}
        )
        assert answer.status_code == 422, path
    empty = await client.get("/reports/timeseries", headers=REPORTING, params=nothing_before)
    assert (empty.status_code, empty.json()) == (200, [])


async def test_reports_come_as_csv_when_asked(client: httpx.AsyncClient, story: Story) -> None:
    response = await client.get(
        "/reports/municipalities", headers={**REPORTING, "Accept": "text/csv"}
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.headers["content-type"].startswith("text/csv")
    assert {"municipality", "members_active", "as_of"} <= rows[0].keys()
    assert {row["municipality"] for row in rows} == {"Køge", "Roskilde", "Herlev"}


async def test_a_municipality_typed_as_a_formula_comes_out_of_the_csv_as_text(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    story = Story()
    formulas = ['=HYPERLINK("http://evil.example","Køge")', "+45 Køge", "-1+Herlev", "@SUM(A1)"]
    for municipality in formulas:
        story.member(municipality, DAY)
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events)

    response = await client.get(
        "/reports/municipalities", headers={**REPORTING, "Accept": "text/csv"}
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["municipality"] for row in rows) == sorted("'" + m for m in formulas)
    assert {row["members_active"] for row in rows} == {"1"}  # numbers stay numbers


async def test_reports_need_a_reporting_or_organiser_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/reports/networks")).status_code == 401
    assert (
        await client.get("/reports/networks", headers={"Authorization": "Bearer x"})
    ).status_code == 401
    assert (
        await client.get("/reports/timeseries", headers=REPORTING, params={"metric": "nonsense"})
    ).status_code == 422


async def test_an_erased_members_id_leaves_reporting_and_stays_out(
    pool: asyncpg.Pool, story: Story
) -> None:
    member = story.member("Ishøj", DAY)
    story.add(member, MemberErased(member_id=member, erased_at=DAY))
    late = uuid.uuid4()  # an event about the member arriving after the erasure
    story.add(
        late,
        MemberEnrolled(
            enrolment_id=late,
            network_id=story.network,
            member_id=member,
            municipality="Ishøj",
            role="x",
            language="da",
            enrolled_at=DAY,
        ),
    )
    async with pool.acquire() as conn, conn.transaction():
        await projection.apply_batch(conn, story.events[-3:])

    found = await pool.fetchval("SELECT count(*) FROM enrolments WHERE member_id = $1", member)
    assert found == 0
    assert await pool.fetchval("SELECT count(*) FROM enrolments WHERE municipality = 'Ishøj'") == 2
