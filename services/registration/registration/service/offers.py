"""Waitlist offers: with the waitlist rule "offer" (the meeting's, else its network's), a freed
seat is not given to the next waitlisted person at once but held for them for `offer_hours`;
they accept through the link in their email (GET shows, POST accepts), and an offer that lapses
passes the seat on to the next person.

Seats: a seat on offer is held. It is not in `seats_taken` (nobody sits in it yet) but counts
as taken for everyone else: a new registration that would need it is waitlisted behind, a
second freed seat goes to the next person in line, and a municipality's share counts it. Every
change takes the meeting's row lock first, so an accept, a cancellation, a new registration and
the expiry scheduler decide one after another, never two people for one seat.

Expiry (service/offer_expiry.py): the registration is cancelled (`cancelled_by`
"offer_expired"): the events are `SeatOfferExpired` (the offer lapsed; `status` "cancelled")
followed by `RegistrationCancelled` in the same transaction, so consumers that only know
cancellations count it as one. Then the seat is offered to the next person. An offer never
outlasts the meeting's start: it expires at the earlier of `offer_hours` from now and the
start, and once the meeting has begun nobody is offered a seat any more.

A held seat stays held whatever happens to the rule meanwhile: switched to "automatic", the open
offers run their course and only seats beyond them are given out at once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration import domain, tokens
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import offers as offer_rows
from registration.repository import registrations as registration_rows
from registration.service.registration_events import announce, cancel_url, event_state
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    Companion,
    PersonalData,
    RegistrationPromoted,
    SeatOffered,
)
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

log = logging.getLogger(__name__)

R = TypeVar("R")
OFFER_PURPOSE = "accept-offer"

# Where an offer stands, as the accept page and GET /registrations/{id}/offer say it:
# open (the seat is held until offer_expires_at), accepted, expired, declined (the registration
# was cancelled while it was open), none (this registration was never offered a seat).
OfferStatus = Literal["open", "accepted", "expired", "declined", "none"]


# --- the link ---------------------------------------------------------------------------------


def offer_token(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    # No expiry inside the token: the offer's own state decides (one offer per registration).
    return tokens.issue(
        ctx.settings.effective_token_secret, OFFER_PURPOSE, registration_id, expires_at=None
    )


def offer_token_valid(ctx: ServiceContext, registration_id: uuid.UUID, token: str) -> bool:
    return bool(token) and tokens.verify(
        ctx.settings.effective_token_secret, OFFER_PURPOSE, registration_id, token, now=None
    )


def offer_url(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    token = offer_token(ctx, registration_id)
    return f"{ctx.settings.public_base_url}/offer/registrations/{registration_id}?token={token}"


# --- the rule ---------------------------------------------------------------------------------


def waitlist_rule(meeting: asyncpg.Record, network: asyncpg.Record) -> str:
    """ "automatic" or "offer": the meeting's own rule when it has one, else the network's."""
    return str(meeting.get("waitlist") or network.get("waitlist") or "automatic")


def offer_hours(ctx: ServiceContext, meeting: asyncpg.Record, network: asyncpg.Record) -> int:
    hours = meeting.get("offer_hours") or network.get("offer_hours")
    return int(hours or ctx.settings.offer_hours_default)


def offer_status(registration: asyncpg.Record, *, now: datetime) -> OfferStatus:
    """Where the registration's offer stands at `now`: an open offer past its time has expired
    even before the scheduler has come by (it cannot be accepted any more)."""
    state = registration["offer_state"]
    if state == "open":
        return "open" if now < registration["offer_expires_at"] else "expired"
    if state in ("accepted", "expired", "declined"):
        return state  # type: ignore[no-any-return]
    return "none"


# --- seats ------------------------------------------------------------------------------------


async def next_in_line(
    conn: Connection, meeting: asyncpg.Record
) -> list[domain.WaitingRegistration]:
    """Who the free seats go to (given or offered), by the usual rules: in registration order,
    each that fits the seats left beside those on offer and its municipality's share."""
    waitlist = [
        domain.WaitingRegistration(row["id"], row["seats"], row["share_key"])
        for row in await offer_rows.waiting(conn, meeting["id"])
    ]
    if not waitlist:
        return []
    share = meeting["seats_per_municipality"]
    on_offer = await offer_rows.seats_on_offer(conn, meeting["id"])
    return domain.select_promotions(
        capacity=meeting["capacity"],
        seats_taken=meeting["seats_taken"] + on_offer,
        waitlist=waitlist,
        share=share,
        held=await offer_rows.seats_held_by_municipality(conn, meeting["id"]) if share else None,
    )


