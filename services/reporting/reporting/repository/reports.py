"""Reading the reports: the SQL that counts the projected facts, and functions that run it.

Counting rules are in docs/api.md; shaping the rows into reports is `reporting.queries`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

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

MEMBER_FACTS = {
    "enrolments": "SELECT id, network_id, municipality, status, enrolled_at, cancelled_at "
    "FROM enrolments WHERE member_id = $1",
    "registrations": "SELECT id, meeting_id, network_id, municipality, status, seats, "
    "companions, registered_at, cancelled_at, checked_in_at "
    "FROM registrations WHERE member_id = $1",
}


async def as_of(conn: Connection) -> datetime | None:
    """The time of the newest event applied."""
    newest: datetime | None = await conn.fetchval(AS_OF)
    return newest


async def meeting_report(
    conn: Connection, meeting_id: uuid.UUID, *, organisation_id: uuid.UUID | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(MEETING_REPORT, meeting_id, organisation_id)


async def network_reports(
    conn: Connection, *, network_id: uuid.UUID | None, organisation_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    return await conn.fetch(NETWORK_REPORTS, network_id, organisation_id)


async def municipality_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    organisation_id: uuid.UUID | None,
) -> list[asyncpg.Record]:
    return await conn.fetch(MUNICIPALITY_REPORTS, network_id, since, until, organisation_id)


async def timeseries_counts(
    conn: Connection,
    *,
    metric: str,
    bucket: str,
    network_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
    organisation_id: uuid.UUID | None,
) -> list[asyncpg.Record]:
    """The non-empty buckets of a metric (`bucket_start`, `value`)."""
    table, column = TIMESERIES_SOURCES[metric]
    # Table and column come from the fixed map above, never from the request.
    return await conn.fetch(
        TIMESERIES.format(table=table, column=column),
        bucket,
        network_id,
        since,
        until,
        organisation_id,
    )


async def meeting_reports(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    since: Any,
    until: Any,
    limit: int,
    organisation_id: uuid.UUID | None,
) -> list[asyncpg.Record]:
    return await conn.fetch(MEETING_REPORTS, network_id, since, until, limit, organisation_id)


async def member_facts(conn: Connection, member_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every fact kept under the person's (random) id, by table."""
    return {
        name: [dict(row) for row in await conn.fetch(sql, member_id)]
        for name, sql in MEMBER_FACTS.items()
    }
