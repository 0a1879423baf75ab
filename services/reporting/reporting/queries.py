"""The reports, computed from the projected facts. Counting rules are in the README."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.problems import NotFound

AS_OF = "SELECT newest_event_at FROM progress"

MEETING_REPORT = """
SELECT m.id AS meeting_id, m.network_id, m.title, m.starts_at, m.ends_at, m.status, m.capacity,
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
FROM meetings m LEFT JOIN registrations r ON r.meeting_id = m.id
WHERE m.id = $1
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
ORDER BY n.title, n.id
"""


def _meeting_row(row: asyncpg.Record) -> dict[str, Any]:
    report = dict(row)
    capacity = report["capacity"]
    report["utilisation"] = round(report["seats_confirmed"] / capacity, 4) if capacity else None
    return report


async def meeting_report(conn: Connection, meeting_id: uuid.UUID) -> dict[str, Any]:
    row = await conn.fetchrow(MEETING_REPORT, meeting_id)
    if row is None:
        raise NotFound(f"No events seen yet for meeting {meeting_id}.")
    return {**_meeting_row(row), "as_of": await conn.fetchval(AS_OF)}


async def network_reports(
    conn: Connection, network_id: uuid.UUID | None = None
) -> tuple[list[dict[str, Any]], Any]:
    rows = await conn.fetch(NETWORK_REPORTS, network_id)
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


async def network_report(conn: Connection, network_id: uuid.UUID) -> dict[str, Any]:
    reports, as_of = await network_reports(conn, network_id)
    if not reports:
        raise NotFound(f"No events seen yet for network {network_id}.")
    return {**reports[0], "as_of": as_of}
