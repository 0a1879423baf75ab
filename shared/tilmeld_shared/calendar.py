"""iCalendar (RFC 5545) invitations attached to meeting emails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText


def invitation(
    *,
    registration_id: uuid.UUID,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    online_url: str | None,
    attendee_email: str | None = None,
    organiser_email: str | None = None,
    method: Literal["REQUEST", "CANCEL", "PUBLISH"] = "REQUEST",
    sequence: int = 0,
) -> str:
    """One event per registration; the stable UID lets a later update or cancel replace it.

    REQUEST and CANCEL go by email with organiser and attendee; PUBLISH is the file a person
    downloads from the confirmation page, which names no one."""
    calendar = Calendar()
    calendar.add("prodid", "-//Tilmeld//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{registration_id}@tilmeld")
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
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return str(calendar.to_ical().decode())
