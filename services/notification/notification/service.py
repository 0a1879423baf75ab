"""From events to notifications: which emails an event causes, queued with its inbox row.

Everything here runs in the caller's transaction; the dispatcher sends after the commit.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notification import rendering
from notification.metrics import NOTIFICATIONS
from notification.settings import Settings
from tilmeld_shared import calendar
from tilmeld_shared.consuming import FORGET_DEAD_LETTERS
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    AttendanceRecorded,
    Envelope,
    MeetingCancelled,
    MeetingScheduled,
    MeetingUpdated,
    MemberEnrolled,
    MemberErased,
    Payload,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationState,
    RegistrationWaitlisted,
)

log = logging.getLogger(__name__)

CLAIM_EVENT = """
INSERT INTO inbox (event_id, event_type) VALUES ($1, $2)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

# Meeting events may be replayed: only a newer version changes the row (RETURNING says whether).
UPSERT_MEETING = """
INSERT INTO meetings (id, network_id, title, starts_at, ends_at, timezone, location, online_url,
                      status, aggregate_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE
SET title = excluded.title, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    timezone = excluded.timezone, location = excluded.location,
    online_url = excluded.online_url, status = excluded.status,
    aggregate_version = excluded.aggregate_version
WHERE meetings.aggregate_version < excluded.aggregate_version
RETURNING id
"""

CANCEL_MEETING = """
UPDATE meetings SET status = 'cancelled', aggregate_version = $2
WHERE id = $1 AND aggregate_version < $2
RETURNING id
"""

MEETING = "SELECT * FROM meetings WHERE id = $1"

UPSERT_REGISTRATION = """
INSERT INTO registrations (id, meeting_id, member_id, status, language, name, email, companions,
                           cancel_url, aggregate_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE
SET status = excluded.status, language = excluded.language,
    name = coalesce(excluded.name, registrations.name),
    email = coalesce(excluded.email, registrations.email),
    companions = excluded.companions,
    cancel_url = coalesce(excluded.cancel_url, registrations.cancel_url),
    aggregate_version = excluded.aggregate_version
WHERE registrations.aggregate_version < excluded.aggregate_version
RETURNING *
"""

ACTIVE_REGISTRATIONS = """
SELECT * FROM registrations
WHERE meeting_id = $1 AND status IN ('confirmed', 'waitlisted') AND email IS NOT NULL
"""

RAISE_SEQUENCE = """
UPDATE registrations SET calendar_sequence = calendar_sequence + 1
WHERE id = $1 RETURNING calendar_sequence
"""

UPSERT_REMINDER = """
INSERT INTO reminders (registration_id, meeting_id, due_at) VALUES ($1, $2, $3)
ON CONFLICT (registration_id) DO UPDATE SET due_at = excluded.due_at
WHERE reminders.sent_at IS NULL
"""

MOVE_REMINDERS = """
UPDATE reminders SET due_at = $2 WHERE meeting_id = $1 AND sent_at IS NULL
"""

DROP_REMINDER = "DELETE FROM reminders WHERE registration_id = $1 AND sent_at IS NULL"
DROP_MEETING_REMINDERS = "DELETE FROM reminders WHERE meeting_id = $1 AND sent_at IS NULL"

CLAIM_DUE_REMINDERS = """
UPDATE reminders r SET sent_at = now()
FROM (
    SELECT registration_id FROM reminders
    WHERE sent_at IS NULL AND due_at <= now()
    ORDER BY due_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE r.registration_id = due.registration_id
RETURNING r.registration_id, r.meeting_id, r.due_at
"""

REGISTRATION = "SELECT * FROM registrations WHERE id = $1"

RECENT_TO_RECIPIENT = """
SELECT count(*) FROM notifications
WHERE lower(recipient) = lower($1) AND created_at > now() - interval '1 hour'
  AND status <> 'suppressed'
"""