async def offer_free_seats(
    conn: Connection, ctx: ServiceContext, meeting: asyncpg.Record, network: asyncpg.Record
) -> list[uuid.UUID]:
    """Offer the free seats to the next in line (`SeatOffered` each); the ids offered.

    The caller holds the meeting's row lock and has read the meeting under it."""
    now = ctx.clock.now()
    held_for = timedelta(hours=offer_hours(ctx, meeting, network))
    expires_at = min(now + held_for, meeting["starts_at"])
    if expires_at <= now:
        return []  # the meeting has begun: no one could still come for an offered seat
    offered = []
    for waiting in await next_in_line(conn, meeting):
        row = await offer_rows.offer(conn, waiting.registration_id, at=now, expires_at=expires_at)
        state = await offer_state(conn, ctx, row, meeting, network, action_url=True)
        await announce(conn, SeatOffered(**state), meeting_id=meeting["id"])
        offered.append(waiting.registration_id)
    return offered


async def offer_state(
    conn: Connection,
    ctx: ServiceContext,
    registration: asyncpg.Record,
    meeting: asyncpg.Record,
    network: asyncpg.Record,
    *,
    action_url: bool = False,
) -> dict[str, Any]:
    """The registration's state as events carry it, with the offer's expiry and (for the offer
    itself) the accept link sealed with the person's data."""
    member = await member_rows.get(conn, registration["member_id"])
    assert member is not None
    state = await event_state(
        conn, ctx, registration, meeting, member=member, network=network, with_personal=False
    )
    if member["email"] is not None and member["data_key"] is not None:
        state["personal_sealed"] = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                companions=[Companion(**c) for c in registration["companions"] if c.get("name")],
                cancel_url=cancel_url(ctx, registration["id"]),
                action_url=offer_url(ctx, registration["id"]) if action_url else None,
            ),
        )
    state["offer_expires_at"] = registration["offer_expires_at"]
    return state


# --- accepting --------------------------------------------------------------------------------


async def accept_offer_within(
    conn: Connection, ctx: ServiceContext, registration_id: uuid.UUID, *, token: str
) -> asyncpg.Record:
    """Take the offered seat: the registration is confirmed (`RegistrationPromoted`). Accepting
    again answers with the confirmed registration and changes nothing."""
    found = await registration_rows.get(conn, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    if not offer_token_valid(ctx, registration_id, token):
        raise Forbidden("The offer link's token is missing or wrong.")
    # Lock order is always meeting, then registration, as everywhere seats change.
    meeting = await meeting_rows.lock(conn, found["meeting_id"])
    assert meeting is not None
    current = await registration_rows.get(conn, registration_id)
    assert current is not None
    status = offer_status(current, now=ctx.clock.now())
    if status == "accepted" and current["status"] == "confirmed":
        return current
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    if status == "expired":
        raise Conflict(
            "The offer has expired; the seat has gone to the next person on the waitlist.",
            slug="offer-expired",
            offer_expires_at=current["offer_expires_at"].isoformat(),
        )
    if current["status"] == "cancelled":
        raise Conflict("The registration is cancelled.", slug="already-cancelled")
    if status != "open":
        raise Conflict("There is no seat on offer for this registration.", slug="no-offer")
    if not domain.fits(
        capacity=meeting["capacity"], seats_taken=meeting["seats_taken"], seats=current["seats"]
    ):
        # Cannot happen while capacity may not shrink below the seats taken and held; checked
        # all the same, since two people in one seat is the one thing that must never be.
        raise Conflict("The seat is no longer available.", slug="seat-unavailable")
    registration = await registration_rows.set_status(
        conn, registration_id, status="confirmed", at=ctx.clock.now()
    )
    network = await network_rows.get(conn, meeting["network_id"])
    assert network is not None
    state = await offer_state(conn, ctx, registration, meeting, network)
    state["offer_expires_at"] = None  # taken: nothing is held any more
    await announce(
        conn,
        RegistrationPromoted(**state),
        meeting_id=meeting["id"],
        seats_delta=registration["seats"],
    )
    return registration


async def accept_offer(
    tx: Transactions,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    token: str,
    once: Once[asyncpg.Record, R],
) -> R:
    """The person takes the seat offered to them, with the token from their link."""
    return await tx.once(
        once, lambda conn: accept_offer_within(conn, ctx, registration_id, token=token)
    )


class Offer(NamedTuple):
    registration: asyncpg.Record
    meeting: asyncpg.Record
    member: asyncpg.Record
    network: asyncpg.Record
    status: OfferStatus


async def offer_for_person(
    tx: Transactions, ctx: ServiceContext, registration_id: uuid.UUID, *, token: str
) -> Offer:
    """The offer as its link shows it; NotFound or Forbidden (a wrong token) otherwise."""

    async def read(conn: Connection) -> Offer:
        registration = await registration_rows.get(conn, registration_id)
        if registration is None:
            raise NotFound(f"No registration {registration_id}.")
        if not offer_token_valid(ctx, registration_id, token):
            raise Forbidden("The offer link's token is missing or wrong.")
        meeting = await meeting_rows.get(conn, registration["meeting_id"])
        member = await member_rows.get(conn, registration["member_id"])
        assert meeting is not None and member is not None
        network = await network_rows.get(conn, meeting["network_id"])
        assert network is not None
        status = offer_status(registration, now=ctx.clock.now())
        return Offer(registration, meeting, member, network, status)

    return await tx.read(read)
