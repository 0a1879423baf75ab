"""An organiser's message to a meeting's participants: each person the registrations it
addressed at send time reach gets it once, in their own language, with a standard footer.

Companions with an email get it too, whatever `to` says: a companion holds a seat (or a place
on the waitlist) in the member's registration, so what is said to that registration (a new
room, a changed programme) concerns them as much as the member. Status is the registration's
at send time (the event lists them); a registration cancelled since still gets it, which is
what the organiser saw when sending."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg

from notification import rendering
from notification.repository import meetings
from notification.repository import messages as message_rows
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingMessageSent

TEMPLATE = "organiser_message"


async def meeting_message_sent(
    conn: Connection, settings: Settings, payload: MeetingMessageSent, version: int
) -> list[Outgoing]:
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    if meeting is None:
        return []  # a meeting not known here has no registrations known here either
    registrations = await message_rows.addressed_registrations(
        conn, list(payload.registration_ids), payload.meeting_id
    )
    outgoing = []
    for registration in registrations:
        outgoing.append(
            _email(payload, meeting, registration, registration["name"], registration["email"])
        )
        for companion in registration["companions"]:
            if companion.get("email"):
                outgoing.append(
                    _email(payload, meeting, registration, companion["name"], companion["email"])
                )
    return outgoing


def _email(
    payload: MeetingMessageSent,
    meeting: asyncpg.Record,
    registration: asyncpg.Record,
    name: str,
    address: str,
) -> Outgoing:
    """One person's copy. Keyed by the message and the address, so a redelivered event (or the
    same event published again) queues nothing twice and nobody gets it twice."""
    companion = address != registration["email"]
    language = registration["language"]
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:32]
    context: dict[str, Any] = {
        "subject": payload.subject,
        # Line by line: a printed value is kept to one line (see rendering), the body is not.
        "body_lines": payload.body.replace("\r\n", "\n").replace("\r", "\n").split("\n"),
        # No online link: only the system's cancel link is made clickable, never the text's.
        "meeting": {
            "title": meeting["title"],
            "when": rendering.format_when(
                meeting["starts_at"], meeting["ends_at"], meeting["timezone"], language
            ),
            "location": meeting["location"],
            "online_url": None,
        },
        "calendar": False,
        "cancel_url": None if companion else registration["cancel_url"],
        "dedupe_key": f"{TEMPLATE}:{payload.message_id}:{digest}",
    }
    return Outgoing(
        Recipient(name, address, registration["name"] if companion else None),
        TEMPLATE,
        language,
        registration["member_id"],
        registration["id"],
        context,
        network_id=meeting["network_id"],
    )
