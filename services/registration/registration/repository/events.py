"""The outbox, which is also the event log: written in each use case's transaction, read in
order by the relay, by operators (the event log) and by a replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

INSERT = """
INSERT INTO outbox (event_id, topic, message_key, event_type, aggregate_id, aggregate_version,
                    envelope, traceparent, tracestate)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

# With the member's data key gone, the sealed parts of their events are unreadable anyway; they
# are dropped too, with any clear `personal` an event from before sealing still holds.
REDACT_MEMBER = """
UPDATE outbox
SET envelope = envelope #- '{payload,personal}' #- '{payload,personal_sealed}'
WHERE (envelope -> 'payload' ->> 'member_id' = $1::text
       OR envelope -> 'payload' ->> 'contact_member_id' = $1::text)  -- a party's contact
  AND (envelope -> 'payload' ? 'personal' OR envelope -> 'payload' ? 'personal_sealed')
"""

# The relay publishes in outbox order, a batch at a time.
# The batch the broker acknowledged is marked published by the statement that claims the next
# one: a round trip and a commit fewer per batch. The claim's snapshot still sees the rows being
# marked as unpublished, hence their exclusion. The envelope is read as the JSON text Postgres
# holds, which is what goes to the broker, instead of being decoded and encoded again.
MARK_PUBLISHED_AND_CLAIM_NEXT = """
WITH marked AS (
    UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])
)
SELECT id, event_id, topic, message_key, event_type, envelope::text AS envelope_json,
       traceparent, tracestate
FROM outbox
WHERE published_at IS NULL AND NOT (id = ANY($1::bigint[]))
ORDER BY id
LIMIT $2
"""

MARK_PUBLISHED = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"

BACKLOG = """
SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
FROM outbox WHERE published_at IS NULL
"""

# Session-level: held by the relay's own connection while it leads, dropped when it dies.
TRY_LEAD = "SELECT pg_try_advisory_lock($1)"

# Wakes a relay in another process; the payload is empty, the relay reads the outbox itself.
NOTIFY = "SELECT pg_notify($1, '')"

EVENTS_AFTER = """
SELECT id AS position, envelope FROM outbox
WHERE id > $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
ORDER BY id
LIMIT $3
"""

STATUS = """
SELECT count(*) FILTER (WHERE published_at IS NULL) AS backlog,
       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE published_at IS NULL)),
                0) AS oldest_unpublished_age_seconds,
       count(*) AS events_total,
       max(id) AS last_position
FROM outbox
"""

# The relay sends unpublished rows in outbox order, so unmarking is all a replay needs.
REPLAY_SINCE = "UPDATE outbox SET published_at = NULL WHERE created_at >= $1"


@dataclass(frozen=True)
class OutboxEntry:
    """An event as its outbox row holds it, made before it is written."""

    event_id: uuid.UUID
    topic: str
    message_key: str
    event_type: str
    envelope: dict[str, Any]
    traceparent: str | None
    tracestate: str | None


async def insert(
    conn: Connection,
    *,
    event_id: uuid.UUID,
    topic: str,
    message_key: str,
    event_type: str,
    aggregate_id: uuid.UUID,
    aggregate_version: int,
    envelope: dict[str, Any],
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> None:
    await conn.execute(
        INSERT,
        event_id,
        topic,
        message_key,
        event_type,
        aggregate_id,
        aggregate_version,
        envelope,
        traceparent,
        tracestate,
    )


async def redact_member(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(REDACT_MEMBER, str(member_id))


async def mark_published_and_claim_next(
    conn: Connection, acknowledged: list[int], *, limit: int
) -> list[asyncpg.Record]:
    """Mark the acknowledged ids published and return the next unpublished events, oldest first."""
    return list(await conn.fetch(MARK_PUBLISHED_AND_CLAIM_NEXT, acknowledged, limit))


async def mark_published(conn: Connection, ids: list[int]) -> None:
    await conn.execute(MARK_PUBLISHED, ids)


async def backlog(conn: Connection) -> asyncpg.Record | None:
    """How many events wait, and the age in seconds of the oldest (`backlog`, `oldest`)."""
    return await conn.fetchrow(BACKLOG)


async def try_lead(conn: Connection, *, lock_key: int) -> bool:
    return bool(await conn.fetchval(TRY_LEAD, lock_key))


async def notify(conn: Connection | asyncpg.Pool, *, channel: str) -> None:
    await conn.execute(NOTIFY, channel)


async def after(
    conn: Connection, *, position: int, since: datetime | None, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(EVENTS_AFTER, position, since, limit))


async def status(conn: Connection) -> asyncpg.Record:
    row = await conn.fetchrow(STATUS)
    assert row is not None
    return row


async def replay_since(conn: Connection, since: datetime) -> int:
    """Mark every event written since `since` unpublished; returns how many."""
    result = await conn.execute(REPLAY_SINCE, since)
    return int(result.split()[-1])
