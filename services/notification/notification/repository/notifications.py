"""The delivery ledger: one row per email, queued here and sent by the dispatcher."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from notification.repository import Db
from tilmeld_shared.db import Connection

# The hourly limit per recipient, for every address a batch writes to at once.
RECENT_TO_RECIPIENTS = """
SELECT address, (SELECT count(*) FROM notifications
                 WHERE lower(recipient) = address AND created_at > now() - interval '1 hour'
                   AND status <> 'suppressed') AS recent
FROM unnest($1::text[]) AS address
"""

QUEUED_KEYS = "SELECT dedupe_key FROM notifications WHERE dedupe_key = ANY($1::text[])"

# The dedupe key makes a redelivered event queue nothing twice: no row comes back.
INSERT_NOTIFICATIONS = """
INSERT INTO notifications (id, event_id, dedupe_key, member_id, registration_id, recipient,
                           template, language, subject, body_text, body_html, calendar, status,
                           traceparent, tracestate, sender_name, reply_to)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                     $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, status, template
"""

ERASE_NOTIFICATIONS = """
UPDATE notifications
SET recipient = 'erased', subject = '', body_text = '', body_html = NULL, calendar = NULL,
    -- a key written before addresses went in as digests may hold one: keep it unique, unreadable
    dedupe_key = CASE WHEN dedupe_key LIKE '%@%'
                      THEN encode(sha256(convert_to(dedupe_key, 'UTF8')), 'hex')
                      ELSE dedupe_key END,
    status = CASE WHEN status IN ('pending', 'failed') THEN 'suppressed' ELSE status END,
    last_error = CASE WHEN status IN ('pending', 'failed') THEN 'member erased'
                      ELSE last_error END
WHERE member_id = $1
"""


@dataclass
class NewNotification:
    """An email to insert; `status` is decided when the batch is written."""

    event_id: uuid.UUID | None
    dedupe_key: str
    member_id: uuid.UUID | None
    registration_id: uuid.UUID | None
    recipient: str
    template: str
    language: str
    subject: str
    body_text: str
    body_html: str | None
    calendar: str | None
    traceparent: str | None = None
    tracestate: str | None = None
    sender_name: str | None = None
    reply_to: str | None = None
    status: str = "pending"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


async def recent_to_recipients(conn: Connection, recipients: list[str]) -> dict[str, int]:
    """Emails queued to each address (any case, keyed lower-case) in the last hour, suppressed
    ones aside."""
    addresses = list({recipient.lower() for recipient in recipients})
    return {
        row["address"]: row["recent"] for row in await conn.fetch(RECENT_TO_RECIPIENTS, addresses)
    }


async def queued_keys(conn: Connection, keys: list[str]) -> set[str]:
    """Those of the dedupe keys a row was queued under before."""
    return {row["dedupe_key"] for row in await conn.fetch(QUEUED_KEYS, keys)}


async def insert_notifications(
    conn: Connection, rows: list[NewNotification]
) -> list[asyncpg.Record]:
    """Insert the rows in one statement; returns `id`, `status` and `template` of those inserted
    (a row whose key was queued before is not)."""
    if not rows:
        return []
    columns = [
        [getattr(row, name) for row in rows]
        for name in (
            "id",
            "event_id",
            "dedupe_key",
            "member_id",
            "registration_id",
            "recipient",
            "template",
            "language",
            "subject",
            "body_text",
            "body_html",
            "calendar",
            "status",
            "traceparent",
            "tracestate",
            "sender_name",
            "reply_to",
        )
    ]
    return await conn.fetch(INSERT_NOTIFICATIONS, *columns)


async def erase_notifications(conn: Connection, member_id: uuid.UUID) -> None:
    """Blank what the ledger says about the member; what was not sent yet never will be."""
    await conn.execute(ERASE_NOTIFICATIONS, member_id)


# The cursor is the last row's created_at in microseconds since the epoch.
LIST = """
SELECT * FROM notifications
WHERE ($1::text IS NULL OR lower(recipient) = lower($1))
  AND ($2::uuid IS NULL OR member_id = $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::uuid IS NULL OR event_id = $4)
  AND ($5::bigint IS NULL OR (extract(epoch FROM created_at) * 1e6)::bigint > $5)
ORDER BY created_at, id
LIMIT $6
"""

NOTIFICATION = "SELECT * FROM notifications WHERE id = $1"

STATUS = "SELECT status FROM notifications WHERE id = $1"

REQUEUE_DEAD = """
UPDATE notifications SET status = 'pending', next_attempt_at = now(), attempts = 0,
                         locked_until = NULL
WHERE id = $1 AND status = 'dead'
RETURNING *
"""

MEMBER_NOTIFICATIONS = """
SELECT id, event_id, template, language, recipient, subject, status, attempts, created_at,
       sent_at
FROM notifications WHERE member_id = $1 ORDER BY created_at, id
"""


async def list_notifications(
    db: Db,
    *,
    recipient: str | None,
    member_id: uuid.UUID | None,
    status: str | None,
    event_id: uuid.UUID | None,
    after: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The rows that match every filter given, oldest first, created after the cursor `after`."""
    return await db.fetch(LIST, recipient, member_id, status, event_id, after, limit)


async def get_notification(db: Db, notification_id: uuid.UUID) -> asyncpg.Record | None:
    return await db.fetchrow(NOTIFICATION, notification_id)


async def status_of(db: Db, notification_id: uuid.UUID) -> str | None:
    status: str | None = await db.fetchval(STATUS, notification_id)
    return status


async def requeue_dead(db: Db, notification_id: uuid.UUID) -> asyncpg.Record | None:
    """Put a dead notification back in the queue, attempts reset; None if it is not dead."""
    return await db.fetchrow(REQUEUE_DEAD, notification_id)


async def member_notifications(db: Db, member_id: uuid.UUID) -> list[asyncpg.Record]:
    """What was sent to the member (or for them), oldest first."""
    return await db.fetch(MEMBER_NOTIFICATIONS, member_id)