INSERT_NOTIFICATION = """
INSERT INTO notifications (id, event_id, dedupe_key, member_id, registration_id, recipient,
                           template, language, subject, body_text, body_html, calendar, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, status
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

# Every string this service holds that names the person (to find them in dead letters).
PERSON_STRINGS = """
SELECT ARRAY[name, email] || coalesce(ARRAY(
           SELECT jsonb_array_elements(companions) ->> key
           FROM unnest(ARRAY['name', 'email']) AS key), '{}') AS strings
FROM registrations WHERE member_id = $1
UNION ALL
SELECT ARRAY[recipient] FROM notifications WHERE member_id = $1
"""

ERASE_REGISTRATIONS = """
UPDATE registrations SET name = NULL, email = NULL, companions = '[]', cancel_url = NULL
WHERE member_id = $1
RETURNING id
"""


def _over(meeting: asyncpg.Record) -> bool:
    """A meeting that has ended: mail about it would tell people of something past."""
    ends_at: datetime = meeting["ends_at"]
    return ends_at <= datetime.now(UTC)


# A companion gets their own words, never the member's "your registration".
COMPANION_TEMPLATES = {
    "registration_confirmed": "companion_registered",
    "registration_promoted": "companion_registered",
    "registration_cancelled": "companion_cancelled",
    "meeting_rescheduled": "companion_meeting_rescheduled",
    "meeting_cancelled": "companion_meeting_cancelled",
}


@dataclass(frozen=True)
class Entry:
    """The calendar entry an email carries: its SEQUENCE, and whether it withdraws the entry."""

    sequence: int
    cancel: bool = False


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    companion_of: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One email to queue: who, which template, in which language, about what."""

    recipient: Recipient
    template: str
    language: str
    member_id: uuid.UUID | None
    registration_id: uuid.UUID | None
    context: dict[str, Any]
    calendar: str | None = None


