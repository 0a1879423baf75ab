"""The reports, computed from the projected facts. Counting rules are in the README."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Invalid, NotFound

AS_OF = "SELECT newest_event_at FROM progress"

# A meeting's counts over its registrations (`m` the meeting, `r` its registrations).
MEETING_COUNTS = """
       coalesce(sum(r.seats) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
       count(r.id) FILTER (WHERE r.status = 'confirmed') AS registrations_confirmed,
       coalesce(sum(r.companions) FILTER (WHERE r.status = 'confirmed'), 0)
           AS companions_confirmed,
       count(r.id) FILTER (WHERE r.status = 'waitlisted') AS waitlisted,
       count(r.id) FILTER (WHERE r.status = 'cancelled') AS cancelled,
       count(r.id) FILTER (WHERE r.status = 'confirmed' AND r.checked_in_at IS NOT NULL)
           AS attended,
       CASE WHEN m.ends_at < now() AND m.status <> 'cancelled' THEN
           count(r.id) FILTER (WHERE r.status = 'confirmed' AND r.checked_in_at IS NULL)
       END AS no_shows
"""

MEETING_REPORT = f"""
SELECT m.id AS meeting_id, m.network_id, m.title, m.starts_at, m.ends_at, m.status, m.capacity,
{MEETING_COUNTS}
FROM meetings m LEFT JOIN registrations r ON r.meeting_id = m.id
WHERE m.id = $1
  AND ($2::uuid IS NULL OR m.network_id IN (SELECT id FROM networks WHERE organisation_id = $2))
GROUP BY m.id
"""

NETWORK_REPORTS = """
WITH enrolment_counts AS (
    SELECT network_id,
           count(*) FILTER (WHERE status = 'active') AS members_active,
           count(*) AS enrolments_total,
           count(*) FILTER (WHERE status = 'cancelled') AS enrolments_cancelled,
           count(DISTINCT municipality) FILTER (WHERE status = 'active') AS municipalities
    FROM enrolments GROUP BY network_id
), meeting_counts AS (
    SELECT network_id,
           count(*) FILTER (WHERE status <> 'cancelled') AS meetings_scheduled,
           count(*) FILTER (WHERE status = 'cancelled') AS meetings_cancelled
    FROM meetings GROUP BY network_id
), registration_counts AS (
    SELECT r.network_id,
           count(*) FILTER (WHERE r.status = 'confirmed') AS registrations_confirmed,
           coalesce(sum(r.seats) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
           count(*) FILTER (WHERE r.status = 'confirmed' AND r.checked_in_at IS NOT NULL)
               AS attended,
           count(*) FILTER (WHERE r.status = 'confirmed' AND m.ends_at < now()
                            AND m.status <> 'cancelled') AS confirmed_in_past_meetings
    FROM registrations r LEFT JOIN meetings m ON m.id = r.meeting_id
    GROUP BY r.network_id
)
SELECT n.id AS network_id, n.title,
       coalesce(e.members_active, 0) AS members_active,
       coalesce(e.enrolments_total, 0) AS enrolments_total,
       coalesce(e.enrolments_cancelled, 0) AS enrolments_cancelled,
       coalesce(mc.meetings_scheduled, 0) AS meetings_scheduled,
       coalesce(mc.meetings_cancelled, 0) AS meetings_cancelled,
       coalesce(rc.registrations_confirmed, 0) AS registrations_confirmed,
       coalesce(rc.seats_confirmed, 0) AS seats_confirmed,
       coalesce(rc.attended, 0) AS attended,
       CASE WHEN coalesce(rc.confirmed_in_past_meetings, 0) > 0
            THEN round(rc.attended::numeric / rc.confirmed_in_past_meetings, 4) END
           AS attendance_rate,
       coalesce(e.municipalities, 0) AS municipalities
FROM networks n
LEFT JOIN enrolment_counts e ON e.network_id = n.id
LEFT JOIN meeting_counts mc ON mc.network_id = n.id
LEFT JOIN registration_counts rc ON rc.network_id = n.id
WHERE ($1::uuid IS NULL OR n.id = $1)
  AND ($2::uuid IS NULL OR n.organisation_id = $2)
ORDER BY n.title, n.id
"""


def _meeting_row(row: asyncpg.Record) -> dict[str, Any]:
    report = dict(row)
    capacity = report["capacity"]
    report["utilisation"] = round(report["seats_confirmed"] / capacity, 4) if capacity else None
    return report


async def meeting_report(
    conn: Connection, meeting_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    row = await conn.fetchrow(MEETING_REPORT, meeting_id, organisation_id)
    if row is None:
        raise NotFound(f"No events seen yet for meeting {meeting_id}.")
    return {**_meeting_row(row), "as_of": await conn.fetchval(AS_OF)}


async def network_reports(
    conn: Connection,
    network_id: uuid.UUID | None = None,
    *,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Every network's report; with an organisation, only that organisation's networks."""
    rows = await conn.fetch(NETWORK_REPORTS, network_id, organisation_id)
    reports = [
        {
            **dict(row),
            "attendance_rate": float(row["attendance_rate"])
            if row["attendance_rate"] is not None
            else None,
        }
        for row in rows
    ]
    return reports, await conn.fetchval(AS_OF)


async def network_report(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    reports, as_of = await network_reports(conn, network_id, organisation_id=organisation_id)
    if not reports:
        raise NotFound(f"No events seen yet for network {network_id}.")
    return {**reports[0], "as_of": as_of}


MUNICIPALITY_REPORTS = """
WITH members AS (
    SELECT municipality,
           count(DISTINCT coalesce(member_id::text, id::text)) AS members_active,
           count(DISTINCT network_id) AS networks
    FROM enrolments
    WHERE status = 'active' AND ($1::uuid IS NULL OR network_id = $1)
      AND ($4::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $4))
    GROUP BY municipality
), participation AS (
    SELECT municipality,
           count(*) FILTER (WHERE status = 'confirmed') AS registrations_confirmed,
           count(*) FILTER (WHERE status = 'confirmed' AND checked_in_at IS NOT NULL)
               AS attended
    FROM registrations
    WHERE ($1::uuid IS NULL OR network_id = $1)
      AND ($4::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $4))
      AND ($2::timestamptz IS NULL OR registered_at >= $2)
      AND ($3::timestamptz IS NULL OR registered_at < $3)
    GROUP BY municipality
)
SELECT coalesce(m.municipality, p.municipality) AS municipality,
       coalesce(m.members_active, 0) AS members_active,
       coalesce(m.networks, 0) AS networks,
       coalesce(p.registrations_confirmed, 0) AS registrations_confirmed,
       coalesce(p.attended, 0) AS attended
FROM members m FULL JOIN participation p ON p.municipality = m.municipality
ORDER BY members_active DESC, registrations_confirmed DESC, municipality
"""

# Each metric is a count of moments: when people enrolled, registered, or cancelled.
TIMESERIES_SOURCES = {
    "enrolments": ("enrolments", "enrolled_at"),
    "registrations": ("registrations", "registered_at"),
    "cancellations": ("registrations", "cancelled_at"),
}

TIMESERIES = """
SELECT date_trunc($1, {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start,
       count(*) AS value
FROM {table}
WHERE {column} IS NOT NULL
  AND ($2::uuid IS NULL OR network_id = $2)
  AND ($5::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $5))
  AND ($3::timestamptz IS NULL OR {column} >= $3)
  AND ($4::timestamptz IS NULL OR {column} < $4)
GROUP BY 1
ORDER BY 1
"""

MEETING_REPORTS = f"""
SELECT m.id AS meeting_id, m.network_id, n.title AS network_title, m.title, m.starts_at,
       m.ends_at, m.status, m.capacity,
{MEETING_COUNTS}
FROM meetings m
LEFT JOIN networks n ON n.id = m.network_id
LEFT JOIN registrations r ON r.meeting_id = m.id
WHERE ($1::uuid IS NULL OR m.network_id = $1)
  AND ($5::uuid IS NULL OR n.organisation_id = $5)
  AND ($2::timestamptz IS NULL OR m.starts_at >= $2)
  AND ($3::timestamptz IS NULL OR m.starts_at < $3)
GROUP BY m.id, n.title
ORDER BY m.starts_at, m.id
LIMIT $4
"""


async def municipality_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    rows = await conn.fetch(MUNICIPALITY_REPORTS, network_id, since, until, organisation_id)
    return [dict(row) for row in rows], await conn.fetchval(AS_OF)


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
    table, column = TIMESERIES_SOURCES[metric]
    # Table and column come from the fixed map above, never from the request.
    rows = await conn.fetch(
        TIMESERIES.format(table=table, column=column),
        bucket,
        network_id,
        since,
        until,
        organisation_id,
    )
    counts = {_day(row["bucket_start"]): row["value"] for row in rows}
    first = first if first is not None else min(counts, default=None)
    last = last if last is not None else max(counts, default=None)
    if first is None or last is None:  # an open end and nothing counted: no range to show
        return [], await conn.fetchval(AS_OF)
    _check_bucket_count(first, last, bucket)
    points = [
        {
            "bucket_start": datetime.combine(date.fromordinal(day), time(), tzinfo=UTC),
            "value": counts.get(day, 0),
        }
        for day in _buckets(first, last, bucket)
    ]
    return points, await conn.fetchval(AS_OF)


async def meeting_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    limit: int,
    organisation_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    rows = await conn.fetch(MEETING_REPORTS, network_id, since, until, limit, organisation_id)
    return [_meeting_row(row) for row in rows], await conn.fetchval(AS_OF)


# A series longer than this is a mistake in the request, not a chart: ten years of days.
MAX_BUCKETS = 3660

# Days are counted as day numbers (`date.toordinal`, day 1 = Monday 1 January of year 1), so the
# arithmetic cannot overflow at the ends of the calendar. Buckets are UTC days and ISO weeks
# (from Monday), as `date_trunc` makes them in TIMESERIES.


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
