"""Feedback on held meetings: the tables it is projected to, and the counts its report reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import asyncpg

from reporting.repository.projection import RowState
from tilmeld_shared.db import Connection

UPSERT_FORMS = """
INSERT INTO feedback_forms (meeting_id, questions, aggregate_version)
SELECT new.meeting_id, new.questions::jsonb, new.version
FROM unnest($1::uuid[], $2::text[], $3::int[]) AS new(meeting_id, questions, version)
ON CONFLICT (meeting_id) DO UPDATE
SET questions = excluded.questions, aggregate_version = excluded.aggregate_version
WHERE feedback_forms.aggregate_version < excluded.aggregate_version
"""

INSERT_RESPONSES = """
INSERT INTO feedback_responses (id, meeting_id, answers, submitted_at)
SELECT new.id, new.meeting_id, new.answers::jsonb, new.submitted_at
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[])
     AS new(id, meeting_id, answers, submitted_at)
ON CONFLICT (id) DO NOTHING
"""

# A meeting the reader may see (as the meeting report scopes it), its feedback questions and
# how many gave feedback.
MEETING = """
SELECT m.id AS meeting_id, m.network_id, m.title, m.starts_at, m.status,
       coalesce(f.questions, '[]'::jsonb) AS questions,
       (SELECT count(*) FROM feedback_responses r WHERE r.meeting_id = m.id) AS responses
FROM meetings m LEFT JOIN feedback_forms f ON f.meeting_id = m.id
WHERE m.id = $1
  AND ($2::uuid IS NULL OR m.network_id IN (SELECT id FROM networks WHERE organisation_id = $2))
"""

ANSWER_COUNTS = """
SELECT a.key AS question_id, a.value, count(*) AS count
FROM feedback_responses r CROSS JOIN LATERAL jsonb_each(r.answers) AS a
WHERE r.meeting_id = $1
GROUP BY a.key, a.value
"""


async def upsert_forms(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(
        UPSERT_FORMS,
        list(rows),
        [json.dumps(row.values["questions"]) for row in rows.values()],
        [row.version for row in rows.values()],
    )


async def insert_responses(conn: Connection, rows: Mapping[uuid.UUID, RowState]) -> None:
    await conn.execute(
        INSERT_RESPONSES,
        list(rows),
        [row.values["meeting_id"] for row in rows.values()],
        [json.dumps(row.values["answers"]) for row in rows.values()],
        [row.values["submitted_at"] for row in rows.values()],
    )


async def meeting(
    conn: Connection, meeting_id: uuid.UUID, *, organisation_id: uuid.UUID | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(MEETING, meeting_id, organisation_id)


async def answer_counts(conn: Connection, meeting_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(ANSWER_COUNTS, meeting_id))
