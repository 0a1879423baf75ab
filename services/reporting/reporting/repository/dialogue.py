"""Member dialogue's facts: set-wise upserts guarded by `aggregate_version` (as in
`repository.projection`), and the SQL that counts them for the reports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from reporting.repository.projection import RowState
from tilmeld_shared.db import Connection

# --- writing -------------------------------------------------------------------------------------

CONSULTATION_FIELDS = (
    "network_id",
    "organisation_id",
    "title",
    "status",
    "audience",
    "audience_size",
    "opens_at",
    "closes_at",
    "questions",
)
UPSERT_CONSULTATIONS = """
INSERT INTO consultations (id, network_id, organisation_id, title, status, audience,
                           audience_size, opens_at, closes_at, questions, aggregate_version)
SELECT new.id, new.network_id, new.organisation_id, new.title, new.status, new.audience,
       new.audience_size, new.opens_at, new.closes_at, new.questions::jsonb, new.version
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[],
            $8::timestamptz[], $9::timestamptz[], $10::text[], $11::int[])
     AS new(id, network_id, organisation_id, title, status, audience, audience_size, opens_at,
            closes_at, questions, version)
ON CONFLICT (id) DO UPDATE
SET network_id = excluded.network_id, organisation_id = excluded.organisation_id,
    title = excluded.title, status = excluded.status, audience = excluded.audience,
    audience_size = excluded.audience_size, opens_at = excluded.opens_at,
    closes_at = excluded.closes_at, questions = excluded.questions,
    aggregate_version = excluded.aggregate_version
WHERE consultations.aggregate_version < excluded.aggregate_version
"""

RESPONSE_FIELDS = (
    "consultation_id",
    "network_id",
    "status",
    "municipality_id",
    "municipality",
    "country",
    "answers",
    "submitted_at",
)
UPSERT_RESPONSES = """
INSERT INTO responses (id, consultation_id, network_id, status, municipality_id, municipality,
                       country, answers, submitted_at, aggregate_version)
SELECT new.id, new.consultation_id, new.network_id, new.status, new.municipality_id,
       new.municipality, new.country, new.answers::jsonb, new.submitted_at, new.version
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[],
            $8::text[], $9::timestamptz[], $10::int[])
     AS new(id, consultation_id, network_id, status, municipality_id, municipality, country,
            answers, submitted_at, version)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, municipality_id = excluded.municipality_id,
    municipality = excluded.municipality, country = excluded.country,
    answers = excluded.answers, submitted_at = excluded.submitted_at,
    aggregate_version = excluded.aggregate_version
WHERE responses.aggregate_version < excluded.aggregate_version
"""

PROPOSAL_FIELDS = (
    "network_id",
    "title",
    "status",
    "counted",
    "meeting_id",
    "submitted_at",
    "decided_at",
)
UPSERT_PROPOSALS = """
INSERT INTO proposals (id, network_id, title, status, counted, meeting_id, submitted_at,
                       decided_at, aggregate_version)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::boolean[], $6::uuid[],
                     $7::timestamptz[], $8::timestamptz[], $9::int[])
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, status = excluded.status, counted = excluded.counted,
    meeting_id = excluded.meeting_id, submitted_at = excluded.submitted_at,
    decided_at = excluded.decided_at, aggregate_version = excluded.aggregate_version
WHERE proposals.aggregate_version < excluded.aggregate_version
"""

VOTE_FIELDS = ("proposal_id", "network_id", "status", "municipality_id", "country", "voted_at")
UPSERT_VOTES = """
INSERT INTO votes (id, proposal_id, network_id, status, municipality_id, country, voted_at,
                   aggregate_version)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[],
                     $7::timestamptz[], $8::int[])
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, municipality_id = excluded.municipality_id,
    country = excluded.country, voted_at = excluded.voted_at,
    aggregate_version = excluded.aggregate_version
