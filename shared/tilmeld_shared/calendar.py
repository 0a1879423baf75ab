"""iCalendar (RFC 5545) invitations attached to meeting emails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText


def entry_uid(registration_id: uuid.UUID, *, companion_email: str | None = None) -> str:
    """The stable UID of a calendar entry, so a later update or cancel replaces it: the
    registration's for the member, and one of their own for each companion (derived from the
    registration and the companion's address), so each is the attendee of their own entry."""
    if companion_email is None:
        return f"{registration_id}@tilmeld"
    return f"{uuid.uuid5(registration_id, companion_email.lower())}@tilmeld"


def invitation(
    *,
    registration_id: uuid.UUID,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    online_url: str | None,
    attendee_email: str | None = None,
    attendee_name: str | None = None,
    companion: bool = False,
    organiser_email: str | None = None,
    method: Literal["REQUEST", "CANCEL", "PUBLISH"] = "REQUEST",
    sequence: int = 0,
) -> str:
    """One event per registration, or per companion of it (`companion`: the attendee is a
    companion, whose entry is their own); see `entry_uid`.

    REQUEST and CANCEL go by email with organiser and attendee; PUBLISH is the file a person
    downloads from the confirmation page, which names no one."""
    calendar = Calendar()
    calendar.add("prodid", "-//Tilmeld//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add(
        "uid",
        entry_uid(registration_id, companion_email=attendee_email if companion else None),
    )
    event.add("sequence", sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", title)
    where = location or online_url
    if where:
        event.add("location", where)
    if online_url:
        event.add("url", online_url)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if organiser_email:
        organiser = vCalAddress(f"mailto:{organiser_email}")
        organiser.params["cn"] = vText("Tilmeld")
        event["organizer"] = organiser
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        if attendee_name:
            attendee.params["cn"] = vText(attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return str(calendar.to_ical().decode())
