"""The local copies member dialogue needs: consultations (open or closed), who was invited to
each (to remind them), and who answered (so the reminder skips them, and a receipt goes once
per version of a response)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection
from tilmeld_shared.events import ConsultationInvitation, ConsultationState

# A closed consultation stays closed, whatever arrives after (a redelivered ConsultationOpened).
UPSERT_CONSULTATION = """
INSERT INTO consultations (id, network_id, network_title, title, closes_at, status)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE
SET network_title = excluded.network_title, title = excluded.title,
    closes_at = excluded.closes_at,
    status = CASE WHEN consultations.status = 'closed' THEN 'closed' ELSE excluded.status END
"""

CONSULTATION = "SELECT * FROM consultations WHERE id = $1"

# A redelivered invitation changes nothing: the first one set the reminder.
INSERT_INVITATION = """
INSERT INTO consultation_invitations (consultation_id, member_id, network_id, language, title,
                                      closes_at, name, email, action_url, remind_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (consultation_id, member_id) DO NOTHING
"""

# Pending or counted, a response is an answer; the status only moves forward.
UPSERT_RESPONSE = """
INSERT INTO consultation_responses (response_id, consultation_id, member_id, status)
VALUES ($1, $2, $3, $4)
ON CONFLICT (response_id) DO UPDATE
SET status = CASE WHEN consultation_responses.status = 'counted' THEN 'counted'
                  ELSE excluded.status END
RETURNING *
"""

# Set only forward: a receipt for an older version than the last one is none at all.
MARK_RECEIPT = """
UPDATE consultation_responses SET receipt_for = $2
WHERE response_id = $1 AND (receipt_for IS NULL OR receipt_for < $2)
RETURNING response_id
"""

# Due reminders, each claimed once (SKIP LOCKED: processes running it at once never take the
# same row), with what decides whether it is still sent: the consultation's closing time and
# state as known here, and whether the person answered. A claimed row is marked either way.
CLAIM_DUE_REMINDERS = """
UPDATE consultation_invitations i SET reminded_at = now()
FROM (
    SELECT inv.consultation_id, inv.member_id FROM consultation_invitations inv
    WHERE inv.reminded_at IS NULL AND inv.remind_at IS NOT NULL AND inv.remind_at <= now()
    ORDER BY inv.remind_at
    LIMIT $1
    FOR UPDATE OF inv SKIP LOCKED
) due
LEFT JOIN consultations c ON c.id = due.consultation_id
WHERE i.consultation_id = due.consultation_id AND i.member_id = due.member_id
RETURNING i.*,
    coalesce(c.closes_at, i.closes_at) AS closing,
    coalesce(c.status = 'closed', false) AS closed,
    coalesce(c.network_title, '') AS network_title,
    EXISTS (SELECT 1 FROM consultation_responses r
            WHERE r.consultation_id = i.consultation_id AND r.member_id = i.member_id)
        AS answered
"""

# A closed consultation's reminders are never due.
DROP_REMINDERS = """
UPDATE consultation_invitations SET remind_at = NULL
WHERE consultation_id = $1 AND reminded_at IS NULL
"""

PERSON_STRINGS = """
SELECT name, email, action_url FROM consultation_invitations WHERE member_id = $1
"""

ERASE_INVITATIONS = "DELETE FROM consultation_invitations WHERE member_id = $1"
ERASE_RESPONSES = "DELETE FROM consultation_responses WHERE member_id = $1"


async def store_consultation(conn: Connection, consultation: ConsultationState) -> None:
    await conn.execute(
        UPSERT_CONSULTATION,
        consultation.consultation_id,
        consultation.network_id,
        consultation.network_title,
        consultation.title,
        consultation.closes_at,
        consultation.status,
    )


async def get_consultation(conn: Connection, consultation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(CONSULTATION, consultation_id)


async def drop_reminders(conn: Connection, consultation_id: uuid.UUID) -> None:
    await conn.execute(DROP_REMINDERS, consultation_id)


async def store_invitation(
    conn: Connection, invitation: ConsultationInvitation, *, remind_at: datetime | None
) -> None:
    """Keep whom to remind (the invitation's personal data must be open)."""
    personal = invitation.personal
    assert personal is not None
    await conn.execute(
        INSERT_INVITATION,
        invitation.consultation_id,
        invitation.member_id,
        invitation.network_id,
        invitation.language,
        invitation.title,
        invitation.closes_at,
        personal.name,
        personal.email,
        personal.action_url,
        remind_at,
    )


async def store_response(
    conn: Connection,
    *,
    response_id: uuid.UUID,
    consultation_id: uuid.UUID,
    member_id: uuid.UUID,
    status: str,
) -> asyncpg.Record:
    """Record the answer; the row as it stands now."""
    row = await conn.fetchrow(UPSERT_RESPONSE, response_id, consultation_id, member_id, status)
    assert row is not None  # an upsert always returns its row
    return row


async def mark_receipt(conn: Connection, response_id: uuid.UUID, version: datetime) -> bool:
    """Note that the response's author has a receipt for `version`; False when they had one
    for it (or for a later one) already."""
    return await conn.fetchval(MARK_RECEIPT, response_id, version) is not None


async def claim_due_reminders(conn: Connection, *, limit: int) -> list[asyncpg.Record]:
    """Mark up to `limit` due reminders taken and return them, each with `closing`, `closed`,
    `network_title` and `answered`."""
    return await conn.fetch(CLAIM_DUE_REMINDERS, limit)


async def person_strings(conn: Connection, member_id: uuid.UUID) -> set[str]:
    """The member's names, addresses and links held here (to find them in dead letters)."""
    strings: set[str] = set()
    for row in await conn.fetch(PERSON_STRINGS, member_id):
        strings.update(value for value in row.values() if value)
    return strings


async def erase_member(conn: Connection, member_id: uuid.UUID) -> None:
    """Forget the member's invitations (name, address, link) and answers."""
    await conn.execute(ERASE_INVITATIONS, member_id)
    await conn.execute(ERASE_RESPONSES, member_id)
