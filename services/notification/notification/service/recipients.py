"""Who gets an email about a registration, in which words, with which calendar entry.

Pure: rows in, `Outgoing` emails out; `queueing` renders and queues them."""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notification import rendering
from notification.settings import Settings
from tilmeld_shared import calendar
from tilmeld_shared.events import RegistrationState

# A companion gets their own words, never the member's "your registration".
COMPANION_TEMPLATES = {
    "registration_confirmed": "companion_registered",
    "registration_promoted": "companion_registered",
    "registration_cancelled": "companion_cancelled",
    "meeting_rescheduled": "companion_meeting_rescheduled",
    "meeting_cancelled": "companion_meeting_cancelled",
    "meeting_changed": "companion_meeting_changed",
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
    # The network the email is sent on behalf of: its organisers sign it and their contact is
    # its Reply-To (see queueing); None for an email from the system itself.
    network_id: uuid.UUID | None = None


def is_over(meeting: asyncpg.Record) -> bool:
    """A meeting that has ended: mail about it would tell people of something past."""
    ends_at: datetime = meeting["ends_at"]
    return ends_at <= datetime.now(UTC)


def to_member(
    settings: Settings,
    registration: asyncpg.Record,
    template: str,
    meeting: asyncpg.Record,
    entry: Entry | None,
    payload: RegistrationState | None,
    *,
    key: str | None = None,
) -> Outgoing:
    """The member's email; `payload` adds seats, companions and waitlist position."""
    language = registration["language"]
    ics = _invitation(settings, registration, meeting, entry) if entry else None
    return Outgoing(
        Recipient(registration["name"], registration["email"]),
        template,
        language,
        registration["member_id"],
        registration["id"],
        {
            "meeting": _meeting_context(meeting, language),
            "calendar": ics is not None,
            "cancel_url": registration["cancel_url"],
            "seats": payload.seats if payload else None,
            "companions": payload.companions if payload else None,
            "waitlist_position": payload.waitlist_position if payload else None,
            # Registered by series enrolment: the email says why, and that it cancels alone.
            "automatic": payload.automatic if payload else False,
            # Named, so the member sees whom they registered (the companions hear their name).
            "companion_names": [c["name"] for c in registration["companions"] if c.get("name")],
            "dedupe_key": key,
        },
        ics,
        meeting["network_id"],
    )


def to_companions(
    settings: Settings,
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
            _invitation(settings, registration, meeting, entry, companion=companion)
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
                    "meeting": _meeting_context(meeting, language),
                    "calendar": ics is not None,
                    "cancel_url": None,
                    "seats": None,
                    "companions": None,
                    "waitlist_position": None,
                    "companion_of": registration["name"],
                },
                ics,
                meeting["network_id"],
            )
        )
    return outgoing


def to_party(
    settings: Settings,
    registration: asyncpg.Record,
    template: str,
    meeting: asyncpg.Record,
    entry: Entry | None,
    *,
    cancel_url: str | None = None,
    news: dict[str, Any] | None = None,
    online: bool = True,
) -> list[Outgoing]:
    """The member and each companion with an email, all with the same news (`news` adds to
    what the template is given); without `online`, the meeting's link is left out."""
    member = to_member(settings, registration, template, meeting, entry, None)
    member.context["cancel_url"] = cancel_url
    party = [member, *to_companions(settings, registration, template, meeting, entry)]
    for item in party:
        item.context.update(news or {})
        if not online:
            item.context["meeting"]["online_url"] = None
    return party


def _meeting_context(meeting: asyncpg.Record, language: str) -> dict[str, Any]:
    return {
        "title": meeting["title"],
        "when": rendering.format_when(
            meeting["starts_at"], meeting["ends_at"], meeting["timezone"], language
        ),
        "location": meeting["location"],
        "online_url": meeting["online_url"],
    }


def _invitation(
    settings: Settings,
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
        organiser_email=email.utils.parseaddr(settings.mail_from)[1],
        method="CANCEL" if entry.cancel else "REQUEST",
        sequence=entry.sequence,
    )
