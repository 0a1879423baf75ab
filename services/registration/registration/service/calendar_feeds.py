"""Calendar feeds a calendar app subscribes to: a network's public meetings, a member's own.

The public feed is what the public pages may show: meetings open to the public, never an
online link (that is for those with a seat). The member's feed is reached with a signed token
scoped to that member's feed alone; it carries the online link for a confirmed seat only, as
the confirmation page does, and a waitlisted registration as TENTATIVE.

Each feed is built the same way every time from what is stored (DTSTAMP is when the entry last
changed, not the time of the request), so its hash is a stable ETag and a calendar app polling
an unchanged feed gets a 304.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from icalendar import Calendar, Event

from registration import tokens
from registration.repository import co_hosts as co_host_rows
from registration.repository import meetings as meeting_rows
from registration.service.networks import network_within
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.calendar import entry_uid
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Forbidden

MEMBER_FEED = "member-calendar-feed"


@dataclass(frozen=True)
class Feed:
    """An iCalendar body, its ETag and when anything in it last changed."""

    body: str
    etag: str
    last_modified: datetime


def member_feed_token(ctx: ServiceContext, member_id: uuid.UUID) -> str:
    """The token of the member's own feed: it opens that feed and nothing else, and does not
    expire, since a calendar app keeps polling the address it was given."""
    return tokens.issue(
        ctx.settings.effective_token_secret, MEMBER_FEED, member_id, expires_at=None
    )


def member_feed_path(ctx: ServiceContext, member_id: uuid.UUID) -> str:
    """The feed's address (under the API's prefix), token included."""
    return f"/api/v1/members/{member_id}/calendar.ics?token={member_feed_token(ctx, member_id)}"


async def network_feed(tx: Transactions, network_id: uuid.UUID) -> Feed:
    """The network's public meetings as a calendar; NotFound for an unknown network."""

    async def read(conn: Connection) -> Feed:
        network = await network_within(conn, network_id)
        # Joint meetings too: a meeting is listed under each of its hosts.
        rows = await co_host_rows.public_feed(conn, network_id)
        events = [_event(row, uid=f"{row['id']}@tilmeld", online_url=None) for row in rows]
        changed = [network["updated_at"], *(row["updated_at"] for row in rows)]
        return _feed(network["title"], events, changed)

    return await tx.read(read)


async def member_feed(
    tx: Transactions, ctx: ServiceContext, member_id: uuid.UUID, token: str
) -> Feed:
    """The member's registrations as a calendar; Forbidden without the feed's own token."""
    secret = ctx.settings.effective_token_secret
    if not tokens.verify(secret, MEMBER_FEED, member_id, token, now=None):
        raise Forbidden("This link does not open this calendar.")

    async def read(conn: Connection) -> Feed:
        rows = await meeting_rows.member_feed(conn, member_id)
        events = [_registration_event(row) for row in rows]
        changed = [
            stamp
            for row in rows
            for stamp in (row["updated_at"], row["registration_changed_at"])
            if stamp is not None
        ]
        return _feed("Tilmeld", events, changed)

    return await tx.read(read)


def _registration_event(row: asyncpg.Record) -> Event:
    confirmed = row["registration_status"] == "confirmed"
    event = _event(
        row,
        # The registration's UID, the same as the entry its emails carry.
        uid=entry_uid(row["registration_id"]),
        online_url=row["online_url"] if confirmed else None,
    )
    if row["status"] != "cancelled" and not confirmed:
        event["status"] = "TENTATIVE"
    return event


def _event(row: asyncpg.Record, *, uid: str, online_url: str | None) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", row["version"])
    event.add("dtstamp", row["updated_at"].astimezone(UTC))
    event.add("dtstart", row["starts_at"].astimezone(UTC))
    event.add("dtend", row["ends_at"].astimezone(UTC))
    event.add("summary", row["title"])
    if row["description"]:
        event.add("description", row["description"])
    where = row["location"] or online_url
    if where:
        event.add("location", where)
    if online_url:
        event.add("url", online_url)
    event.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
    return event


def _feed(name: str, events: Iterable[Event], changed: list[datetime]) -> Feed:
    calendar = Calendar()
    calendar.add("prodid", "-//Tilmeld//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(event)
    body = calendar.to_ical().decode()
    digest = hashlib.sha256(body.encode()).hexdigest()[:32]
    last = max(changed, default=datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC)
    return Feed(body=body, etag=f'"{digest}"', last_modified=last.replace(microsecond=0))
