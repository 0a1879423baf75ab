"""The confirmation of a person's address (one per person), and finding a person by address
without creating them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from tilmeld_shared.db import Connection

# A person as sign-ups know them (with their municipality's country), by address, or None:
# a use case open to a known audience only looks, it does not create someone who is not in it.
MEMBER_BY_EMAIL = """
SELECT m.*, mu.country FROM members m
LEFT JOIN municipalities mu ON mu.municipality_id = m.municipality_id
WHERE lower(m.email) = lower($1) AND m.erased_at IS NULL
"""

OF_MEMBER_FOR_UPDATE = "SELECT * FROM address_confirmations WHERE member_id = $1 FOR UPDATE"

# One per person: a concurrent twin inserts nothing and then finds (and waits for) this one.
INSERT = """
INSERT INTO address_confirmations (id, member_id, network_id, subject, status, requested_at)
VALUES ($1, $2, $3, $4, 'requested', $5)
ON CONFLICT (member_id) DO NOTHING
RETURNING *
"""

# Asked again (the request is old and the person said something new): a new email.
ASK_AGAIN = """
UPDATE address_confirmations
SET network_id = $2, subject = $3, requested_at = $4, version = version + 1
WHERE id = $1
RETURNING *
"""

# The confirmation with its person, as the link shows it.
BY_ID = """
SELECT c.*, m.name, m.email, m.language, m.data_key, n.title AS network_title,
       n.language AS network_language
FROM address_confirmations c
JOIN members m ON m.id = c.member_id
JOIN networks n ON n.id = c.network_id
WHERE c.id = $1
"""

FOR_UPDATE = "SELECT * FROM address_confirmations WHERE id = $1 FOR UPDATE"

CONFIRM = """
UPDATE address_confirmations SET status = 'confirmed', confirmed_at = $2, version = version + 1
WHERE id = $1
RETURNING *
"""

CONFIRMED = """
SELECT EXISTS (SELECT 1 FROM address_confirmations WHERE member_id = $1 AND status = 'confirmed')
"""

# What waits for the person's confirmation: their pending responses, uncounted proposals and
# pending votes.
WAITING = """
SELECT
    (SELECT count(*) FROM consultation_responses WHERE member_id = $1 AND status = 'pending')
        AS responses,
    (SELECT count(*) FROM proposals WHERE member_id = $1 AND NOT counted) AS proposals,
    (SELECT count(*) FROM proposal_votes WHERE member_id = $1 AND status = 'pending') AS votes
"""

OF_MEMBER = """
SELECT id, status, subject, requested_at, confirmed_at FROM address_confirmations
WHERE member_id = $1
"""

FORGET = "DELETE FROM address_confirmations WHERE member_id = $1"


async def member_by_email(conn: Connection, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(MEMBER_BY_EMAIL, email)


async def of_member_for_update(conn: Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(OF_MEMBER_FOR_UPDATE, member_id)


async def insert(
    conn: Connection,
    *,
    confirmation_id: uuid.UUID,
    member_id: uuid.UUID,
    network_id: uuid.UUID,
    subject: str,
    at: datetime,
) -> asyncpg.Record | None:
    """The new request, or None if the person has one (or is confirmed) already."""
    return await conn.fetchrow(INSERT, confirmation_id, member_id, network_id, subject, at)


async def ask_again(
    conn: Connection,
    confirmation_id: uuid.UUID,
    *,
    network_id: uuid.UUID,
    subject: str,
    at: datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(ASK_AGAIN, confirmation_id, network_id, subject, at)
    assert row is not None
    return row


async def get(conn: Connection, confirmation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(BY_ID, confirmation_id)


async def lock(conn: Connection, confirmation_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_UPDATE, confirmation_id)


async def confirm(conn: Connection, confirmation_id: uuid.UUID, *, at: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(CONFIRM, confirmation_id, at)
    assert row is not None
    return row


async def confirmed(conn: Connection, member_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(CONFIRMED, member_id))


async def waiting(conn: Connection, member_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(WAITING, member_id)
    assert row is not None
    return row


async def of_member(conn: Connection, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(OF_MEMBER, member_id)


async def forget(conn: Connection, member_id: uuid.UUID) -> None:
    await conn.execute(FORGET, member_id)