WHERE votes.aggregate_version < excluded.aggregate_version
"""

# Free-text answers travel only sealed. Should one ever arrive in clear, it is not kept: answers
# to a consultation's text questions are dropped, whichever of the two was read first.
DROP_TEXT_ANSWERS = """
UPDATE responses r SET answers = r.answers - t.ids
FROM (SELECT c.id, array_agg(q ->> 'question_id') AS ids
      FROM consultations c CROSS JOIN LATERAL jsonb_array_elements(c.questions) AS q
      WHERE c.id = ANY($1::uuid[]) AND q ->> 'kind' = 'text'
      GROUP BY c.id) AS t
WHERE r.consultation_id = t.id AND r.answers ?| t.ids
"""


def _columns(
    rows: Mapping[uuid.UUID, RowState], fields: Sequence[str], as_json: Sequence[str] = ()
) -> list[list[Any]]:
    """The rows as the statements take them: ids, one array per field (JSON ones as text),
    versions."""
    return [
        list(rows),
        *(
            [
                json.dumps(row.values[name]) if name in as_json else row.values[name]
                for row in rows.values()
            ]
            for name in fields
        ),
        [row.version for row in rows.values()],
    ]


async def upsert_consultations(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(
        UPSERT_CONSULTATIONS, *_columns(rows, CONSULTATION_FIELDS, as_json=("questions",))
    )


async def upsert_responses(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(UPSERT_RESPONSES, *_columns(rows, RESPONSE_FIELDS, as_json=("answers",)))


async def drop_text_answers(conn: Connection, consultation_ids: Sequence[uuid.UUID]) -> None:
    await conn.execute(DROP_TEXT_ANSWERS, list(consultation_ids))


async def upsert_proposals(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(UPSERT_PROPOSALS, *_columns(rows, PROPOSAL_FIELDS))


async def upsert_votes(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(UPSERT_VOTES, *_columns(rows, VOTE_FIELDS))


# --- reading -------------------------------------------------------------------------------------

# A consultation as the caller may read it: its network's organisation decides, or, before the
# network is known here, the organisation the consultation names.
CONSULTATION = """
SELECT c.id AS consultation_id, c.network_id, c.title, c.status, c.audience, c.audience_size,
       c.opens_at, c.closes_at, c.questions,
       (SELECT count(*) FROM responses r WHERE r.consultation_id = c.id AND r.status = 'counted')
           AS responses,
       (SELECT count(*) FROM responses r WHERE r.consultation_id = c.id AND r.status = 'pending')
           AS responses_pending
FROM consultations c LEFT JOIN networks n ON n.id = c.network_id
WHERE c.id = $1 AND ($2::uuid IS NULL OR coalesce(n.organisation_id, c.organisation_id) = $2)
"""

# Counted responses per municipality: a register entry where the response resolved one, else
# the name as typed (its own row, `municipality_id` NULL), else one row with no name at all.
# A resolved one is named, numbered and placed as the register does where it is a party of any
# network here, else by the name its people typed most often.
CONSULTATION_MUNICIPALITIES = """
WITH counted AS (
    SELECT coalesce('id:' || municipality_id, 'name:' || municipality) AS place,
           municipality_id, municipality, country
    FROM responses WHERE consultation_id = $1 AND status = 'counted'
), register AS (
    SELECT municipality_id, min(municipality) AS name, min(country) AS country,
           min(municipality_code) AS code
    FROM parties WHERE municipality_id IN (SELECT municipality_id FROM counted)
    GROUP BY municipality_id
), places AS (
    SELECT place, municipality_id, mode() WITHIN GROUP (ORDER BY municipality) AS typed,
           max(country) AS country, count(*) AS responses
    FROM counted GROUP BY place, municipality_id
)
SELECT coalesce(r.name, p.typed) AS municipality, p.municipality_id,
       coalesce(r.country, p.country) AS country, r.code AS municipality_code, p.responses