class Notifier:
    """Turns events into queued notifications."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.organiser_email = _address(settings.mail_from)

    async def handle_event(
        self, conn: Connection, envelope: Envelope, payload: Payload | None
    ) -> list[uuid.UUID]:
        """Record the event as handled and queue the emails it causes; a duplicate queues none.

        Returns the ids of notifications queued for sending."""
        if await conn.fetchval(CLAIM_EVENT, envelope.event_id, envelope.event_type) is None:
            return []
        outgoing = await self._effects(conn, envelope, payload)
        if envelope.occurred_at < datetime.now(UTC) - self.settings.mail_events_within_delta:
            outgoing = []  # history, not news: its state is kept, nobody is emailed
        return await self.queue(
            conn, outgoing, dedupe_prefix=str(envelope.event_id), event_id=envelope.event_id
        )

    async def _effects(
        self, conn: Connection, envelope: Envelope, payload: Payload | None
    ) -> list[Outgoing]:
        version = envelope.aggregate_version
        match payload:
            case MeetingUpdated():
                return await self._meeting_updated(conn, payload, version)
            case MeetingScheduled():
                await self._store_meeting(conn, payload, version)
                return []
            case MeetingCancelled():
                return await self._meeting_cancelled(conn, payload, version)
            case MemberEnrolled() if payload.personal:
                return [
                    Outgoing(
                        Recipient(payload.personal.name, payload.personal.email),
                        "enrolment_confirmed",
                        payload.language,
                        payload.member_id,
                        None,
                        {
                            "network_title": payload.network_title or "Tilmeld",
                            "cancel_url": payload.personal.cancel_url,
                        },
                    )
                ]
            case MemberErased():
                await self._erase(conn, payload)
                return []
            case AttendanceRecorded():
                return []
            case RegistrationState():
                return await self._registration_changed(conn, payload, version)
            case _:
                return []  # an event type this service has nothing to say about

    # --- meetings -----------------------------------------------------------------------------

    async def _store_meeting(
        self, conn: Connection, payload: MeetingScheduled, version: int
    ) -> bool:
        changed = await conn.fetchval(
            UPSERT_MEETING,
            payload.meeting_id,
            payload.network_id,
            payload.title,
            payload.starts_at,
            payload.ends_at,
            payload.timezone,
            payload.location,
            payload.online_url,
            payload.status,
            version,
        )
        return changed is not None

    async def _meeting_updated(
        self, conn: Connection, payload: MeetingUpdated, version: int
    ) -> list[Outgoing]:
        if not await self._store_meeting(conn, payload, version) or not payload.rescheduled:
            return []
        await conn.execute(
            MOVE_REMINDERS,
            payload.meeting_id,
            payload.starts_at - self.settings.reminder_lead_delta,
        )
        meeting = await conn.fetchrow(MEETING, payload.meeting_id)
        assert meeting is not None  # stored just above
        if _over(meeting):
            return []  # moved into the past: a record corrected, nothing anyone can attend
        outgoing = []
        for registration in await conn.fetch(ACTIVE_REGISTRATIONS, payload.meeting_id):
            entry = None
            if registration["status"] == "confirmed":
                entry = Entry(await conn.fetchval(RAISE_SEQUENCE, registration["id"]))
            outgoing += self._to_party(
                registration,
                "meeting_rescheduled",
                meeting,
                entry,
                cancel_url=registration["cancel_url"],
            )
        return outgoing

    async def _meeting_cancelled(
        self, conn: Connection, payload: MeetingCancelled, version: int
    ) -> list[Outgoing]:
        if await conn.fetchval(CANCEL_MEETING, payload.meeting_id, version) is None:
            return []
        await conn.execute(DROP_MEETING_REMINDERS, payload.meeting_id)
        meeting = await conn.fetchrow(MEETING, payload.meeting_id)
        assert meeting is not None  # updated just above
        if _over(meeting):
            return []
        outgoing = []
        for registration in await conn.fetch(ACTIVE_REGISTRATIONS, payload.meeting_id):
            entry = None
            if registration["status"] == "confirmed":
                sequence = await conn.fetchval(RAISE_SEQUENCE, registration["id"])
                entry = Entry(sequence, cancel=True)
            outgoing += self._to_party(registration, "meeting_cancelled", meeting, entry)
        return outgoing

    # --- registrations ------------------------------------------------------------------------

    async def _registration_changed(
        self, conn: Connection, payload: RegistrationState, version: int
    ) -> list[Outgoing]:
        personal = payload.personal
        registration = await conn.fetchrow(
            UPSERT_REGISTRATION,
            payload.registration_id,
            payload.meeting_id,
            payload.member_id,
            payload.status,
            payload.language,
            personal.name if personal else None,
            personal.email if personal else None,
            [c.model_dump() for c in personal.companions] if personal else [],
            personal.cancel_url if personal else None,
            version,
        )
        if registration is None:
            return []  # an older state than we hold: nothing to tell anyone
        meeting = await conn.fetchrow(MEETING, payload.meeting_id)
        if isinstance(payload, RegistrationCancelled):
            await conn.execute(DROP_REMINDER, payload.registration_id)
        elif payload.status == "confirmed" and meeting is not None:
            await self._schedule_reminder(conn, payload, meeting)
        if personal is None or meeting is None or _over(meeting):
            return []  # a meeting that is over: no confirmation, waitlist or cancel notice
        match payload:
            case RegistrationConfirmed() | RegistrationPromoted():
                template = (
                    "registration_confirmed"
                    if isinstance(payload, RegistrationConfirmed)
                    else "registration_promoted"
                )
                entry = Entry(registration["calendar_sequence"])
                return [
                    self._to_member(registration, template, meeting, entry, payload),
                    *self._to_companions(registration, template, meeting, entry),
                ]
            case RegistrationWaitlisted():
                return [
                    self._to_member(registration, "registration_waitlisted", meeting, None, payload)
                ]
            case RegistrationCancelled():
                withdrawal = None
                if payload.previous_status == "confirmed":
                    sequence = await conn.fetchval(RAISE_SEQUENCE, registration["id"])
                    withdrawal = Entry(sequence, cancel=True)
                return self._to_party(registration, "registration_cancelled", meeting, withdrawal)
        return []

    async def _schedule_reminder(
        self, conn: Connection, payload: RegistrationState, meeting: asyncpg.Record
    ) -> None:
        due_at = meeting["starts_at"] - self.settings.reminder_lead_delta
        # Someone registering inside the lead time has just had the details; no reminder.
        if due_at > payload.registered_at:
            await conn.execute(UPSERT_REMINDER, payload.registration_id, payload.meeting_id, due_at)

    async def send_due_reminders(self, conn: Connection, *, limit: int = 100) -> list[uuid.UUID]:
        """Claim due reminders (SKIP LOCKED: two processes never take the same one) and queue
        their emails, in the caller's transaction."""
        outgoing = []
        for due in await conn.fetch(CLAIM_DUE_REMINDERS, limit):
            registration = await conn.fetchrow(REGISTRATION, due["registration_id"])
            meeting = await conn.fetchrow(MEETING, due["meeting_id"])
            if (
                registration is None
                or meeting is None
                or registration["email"] is None
                or registration["status"] != "confirmed"
                or meeting["status"] == "cancelled"
                or meeting["starts_at"] <= datetime.now(UTC)
            ):
                continue
            outgoing.append(
                self._to_member(
                    registration,
                    "reminder",
                    meeting,
                    None,
                    None,
                    key=f"reminder:{registration['id']}:{meeting['starts_at'].isoformat()}",
                )
            )
        return await self.queue(conn, outgoing, dedupe_prefix=None, event_id=None)

    # --- erasure ------------------------------------------------------------------------------

    async def _erase(self, conn: Connection, payload: MemberErased) -> None:
        # Dead letters first, while the person's address and names are still known here.
        needles = {str(payload.member_id)}
        for row in await conn.fetch(PERSON_STRINGS, payload.member_id):
            needles.update(value for value in row["strings"] if value)
        await conn.execute(FORGET_DEAD_LETTERS, sorted(needles))
        await conn.execute(ERASE_NOTIFICATIONS, payload.member_id)
        for row in await conn.fetch(ERASE_REGISTRATIONS, payload.member_id):
            await conn.execute(DROP_REMINDER, row["id"])

    # --- composing ----------------------------------------------------------------------------

    def _meeting_context(self, meeting: asyncpg.Record, language: str) -> dict[str, Any]:
        return {
            "title": meeting["title"],
            "when": rendering.format_when(
                meeting["starts_at"], meeting["ends_at"], meeting["timezone"], language
            ),
            "location": meeting["location"],
            "online_url": meeting["online_url"],
        }

    def _invitation(
        self,
        registration: asyncpg.Record,
        meeting: asyncpg.Record,
        entry: Entry,
        *,
        companion: dict[str, Any] | None = None,
    ) -> str:
        """The member's calendar entry, or a companion's own with them as its attendee."""
        attendee = companion or registration
        return calendar.invitation(
            registration_id=registration["id"],
            title=meeting["title"],
            starts_at=meeting["starts_at"],
            ends_at=meeting["ends_at"],
            location=meeting["location"],
            online_url=meeting["online_url"],
            attendee_email=attendee["email"],
            attendee_name=attendee["name"],
            companion=companion is not None,
            organiser_email=self.organiser_email,
            method="CANCEL" if entry.cancel else "REQUEST",
            sequence=entry.sequence,
        )

    def _to_member(
        self,
        registration: asyncpg.Record,
        template: str,
        meeting: asyncpg.Record,
        entry: Entry | None,
        payload: RegistrationState | None,
        *,
        key: str | None = None,
    ) -> Outgoing:
        language = registration["language"]
        ics = self._invitation(registration, meeting, entry) if entry else None
        return Outgoing(
            Recipient(registration["name"], registration["email"]),
            template,
            language,
            registration["member_id"],
            registration["id"],
            {
                "meeting": self._meeting_context(meeting, language),
                "calendar": ics is not None,
                "cancel_url": registration["cancel_url"],
                "seats": payload.seats if payload else None,
                "companions": payload.companions if payload else None,
                "waitlist_position": payload.waitlist_position if payload else None,
                "dedupe_key": key,
            },
            ics,
        )

    def _to_companions(
        self,
        registration: asyncpg.Record,
        template: str,
        meeting: asyncpg.Record,
        entry: Entry | None,
    ) -> list[Outgoing]:
        """Each companion with an email, in their own words (`template` is the member's)."""
        language = registration["language"]
        outgoing = []
        for companion in registration["companions"]:
            if not companion.get("email"):
                continue
            ics = (
                self._invitation(registration, meeting, entry, companion=companion)
                if entry
                else None
            )
            outgoing.append(
                Outgoing(
                    Recipient(companion["name"], companion["email"], registration["name"]),
                    COMPANION_TEMPLATES[template],
                    language,
                    registration["member_id"],
                    registration["id"],
                    {
                        "meeting": self._meeting_context(meeting, language),
                        "calendar": ics is not None,
                        "cancel_url": None,
                        "seats": None,
                        "companions": None,
                        "waitlist_position": None,
                        "companion_of": registration["name"],
                    },
                    ics,
                )
            )
        return outgoing

    def _to_party(
        self,
        registration: asyncpg.Record,
        template: str,
        meeting: asyncpg.Record,
        entry: Entry | None,
        *,
        cancel_url: str | None = None,
    ) -> list[Outgoing]:
        """The member and each companion with an email, all with the same news."""
        member = self._to_member(registration, template, meeting, entry, None)
        member.context["cancel_url"] = cancel_url
        return [member, *self._to_companions(registration, template, meeting, entry)]

    async def queue(
        self,
        conn: Connection,
        outgoing: list[Outgoing],
        *,
        dedupe_prefix: str | None,
        event_id: uuid.UUID | None,
    ) -> list[uuid.UUID]:
        """Write the notification rows; over the hourly limit a row is `suppressed`, not sent."""
        queued = []
        for item in outgoing:
            rendered = rendering.render(
                item.template,
                item.language,
                {
                    "name": item.recipient.name,
                    "companion_of": item.recipient.companion_of,
                    **item.context,
                },
            )
            # The address goes into the key as a digest: the key outlives an erasure.
            address = hashlib.sha256(item.recipient.email.lower().encode()).hexdigest()[:32]
            key = item.context.get("dedupe_key") or f"{dedupe_prefix}:{address}:{item.template}"
            recent = await conn.fetchval(RECENT_TO_RECIPIENT, item.recipient.email)
            status = (
                "suppressed"
                if recent >= self.settings.max_emails_per_recipient_per_hour
                else "pending"
            )
            row = await conn.fetchrow(
                INSERT_NOTIFICATION,
                uuid.uuid4(),
                event_id,
                key,
                item.member_id,
                item.registration_id,
                item.recipient.email,
                item.template,
                rendering.language_or_fallback(item.language),
                rendered.subject,
                rendered.text,
                rendered.html,
                item.calendar,
                status,
            )
            if row is None:
                continue  # queued before, under the same key
            NOTIFICATIONS.labels(item.template, status).inc()
            if status == "pending":
                queued.append(row["id"])
            else:
                log.warning(
                    "notification %s suppressed: recipient over the hourly limit", row["id"]
                )
        return queued


def _address(mail_from: str) -> str:
    import email.utils

    return email.utils.parseaddr(mail_from)[1]
