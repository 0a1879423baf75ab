"""Waitlist offers: the person a freed seat is held for gets the link to accept it and until
when it is held; if it lapses, they are told the seat has gone on. Each keeps the local copy of
the registration as every registration event does.

The expiry is written in the meeting's own time zone (the one its time is given in), in the
person's language. The cancellation that follows an expiry (`RegistrationCancelled` by
"offer_expired") tells nobody anything more: the expiry email has said it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from notification import rendering
from notification.repository import meetings, registrations
from notification.service.recipients import Outgoing, is_over, to_member
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import RegistrationState, SeatOffered, SeatOfferExpired


def format_moment(moment: datetime, timezone: str, language: str) -> str:
    """One moment in the meeting's zone, the person's way: "Friday, 6 June 2025, 14:00 (CEST)"."""
    local = moment.astimezone(ZoneInfo(timezone))
    locale = rendering.LOCALES.get(language, language)
    day = format_date(local, "full", locale=locale)
    return f"{day}, {format_time(local, 'short', locale=locale)} ({local.tzname()})"


async def _offer_email(
    conn: Connection,
    settings: Settings,
    payload: RegistrationState,
    version: int,
    template: str,
) -> list[Outgoing]:
    registration = await registrations.store_registration(conn, payload, version=version)
    if registration is None:
        return []  # an older state than we hold: nothing to tell anyone
    meeting = await meetings.get_meeting(conn, payload.meeting_id)
    personal = payload.personal
    if personal is None or meeting is None or is_over(meeting):
        return []
    if payload.offer_expires_at is None or meeting["status"] == "cancelled":
        return []
    email = to_member(settings, registration, template, meeting, None, payload)
    language = rendering.language_or_fallback(registration["language"])
    email.context["expires"] = format_moment(
        payload.offer_expires_at, meeting["timezone"], language
    )
    email.context["dedupe_key"] = f"{template}:{payload.registration_id}"
    if template == "seat_offered":
        if not personal.action_url:
            return []  # nothing to accept with
        email.context["action_url"] = personal.action_url
    else:
        email.context["cancel_url"] = None  # cancelled already: the link would lead nowhere
    return [email]


async def seat_offered(
    conn: Connection, settings: Settings, payload: SeatOffered, version: int
) -> list[Outgoing]:
    """The seat is held for them: the accept link as the email's main action."""
    return await _offer_email(conn, settings, payload, version, "seat_offered")


async def seat_offer_expired(
    conn: Connection, settings: Settings, payload: SeatOfferExpired, version: int
) -> list[Outgoing]:
    """The offer lapsed: the seat has gone on and their registration is cancelled."""
    return await _offer_email(conn, settings, payload, version, "offer_expired")
