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

# A joint meeting, and its registrations, count for its network and for each co-host (`hosts`);
# each network's row is its own, so nothing here is summed across networks.
NETWORK_REPORTS = """
WITH enrolment_counts AS (
    SELECT network_id,
           count(*) FILTER (WHERE status = 'active') AS members_active,
           count(*) AS enrolments_total,
           count(*) FILTER (WHERE status = 'cancelled') AS enrolments_cancelled,
           count(*) FILTER (WHERE status = 'ended') AS enrolments_ended,
           count(DISTINCT municipality) FILTER (WHERE status = 'active') AS municipalities
    FROM enrolments GROUP BY network_id
), meeting_counts AS (
    SELECT hosts.network_id,
           count(*) FILTER (WHERE m.status <> 'cancelled') AS meetings_scheduled,
           count(*) FILTER (WHERE m.status = 'cancelled') AS meetings_cancelled
    FROM meetings m, unnest(array_prepend(m.network_id, m.co_hosts)) AS hosts(network_id)
    GROUP BY hosts.network_id
), registration_counts AS (
    SELECT hosts.network_id,
           count(*) FILTER (WHERE r.status = 'confirmed') AS registrations_confirmed,
           coalesce(sum(r.seats) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
           count(*) FILTER (WHERE r.status = 'confirmed' AND r.checked_in_at IS NOT NULL)
               AS attended,
           count(*) FILTER (WHERE r.status = 'confirmed' AND m.ends_at < now()
                            AND m.status <> 'cancelled') AS confirmed_in_past_meetings
    FROM registrations r LEFT JOIN meetings m ON m.id = r.meeting_id,
         unnest(array_prepend(r.network_id, coalesce(m.co_hosts, '{}'))) AS hosts(network_id)
    GROUP BY hosts.network_id
)
SELECT n.id AS network_id, n.title,
       coalesce(e.members_active, 0) AS members_active,
       coalesce(e.enrolments_total, 0) AS enrolments_total,
       coalesce(e.enrolments_cancelled, 0) AS enrolments_cancelled,
       coalesce(e.enrolments_ended, 0) AS enrolments_ended,
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

# A municipality is its register entry where the event resolved one (`municipality_id`), else
# the name as typed: `place` keys both kinds apart (a typed name never resolves to an id here),
# so unresolved names keep a row of their own. A resolved one is named as the register names it
# where it is a party, else by the name its people typed most often.
MUNICIPALITY_REPORTS = """
WITH members AS (
    SELECT coalesce('id:' || municipality_id, 'name:' || municipality) AS place,
           municipality_id, max(country) AS country,
           mode() WITHIN GROUP (ORDER BY municipality) AS typed,
           count(DISTINCT coalesce(member_id::text, id::text)) AS members_active,
           count(DISTINCT network_id) AS networks
    FROM enrolments
    WHERE status = 'active' AND ($1::uuid IS NULL OR network_id = $1)
      AND ($4::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $4))
    GROUP BY 1, 2
), participation AS (
    SELECT coalesce('id:' || municipality_id, 'name:' || municipality) AS place,
           municipality_id, max(country) AS country,
           mode() WITHIN GROUP (ORDER BY municipality) AS typed,
           count(*) FILTER (WHERE status = 'confirmed') AS registrations_confirmed,
           count(*) FILTER (WHERE status = 'confirmed' AND checked_in_at IS NOT NULL)
               AS attended
    FROM registrations
    WHERE ($1::uuid IS NULL OR network_id = $1
           OR meeting_id IN (SELECT id FROM meetings WHERE co_hosts @> ARRAY[$1::uuid]))
      AND ($4::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $4))
      AND ($2::timestamptz IS NULL OR registered_at >= $2)
      AND ($3::timestamptz IS NULL OR registered_at < $3)
    GROUP BY 1, 2
), party_counts AS (
    SELECT 'id:' || municipality_id AS place, municipality_id,
           min(country) AS country, min(municipality) AS name,
           count(DISTINCT network_id) AS parties
    FROM parties
    WHERE status = 'joined' AND ($1::uuid IS NULL OR network_id = $1)
      AND ($4::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $4))
    GROUP BY municipality_id
), people AS (
    SELECT coalesce(m.place, p.place) AS place,
           coalesce(m.municipality_id, p.municipality_id) AS municipality_id,
           coalesce(m.country, p.country) AS country,
           coalesce(m.typed, p.typed) AS typed,
           coalesce(m.members_active, 0) AS members_active,
           coalesce(m.networks, 0) AS networks,
           coalesce(p.registrations_confirmed, 0) AS registrations_confirmed,
           coalesce(p.attended, 0) AS attended
    FROM members m FULL JOIN participation p ON p.place = m.place
)
SELECT coalesce(pc.name, pe.typed) AS municipality,
       coalesce(pe.municipality_id, pc.municipality_id) AS municipality_id,
       coalesce(pc.country, pe.country) AS country,
       coalesce(pe.members_active, 0) AS members_active,
       coalesce(pe.networks, 0) AS networks,
       coalesce(pc.parties, 0) AS parties,
       coalesce(pe.registrations_confirmed, 0) AS registrations_confirmed,
       coalesce(pe.attended, 0) AS attended
