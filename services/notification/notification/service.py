"""From events to notifications: which emails an event causes, written with its inbox row."""

from __future__ import annotations

import email.utils
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from notification import calendar, rendering
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    Envelope,
    MeetingCancelled,
    MeetingScheduled,
    MeetingUpdated,
    MemberEnrolled,
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

# Meeting events may be redelivered or replayed: only a newer version changes the row.
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
"""

CANCEL_MEETING = """
UPDATE meetings SET status = 'cancelled', aggregate_version = $2
WHERE id = $1 AND aggregate_version < $2
"""

MEETING = "SELECT * FROM meetings WHERE id = $1"

INSERT_NOTIFICATION = """
INSERT INTO notifications (id, event_id, member_id, recipient, template, language, subject,
                           body_text, calendar)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (event_id, recipient, template) DO NOTHING
RETURNING id
"""

_REGISTRATION_TEMPLATES: dict[type[Payload], str] = {
    RegistrationConfirmed: "registration_confirmed",
    RegistrationWaitlisted: "registration_waitlisted",
    RegistrationPromoted: "registration_promoted",
    RegistrationCancelled: "registration_cancelled",
}


@dataclass(frozen=True)
class Email:
    member_id: uuid.UUID | None
    recipient: str
    template: str
    language: str
    subject: str
    text: str
    calendar: str | None = None


async def handle_event(
    conn: Connection, envelope: Envelope, payload: Payload | None, *, mail_from: str
) -> list[uuid.UUID]:
    """Record the event as handled and queue the emails it causes, in the caller's transaction.

    Returns the ids of the queued notifications; a duplicate event queues nothing.
    """
    if await conn.fetchval(CLAIM_EVENT, envelope.event_id, envelope.event_type) is None:
        return []
    emails: list[Email] = []
    if isinstance(payload, MeetingScheduled):  # MeetingUpdated too
        await conn.execute(
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
            envelope.aggregate_version,
        )
        if isinstance(payload, MeetingUpdated):
            pass  # reschedule notices: see the notification issue
    elif isinstance(payload, MeetingCancelled):
        await conn.execute(CANCEL_MEETING, payload.meeting_id, envelope.aggregate_version)
    elif isinstance(payload, MemberEnrolled) and payload.personal:
        emails.append(_enrolment_email(payload))
    elif isinstance(payload, RegistrationState) and payload.personal:
        template = _REGISTRATION_TEMPLATES.get(type(payload))
        if template:
            meeting = await conn.fetchrow(MEETING, payload.meeting_id)
            emails.append(_registration_email(payload, template, meeting, mail_from=mail_from))
    queued = []
    for item in emails:
        notification_id = await conn.fetchval(
            INSERT_NOTIFICATION,
            uuid.uuid4(),
            envelope.event_id,
            item.member_id,
            item.recipient,
            item.template,
            item.language,
            item.subject,
            item.text,
            item.calendar,
        )
        if notification_id is not None:
            queued.append(notification_id)
    return queued


def _enrolment_email(payload: MemberEnrolled) -> Email:
    assert payload.personal is not None
    rendered = rendering.render(
        "enrolment_confirmed",
        payload.language,
        {
            "name": payload.personal.name,
            "network_title": payload.network_title or "Tilmeld",
            "cancel_url": payload.cancel_url,
        },
    )
    return Email(
        payload.member_id,
        payload.personal.email,
        "enrolment_confirmed",
        payload.language,
        rendered.subject,
        rendered.text,
    )


def _registration_email(
    payload: RegistrationState, template: str, meeting: asyncpg.Record | None, *, mail_from: str
) -> Email:
    assert payload.personal is not None
    details: dict[str, Any] = {"title": "", "when": "", "location": None, "online_url": None}
    ics = None
    if meeting is not None:
        details = {
            "title": meeting["title"],
            "when": rendering.format_when(
                meeting["starts_at"], meeting["ends_at"], meeting["timezone"], payload.language
            ),
            "location": meeting["location"],
            "online_url": meeting["online_url"],
        }
        if template in {
            "registration_confirmed",
            "registration_promoted",
            "registration_cancelled",
        }:
            ics = calendar.invitation(
                registration_id=payload.registration_id,
                title=meeting["title"],
                starts_at=meeting["starts_at"],
                ends_at=meeting["ends_at"],
                location=meeting["location"],
                online_url=meeting["online_url"],
                attendee_email=payload.personal.email,
                organiser_email=email.utils.parseaddr(mail_from)[1],
                method="CANCEL" if template == "registration_cancelled" else "REQUEST",
            )
    rendered = rendering.render(
        template,
        payload.language,
        {
            "name": payload.personal.name,
            "meeting": details,
            "seats": payload.seats,
            "companions": payload.companions,
            "waitlist_position": payload.waitlist_position,
            "cancel_url": payload.cancel_url,
        },
    )
    return Email(
        payload.member_id,
        payload.personal.email,
        template,
        payload.language,
        rendered.subject,
        rendered.text,
        ics,
    )
