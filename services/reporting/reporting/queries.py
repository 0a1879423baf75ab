"""The reports, computed from the projected facts (read by `reporting.repository.reports`).
Counting rules are in docs/api.md."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from reporting.repository import reports as repository
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Invalid, NotFound


def _meeting_row(row: asyncpg.Record) -> dict[str, Any]:
    report = dict(row)
    capacity = report["capacity"]
    report["utilisation"] = round(report["seats_confirmed"] / capacity, 4) if capacity else None
    return report


async def meeting_report(
    conn: Connection, meeting_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    row = await repository.meeting_report(conn, meeting_id, organisation_id=organisation_id)
    if row is None:
        raise NotFound(f"No events seen yet for meeting {meeting_id}.")
    return {**_meeting_row(row), "as_of": await repository.as_of(conn)}


async def network_reports(
    conn: Connection,
    network_id: uuid.UUID | None = None,
    *,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Every network's report; with an organisation, only that organisation's networks."""
    rows = await repository.network_reports(
        conn, network_id=network_id, organisation_id=organisation_id
    )
    reports = [
        {
            **dict(row),
            "attendance_rate": float(row["attendance_rate"])
            if row["attendance_rate"] is not None
            else None,
        }
        for row in rows
    ]
    return reports, await repository.as_of(conn)


async def network_report(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    reports, as_of = await network_reports(conn, network_id, organisation_id=organisation_id)
    if not reports:
        raise NotFound(f"No events seen yet for network {network_id}.")
    return {**reports[0], "as_of": as_of}


async def municipality_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    rows = await repository.municipality_reports(
        conn, network_id=network_id, since=since, until=until, organisation_id=organisation_id
    )
    return [dict(row) for row in rows], await repository.as_of(conn)


async def party_report(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A network's parties, each with its members and the held meetings it attended, and the
    network's totals (joined parties only: applied, declined and withdrawn ones are listed with
    their status but not counted)."""
    network = await repository.parties_network(conn, network_id, organisation_id=organisation_id)
    if network is None:
        raise NotFound(f"No events seen yet for network {network_id}.")
    parties = [
        {**dict(row), "coverage": float(row["coverage"])}
        for row in await repository.party_reports(conn, network_id)
    ]
    joined = [party for party in parties if party["status"] == "joined"]
    held = network["meetings_held"]
    return {
        **dict(network),
        "parties_joined": len(joined),
        "parties_absent": sum(1 for party in joined if held and not party["meetings_attended"]),
        "members_from_parties": sum(party["members_active"] for party in joined),
        "items": parties,
        "as_of": await repository.as_of(conn),
        "next_cursor": None,
    }


async def overview(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The dashboard's headline figures: members now and a week ago, and how full the meetings
    still to start are (seats taken of the seats offered)."""
    row = await repository.overview(
        conn,
        network_id=network_id,
        at=at if at is not None else datetime.now(UTC),
        organisation_id=organisation_id,
    )
    if network_id is not None and not row["networks"]:
        raise NotFound(f"No events seen yet for network {network_id}.")
    report = dict(row)
    del report["networks"]
    offered = report["seats_offered"]
    return {
        "network_id": network_id,
        **report,
        "members_change": report["members_active"] - report["members_week_ago"],
        "fill_rate": round(report["seats_confirmed"] / offered, 4) if offered else None,
        "as_of": await repository.as_of(conn),
    }


async def timeseries(
    conn: Connection,
    *,
    metric: str,
    bucket: str,
    network_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Counts per day or week, one point for every bucket of the range (zero where nothing
    happened): from `since` (else the first count) up to `until` (else the last count)."""
    first = _day(since) if since is not None else None
    last = _day_before(until) if until is not None else None
    if first is not None and last is not None:
        _check_bucket_count(first, last, bucket)  # before any work
    rows = await repository.timeseries_counts(
        conn,
        metric=metric,
        bucket=bucket,
        network_id=network_id,
        since=since,
        until=until,
        organisation_id=organisation_id,
    )
    counts = {_day(row["bucket_start"]): row["value"] for row in rows}
    first = first if first is not None else min(counts, default=None)
    last = last if last is not None else max(counts, default=None)
    if first is None or last is None:  # an open end and nothing counted: no range to show
        return [], await repository.as_of(conn)
    _check_bucket_count(first, last, bucket)
    points = [
        {
            "bucket_start": datetime.combine(date.fromordinal(day), time(), tzinfo=UTC),
            "value": counts.get(day, 0),
        }
        for day in _buckets(first, last, bucket)
    ]
    return points, await repository.as_of(conn)


async def meeting_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    limit: int,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    rows = await repository.meeting_reports(
        conn,
        network_id=network_id,
        since=since,
        until=until,
        limit=limit,
        organisation_id=organisation_id,
    )
    return [_meeting_row(row) for row in rows], await repository.as_of(conn)


# A series longer than this is a mistake in the request, not a chart: ten years of days.
MAX_BUCKETS = 3660

# Days are counted as day numbers (`date.toordinal`, day 1 = Monday 1 January of year 1), so the
# arithmetic cannot overflow at the ends of the calendar. Buckets are UTC days and ISO weeks
# (from Monday), as `date_trunc` makes them in the repository's TIMESERIES.


def _day(moment: datetime) -> int:
    """The number of the UTC day holding the moment."""
    return moment.astimezone(UTC).date().toordinal()


def _day_before(until: datetime) -> int:
    """The number of the last UTC day before `until` (which is exclusive)."""
    utc = until.astimezone(UTC)
    return utc.date().toordinal() - (1 if utc.time() == time() else 0)


def _buckets(first: int, last: int, bucket: str) -> range:
    """The first day of every bucket from the one holding day `first` to the one holding `last`."""
    if bucket == "week":
        return range(first - (first - 1) % 7, last - (last - 1) % 7 + 1, 7)
    return range(first, last + 1)


def _check_bucket_count(first: int, last: int, bucket: str) -> None:
    if len(_buckets(first, last, bucket)) > MAX_BUCKETS:
        raise Invalid(
            f"From `from` to `to` is more than {MAX_BUCKETS} {bucket}s; narrow the range"
            + (" or count by week." if bucket == "day" else ".")
        )


async def member_facts(conn: Connection, member_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """What is kept under a person's (random) id: enrolments and registrations, no names."""
    return await repository.member_facts(conn, member_id)