FROM people pe FULL JOIN party_counts pc ON pc.place = pe.place
ORDER BY members_active DESC, registrations_confirmed DESC, municipality, municipality_id
"""

# A network's parties. A meeting is held once its end has passed and it was not cancelled; a
# party attended it when a confirmed registration from its municipality (matched by the
# resolved id) was checked in. The counts are the municipality's in this network, whatever the
# party's status; only joined parties make up the totals (see PARTIES_TOTALS).
PARTY_REPORTS = """
WITH held AS (
    SELECT id FROM meetings
    WHERE (network_id = $1 OR co_hosts @> ARRAY[$1::uuid])
      AND status <> 'cancelled' AND ends_at < now()
), attendance AS (
    SELECT r.municipality_id, count(DISTINCT r.meeting_id) AS meetings_attended
    FROM registrations r JOIN held ON held.id = r.meeting_id
    WHERE r.status = 'confirmed' AND r.checked_in_at IS NOT NULL
      AND r.municipality_id IS NOT NULL
    GROUP BY r.municipality_id
), members AS (
    SELECT municipality_id, count(*) AS members_active
    FROM enrolments
    WHERE network_id = $1 AND status = 'active' AND municipality_id IS NOT NULL
    GROUP BY municipality_id
), held_count AS (
    SELECT count(*) AS meetings_held FROM held
)
SELECT p.id AS party_id, p.municipality, p.municipality_id, p.country, p.municipality_code,
       p.municipality_kind, p.status, p.applied_at, p.decided_at, p.joined_at,
       coalesce(m.members_active, 0) AS members_active,
       coalesce(a.meetings_attended, 0) AS meetings_attended,
       hc.meetings_held,
       CASE WHEN hc.meetings_held > 0
            THEN round(coalesce(a.meetings_attended, 0)::numeric / hc.meetings_held, 4)
            ELSE 0 END AS coverage
FROM parties p
CROSS JOIN held_count hc
LEFT JOIN members m ON m.municipality_id = p.municipality_id
LEFT JOIN attendance a ON a.municipality_id = p.municipality_id
WHERE p.network_id = $1
ORDER BY p.municipality, p.id
"""

# The network's side of its parties report (NULL: no such network, or another organisation's).
PARTIES_NETWORK = """
SELECT n.id AS network_id, n.title,
       (SELECT count(*) FROM meetings m
        WHERE (m.network_id = n.id OR m.co_hosts @> ARRAY[n.id])
          AND m.status <> 'cancelled' AND m.ends_at < now())
           AS meetings_held,
       (SELECT count(*) FROM enrolments e WHERE e.network_id = n.id AND e.status = 'active')
           AS members_active,
       (SELECT count(*) FROM enrolments e
        WHERE e.network_id = n.id AND e.status = 'active' AND e.municipality_id IS NULL)
           AS members_unresolved
