"""iCalendar (RFC 5545) invitations attached to meeting emails."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText
from icalendar.parser import Contentline


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
    downloads from the confirmation page, which names no one.

    The meeting's part is built once and kept (a meeting's emails differ only in the person's
    lines): each email stamps its own UID, SEQUENCE, DTSTAMP and attendee into it."""
    lines = list(
        _meeting_entry(
            title,
            starts_at,
            ends_at,
            location,
            online_url,
            organiser_email,
            method,
            attendee=bool(attendee_email),
        )
    )
    uid = entry_uid(registration_id, companion_email=attendee_email if companion else None)
    for index, line in enumerate(lines):
        if line == _DTSTAMP_LINE:
            lines[index] = f"DTSTAMP:{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        elif line == _UID_LINE:
            lines[index] = f"UID:{uid}"
        elif line == _SEQUENCE_LINE:
            lines[index] = f"SEQUENCE:{sequence}"
        elif line == _ATTENDEE_LINE:
            attendee = _attendee(attendee_email or "", attendee_name)
            lines[index] = (
                Contentline.from_parts("ATTENDEE", attendee.params, attendee).to_ical().decode()
            )
    return "\r\n".join(lines)


# Stand-ins for the person's lines in a meeting's entry; short, so never folded.
_PLACEHOLDER = "tilmeld-placeholder"
_DTSTAMP = datetime(1970, 1, 1, tzinfo=UTC)
_DTSTAMP_LINE = "DTSTAMP:19700101T000000Z"
_UID_LINE = f"UID:{_PLACEHOLDER}"
_SEQUENCE_LINE = "SEQUENCE:-1"
_ATTENDEE_LINE = f"ATTENDEE:{_PLACEHOLDER}"


@functools.lru_cache(maxsize=256)
def _meeting_entry(
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    online_url: str | None,
    organiser_email: str | None,
    method: str,
    *,
    attendee: bool,
) -> tuple[str, ...]:
    """The calendar's folded lines, the person's as placeholders (see `invitation`)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Tilmeld//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", _PLACEHOLDER)
    event.add("sequence", -1)
    event.add("dtstamp", _DTSTAMP)
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
    if attendee:
        event.add("attendee", vText(_PLACEHOLDER), encode=False)
    calendar.add_component(event)
    lines = tuple(calendar.to_ical().decode().split("\r\n"))
    placeholders = {_DTSTAMP_LINE, _UID_LINE, _SEQUENCE_LINE} | (
        {_ATTENDEE_LINE} if attendee else set()
    )
    assert placeholders <= set(lines), "a person's line is not where it is stamped"
    return lines


def _attendee(email: str, name: str | None) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{email}")
    if name:
        attendee.params["cn"] = vText(name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    return attendee