FROM places p LEFT JOIN register r ON r.municipality_id = p.municipality_id
ORDER BY p.responses DESC, municipality NULLS LAST, p.municipality_id
"""

# How often each value was given to each question, over counted responses.
ANSWER_COUNTS = """
SELECT a.key AS question_id, a.value, count(*) AS count
FROM responses r CROSS JOIN LATERAL jsonb_each(r.answers) AS a
WHERE r.consultation_id = $1 AND r.status = 'counted'
GROUP BY a.key, a.value
"""

NETWORK = """
SELECT id AS network_id, title FROM networks
WHERE id = $1 AND ($2::uuid IS NULL OR organisation_id = $2)
"""

NETWORK_CONSULTATIONS = """
SELECT c.id AS consultation_id, c.title, c.status, c.audience, c.audience_size, c.opens_at,
       c.closes_at,
       count(r.id) FILTER (WHERE r.status = 'counted') AS responses,
       count(r.id) FILTER (WHERE r.status = 'pending') AS responses_pending
FROM consultations c LEFT JOIN responses r ON r.consultation_id = c.id
WHERE c.network_id = $1
GROUP BY c.id
ORDER BY c.opens_at DESC, c.id
"""

# Public proposals (published or scheduled, from a confirmed author) by counted votes, then the
# earliest submitted. Votes are counted per proposal id, whichever arrived first.
PROPOSAL_RANKING = """
WITH tally AS (
    SELECT proposal_id,
           count(*) FILTER (WHERE status = 'counted') AS votes,
           count(*) FILTER (WHERE status = 'pending') AS votes_pending,
           count(DISTINCT municipality_id) FILTER (WHERE status = 'counted') AS municipalities
    FROM votes WHERE network_id = $1 GROUP BY proposal_id
)
SELECT p.id AS proposal_id, p.title, p.status, p.submitted_at, p.decided_at, p.meeting_id,
       m.title AS meeting_title, m.starts_at AS meeting_starts_at,
       coalesce(t.votes, 0) AS votes, coalesce(t.votes_pending, 0) AS votes_pending,
       coalesce(t.municipalities, 0) AS municipalities
FROM proposals p
LEFT JOIN tally t ON t.proposal_id = p.id
LEFT JOIN meetings m ON m.id = p.meeting_id
WHERE p.network_id = $1 AND p.status IN ('published', 'scheduled') AND p.counted
ORDER BY votes DESC, p.submitted_at, p.id
"""


async def consultation(
    conn: Connection, consultation_id: uuid.UUID, *, organisation_id: uuid.UUID | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(CONSULTATION, consultation_id, organisation_id)


async def consultation_municipalities(
    conn: Connection, consultation_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(CONSULTATION_MUNICIPALITIES, consultation_id)


async def answer_counts(conn: Connection, consultation_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(ANSWER_COUNTS, consultation_id)


async def network(
    conn: Connection, network_id: uuid.UUID, *, organisation_id: uuid.UUID | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(NETWORK, network_id, organisation_id)


async def network_consultations(conn: Connection, network_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(NETWORK_CONSULTATIONS, network_id)


async def proposal_ranking(conn: Connection, network_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(PROPOSAL_RANKING, network_id)


# What reconcile compares with the registration service's own counts: every consultation and
# every proposal with the counted responses and votes its report and the ranking show.
CONSULTATION_COUNTS = """
SELECT c.id AS consultation_id, c.network_id, c.status,
       count(r.id) FILTER (WHERE r.status = 'counted') AS responses
FROM consultations c LEFT JOIN responses r ON r.consultation_id = c.id
GROUP BY c.id
ORDER BY c.id
"""

PROPOSAL_COUNTS = """
SELECT p.id AS proposal_id, p.network_id, p.status, p.counted,
       count(v.id) FILTER (WHERE v.status = 'counted') AS votes
FROM proposals p LEFT JOIN votes v ON v.proposal_id = p.id
GROUP BY p.id
ORDER BY p.id
"""


async def consultation_counts(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(CONSULTATION_COUNTS)


async def proposal_counts(conn: Connection) -> list[asyncpg.Record]:
    return await conn.fetch(PROPOSAL_COUNTS)