FROM networks n
WHERE n.id = $1 AND ($2::uuid IS NULL OR n.organisation_id = $2)
"""

# Each metric is a count of moments: when people enrolled, registered, or cancelled.
TIMESERIES_SOURCES = {
    "enrolments": ("enrolments", "enrolled_at"),
    "registrations": ("registrations", "registered_at"),
    "cancellations": ("registrations", "cancelled_at"),
}
# A network's own rows: its enrolments; the registrations of the meetings it hosts or co-hosts.
TIMESERIES_OF_NETWORK = {
    "enrolments": "network_id = $2",
    "registrations": "(network_id = $2 OR meeting_id IN "
    "(SELECT id FROM meetings WHERE co_hosts @> ARRAY[$2::uuid]))",
}

TIMESERIES = """
SELECT date_trunc($1, {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start,
       count(*) AS value
FROM {table}
WHERE {column} IS NOT NULL
  AND ($2::uuid IS NULL OR {of_network})
  AND ($5::uuid IS NULL OR network_id IN (SELECT id FROM networks WHERE organisation_id = $5))
  AND ($3::timestamptz IS NULL OR {column} >= $3)
  AND ($4::timestamptz IS NULL OR {column} < $4)
GROUP BY 1
ORDER BY 1
"""

# The headline figures over the networks in scope (one, or all the reader may see): members now
# and a week before `$2` (a person once, whatever their networks; an enrolment counts from its
# `enrolled_at` until its `cancelled_at`, which ending with the term sets too), and the meetings
# still to start, each once (also when several networks in scope host it), with their seats.
# `networks` is 0 when the asked-for network is unknown or another organisation's.
OVERVIEW = """
WITH scope AS (
    SELECT id FROM networks
    WHERE ($1::uuid IS NULL OR id = $1) AND ($3::uuid IS NULL OR organisation_id = $3)
), members AS (
    SELECT count(DISTINCT coalesce(member_id::text, id::text)) FILTER (WHERE status = 'active')
               AS members_active,
           count(DISTINCT coalesce(member_id::text, id::text)) FILTER (
               WHERE coalesce(enrolled_at, '-infinity') <= ($2::timestamptz - interval '7 days')
                 AND (cancelled_at IS NULL OR cancelled_at > ($2::timestamptz - interval '7 days'))
           ) AS members_week_ago
    FROM enrolments WHERE network_id IN (SELECT id FROM scope)
), upcoming AS (
    SELECT m.id, m.capacity FROM meetings m
    WHERE m.status <> 'cancelled' AND m.starts_at >= $2::timestamptz
      AND (m.network_id IN (SELECT id FROM scope) OR m.co_hosts && ARRAY(SELECT id FROM scope))
), seats AS (
    SELECT coalesce(sum(r.seats) FILTER (WHERE r.status = 'confirmed'), 0) AS seats_confirmed,
           count(*) FILTER (WHERE r.status = 'waitlisted') AS waitlisted
    FROM registrations r WHERE r.meeting_id IN (SELECT id FROM upcoming)
)
SELECT (SELECT count(*) FROM scope) AS networks,
       members.members_active, members.members_week_ago,
       (SELECT count(*) FROM upcoming) AS meetings_upcoming,
       (SELECT coalesce(sum(capacity), 0) FROM upcoming) AS seats_offered,
       seats.seats_confirmed, seats.waitlisted
FROM members, seats
"""

MEETING_REPORTS = f"""
SELECT m.id AS meeting_id, m.network_id, n.title AS network_title, m.title, m.starts_at,
       m.ends_at, m.status, m.capacity,
{MEETING_COUNTS}
FROM meetings m
LEFT JOIN networks n ON n.id = m.network_id
LEFT JOIN registrations r ON r.meeting_id = m.id
WHERE ($1::uuid IS NULL OR m.network_id = $1 OR m.co_hosts @> ARRAY[$1::uuid])
  AND ($5::uuid IS NULL OR n.organisation_id = $5)
  AND ($2::timestamptz IS NULL OR m.starts_at >= $2)
  AND ($3::timestamptz IS NULL OR m.starts_at < $3)
GROUP BY m.id, n.title
ORDER BY m.starts_at, m.id
LIMIT $4
"""

MEMBER_FACTS = {
    "enrolments": "SELECT id, network_id, municipality, municipality_id, country, status, "
    "enrolled_at, cancelled_at FROM enrolments WHERE member_id = $1",
    "registrations": "SELECT id, meeting_id, network_id, municipality, municipality_id, country, "
    "status, seats, companions, registered_at, cancelled_at, checked_in_at "
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


async def parties_network(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(PARTIES_NETWORK, network_id, organisation_id)


async def party_reports(conn: Connection, network_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(PARTY_REPORTS, network_id)


async def overview(
    conn: Connection,
    *,
    network_id: uuid.UUID | None,
    at: datetime,
    organisation_id: uuid.UUID | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(OVERVIEW, network_id, at, organisation_id)
    assert row is not None  # an aggregate: always one row
    return row


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
        TIMESERIES.format(table=table, column=column, of_network=TIMESERIES_OF_NETWORK[table]),
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
