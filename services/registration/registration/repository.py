"""SQL of the registration schema. Functions take the connection first; values go in as $n."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from tilmeld_shared.db import Connection

# --- networks ---------------------------------------------------------------------------------

INSERT_NETWORK = """
INSERT INTO networks (id, title, description, purpose, target_group, organisers, language,
                      max_companions, contact, period, organisation_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *
"""

NETWORK = "SELECT * FROM networks WHERE id = $1"
NETWORK_FOR_UPDATE = "SELECT * FROM networks WHERE id = $1 FOR UPDATE"

# Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans.
NETWORKS_PAGE = """
SELECT * FROM networks
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
ORDER BY created_at, id
LIMIT $4
"""

# --- members ----------------------------------------------------------------------------------

# A person is their email, case-insensitively; the newest details they give win.
# A sign-up names a person by address, which anyone can type: it creates the member once and
# never changes what is stored about them (the no-op update only returns the existing row).
# Changing a profile needs the person's own emailed token (UPDATE_MEMBER_PROFILE).
MEMBER_FOR_SIGN_UP = """
INSERT INTO members (id, email, name, municipality, role, organisation, language, data_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (lower(email)) WHERE email IS NOT NULL DO UPDATE SET email = members.email
RETURNING *
"""

MEMBER = "SELECT * FROM members WHERE id = $1"

# A member from before data keys existed gets one, bound to their own id.
GIVE_DATA_KEY = "UPDATE members SET data_key = $2 WHERE id = $1 AND data_key IS NULL RETURNING *"

DATA_KEYS = "SELECT id, data_key FROM members WHERE id = ANY($1::uuid[])"

ERASE_MEMBER = """
UPDATE members
SET email = NULL, name = NULL, organisation = NULL, role = 'erased', erased_at = now(),
    data_key = NULL,
    updated_at = now()
WHERE id = $1 AND erased_at IS NULL
RETURNING id
"""

# Idempotency records of the person's requests (a client may have put anything in the key).
FORGET_IDEMPOTENCY_RECORDS = """
DELETE FROM idempotency_keys WHERE position($1::text IN response_body::text) > 0
"""

# Companions' names and emails go too; the count stays for the aggregates.
ERASE_COMPANIONS = """
UPDATE registrations
SET companions = (SELECT coalesce(jsonb_agg('{}'::jsonb), '[]'::jsonb)
                  FROM jsonb_array_elements(companions))
WHERE member_id = $1
"""

# The outbox is the event log. With the data key gone its sealed parts are unreadable anyway;
# they are dropped too, with any clear `personal` an event from before sealing still holds.
REDACT_OUTBOX = """
UPDATE outbox
SET envelope = envelope #- '{payload,personal}' #- '{payload,personal_sealed}'
WHERE envelope -> 'payload' ->> 'member_id' = $1::text
  AND (envelope -> 'payload' ? 'personal' OR envelope -> 'payload' ? 'personal_sealed')
"""

# --- enrolments -------------------------------------------------------------------------------

ACTIVE_ENROLMENT = """
SELECT * FROM enrolments WHERE network_id = $1 AND member_id = $2 AND status = 'active'
"""

# Enrolled (and consented) at the use case's clock, the time its event carries.
INSERT_ENROLMENT = """
INSERT INTO enrolments (id, network_id, member_id, status, consent_at, created_at)
VALUES ($1, $2, $3, 'active', $4, $4)
RETURNING *
"""

ENROLMENT_FOR_UPDATE = "SELECT * FROM enrolments WHERE id = $1 FOR UPDATE"
ENROLMENT = "SELECT * FROM enrolments WHERE id = $1"

CANCEL_ENROLMENT = """
UPDATE enrolments SET status = 'cancelled', cancelled_at = $2, version = version + 1
WHERE id = $1
RETURNING *
"""

ENROLMENT_ROSTER = """
SELECT e.id AS enrolment_id, e.member_id, e.status, m.name, m.email, m.municipality, m.role,
       m.organisation, e.created_at AS enrolled_at, e.cancelled_at
FROM enrolments e JOIN members m ON m.id = e.member_id
WHERE e.network_id = $1
  AND ($2::timestamptz IS NULL OR (e.created_at, e.id) > ($2, $3))
ORDER BY e.created_at, e.id
LIMIT $4
"""

MEMBER_ENROLMENTS = "SELECT * FROM enrolments WHERE member_id = $1 ORDER BY created_at"

# --- meetings ---------------------------------------------------------------------------------

INSERT_MEETING = """
INSERT INTO meetings (id, network_id, title, description, starts_at, ends_at, timezone, location,
                      online_url, capacity, registration_deadline, open_to_public, speakers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING *
"""

MEETING_VIEW_COLUMNS = """
m.*, (SELECT count(*) FROM registrations r
      WHERE r.meeting_id = m.id AND r.status = 'waitlisted') AS waitlist_length
"""

MEETING = f"SELECT {MEETING_VIEW_COLUMNS} FROM meetings m WHERE m.id = $1"

# The capacity guard: every change to a meeting's seats holds this row lock.
MEETING_FOR_UPDATE = "SELECT * FROM meetings WHERE id = $1 FOR UPDATE"

MEETINGS_PAGE = f"""
SELECT {MEETING_VIEW_COLUMNS} FROM meetings m
WHERE m.network_id = $1
  AND ($2::timestamptz IS NULL OR (m.starts_at, m.id) > ($2, $3))
ORDER BY m.starts_at, m.id
LIMIT $4
"""

# Each event about a meeting or its registrations takes the meeting's next version.
BUMP_MEETING = """
UPDATE meetings SET seats_taken = seats_taken + $2, version = version + 1, updated_at = now()
WHERE id = $1
RETURNING version, seats_taken, capacity
"""

# --- registrations ----------------------------------------------------------------------------

INSERT_REGISTRATION = """
INSERT INTO registrations (id, meeting_id, member_id, status, seats, companions, created_at,
                           confirmed_at)
VALUES ($1, $2, $3, $4::text, $5, $6, $7::timestamptz,
        CASE WHEN $4::text = 'confirmed' THEN $7::timestamptz END)
RETURNING *
"""

ACTIVE_REGISTRATION = """
SELECT id FROM registrations
WHERE meeting_id = $1 AND member_id = $2 AND status IN ('confirmed', 'waitlisted')
"""

REGISTRATION = "SELECT * FROM registrations WHERE id = $1"

WAITLIST = """
SELECT id, seats FROM registrations
WHERE meeting_id = $1 AND status = 'waitlisted'
ORDER BY position
"""

WAITLIST_POSITION = """
SELECT count(*) FROM registrations
WHERE meeting_id = $1 AND status = 'waitlisted' AND position <= $2
"""

SET_REGISTRATION_STATUS = """
UPDATE registrations
SET status = $2::text,
    confirmed_at = CASE WHEN $2::text = 'confirmed' THEN $3::timestamptz ELSE confirmed_at END,
    cancelled_at = CASE WHEN $2::text = 'cancelled' THEN $3::timestamptz ELSE cancelled_at END
WHERE id = $1
RETURNING *
"""

CHECK_IN = "UPDATE registrations SET checked_in_at = $2 WHERE id = $1 RETURNING *"

REGISTRATION_ROSTER = """
SELECT r.id AS registration_id, r.member_id, r.status, r.seats, m.name, m.email, m.municipality,
       r.companions, r.created_at AS registered_at, r.checked_in_at,
       CASE WHEN r.status = 'waitlisted' THEN
           (SELECT count(*) FROM registrations w
            WHERE w.meeting_id = r.meeting_id AND w.status = 'waitlisted'
              AND w.position <= r.position)
       END AS waitlist_position
FROM registrations r JOIN members m ON m.id = r.member_id
WHERE r.meeting_id = $1 AND ($2::bigint IS NULL OR r.position > $2)
ORDER BY r.position
LIMIT $3
"""

# Registrations a person holds that still take or wait for a seat.
ACTIVE_REGISTRATIONS_OF_MEMBER = """
SELECT count(*) FROM registrations r JOIN meetings m ON m.id = r.meeting_id
WHERE r.member_id = $1 AND r.status IN ('confirmed', 'waitlisted') AND m.ends_at > $2
"""

POSITION_OF = "SELECT position FROM registrations WHERE id = $1"

MEMBER_REGISTRATIONS = """
SELECT r.*, mt.title AS meeting_title, mt.starts_at
FROM registrations r JOIN meetings mt ON mt.id = r.meeting_id
WHERE r.member_id = $1 ORDER BY r.position
"""

MEMBER_ACTIVE_REGISTRATIONS = """
SELECT id, meeting_id FROM registrations
WHERE member_id = $1 AND status IN ('confirmed', 'waitlisted')
"""

MEMBER_ACTIVE_ENROLMENTS = "SELECT id FROM enrolments WHERE member_id = $1 AND status = 'active'"


async def bump_meeting(conn: Connection, meeting_id: uuid.UUID, *, seats_delta: int = 0) -> int:
    """Move the meeting's seat count and return the aggregate version for the next event."""
    row = await conn.fetchrow(BUMP_MEETING, meeting_id, seats_delta)
    assert row is not None
    return int(row["version"])


async def waitlist_position(conn: Connection, registration: asyncpg.Record) -> int | None:
    if registration["status"] != "waitlisted":
        return None
    value = await conn.fetchval(
        WAITLIST_POSITION, registration["meeting_id"], registration["position"]
    )
    return int(value)


def as_dict(record: asyncpg.Record) -> dict[str, Any]:
    return dict(record)


# --- organisations and their keys ---------------------------------------------------------------

INSERT_ORGANISATION = "INSERT INTO organisations (id, name) VALUES ($1, $2) RETURNING *"
ORGANISATIONS = "SELECT * FROM organisations ORDER BY name"
ORGANISATION = "SELECT * FROM organisations WHERE id = $1"
INSERT_API_KEY = """
INSERT INTO api_keys (id, organisation_id, name, role, key_hash) VALUES ($1, $2, $3, $4, $5)
RETURNING id, organisation_id, name, role, created_at, revoked_at
"""
API_KEYS = """
SELECT id, organisation_id, name, role, created_at, revoked_at FROM api_keys
WHERE organisation_id = $1 ORDER BY created_at
"""
REVOKE_API_KEY = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING id, organisation_id, name, role, created_at, revoked_at
"""
ACTIVE_API_KEY = """
SELECT organisation_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
"""

# Which organisation a resource belongs to, through its network (NULL: the platform's).
ORGANISATION_OF_NETWORK = "SELECT organisation_id FROM networks WHERE id = $1"
ORGANISATION_OF_MEETING = """
SELECT n.organisation_id FROM meetings m JOIN networks n ON n.id = m.network_id WHERE m.id = $1
"""
ORGANISATION_OF_REGISTRATION = """
SELECT n.organisation_id FROM registrations r JOIN meetings m ON m.id = r.meeting_id
JOIN networks n ON n.id = m.network_id WHERE r.id = $1
"""
ORGANISATION_OF_ENROLMENT = """
SELECT n.organisation_id FROM enrolments e JOIN networks n ON n.id = e.network_id WHERE e.id = $1
"""
