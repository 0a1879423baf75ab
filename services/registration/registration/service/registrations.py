"""Use cases of meeting registrations: register, cancel, promote from the waitlist, check in.

cancel_token and cancel_token_valid (from registration_events) are named here too, where the
self-service pages look for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration import domain
from registration.outbox import outbox_entry
from registration.repository import answers as answer_rows
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import registrations as registration_rows
from registration.service import answers, co_hosts, feedback, offers
from registration.service.commands import RegistrationIn
from registration.service.members import member_for_sign_up
from registration.service.organisations import require_in_scope
from registration.service.registration_events import (
    announce,
    event_state,
    state_of,
)
from registration.service.registration_events import (
    cancel_token as cancel_token,
)
from registration.service.registration_events import (
    cancel_token_valid as cancel_token_valid,
)
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    AttendanceRecorded,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound

CancelledBy = Literal["member", "organiser", "meeting_cancelled", "erasure", "term_ended"]
R = TypeVar("R")


class Registered(NamedTuple):
    registration: asyncpg.Record
    waitlist_position: int | None
    cancel_token: str


async def register_for_meeting_within(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: RegistrationIn
) -> Registered:
    """Register a person (and companions) for a meeting: confirmed while seats last, else
    waitlisted; their answers to the meeting's questions must fit them."""
    locked = await meeting_rows.lock_for_registering(conn, meeting_id)
    if locked is None:
        raise NotFound(f"No meeting {meeting_id}.")
    meeting, network = locked.meeting, locked.network
    now = ctx.clock.now()
    _still_open(meeting, now=now)
    _companions_allowed(command, max_companions=network["max_companions"])
    given = answers.checked_answers(answers.questions_of(meeting["questions"]), command.answers)
    member = await member_for_sign_up(conn, ctx.vault, command.member, register=locked.register)
    standing = await _may_register(conn, ctx, meeting, member["id"], now=now)
    registered = await place_registration(
        conn,
        ctx,
        meeting,
        network,
        member,
        companions=[companion.model_dump(mode="json") for companion in command.companions],
        now=now,
        on_offer=standing.on_offer,
    )
    if given:
        # Sealed with the member's key and in no event: RegistrationState.answers stays empty
        # for a meeting's questions, since dietary or accessibility answers are health data
        # (see service/answers.py).
        sealed = answers.seal(ctx.vault, member["id"], member["data_key"], given)
        await answer_rows.store(conn, registered.registration["id"], sealed.model_dump(mode="json"))
    return registered


async def place_registration(
    conn: Connection,
    ctx: ServiceContext,
    meeting: asyncpg.Record,
    network: asyncpg.Record,
    member: asyncpg.Record,
    *,
    companions: list[dict[str, Any]],
    now: datetime,
    automatic: bool = False,
    on_offer: int | None = None,
) -> Registered:
    """A seat if the person's seats fit (and their municipality's share), else a place on the
    waitlist, with its event. The caller holds the meeting's row lock (read under it) and has
    checked that the person may register; `automatic`: series enrolment registers them;
    `on_offer`: the meeting's seats on offer, if the caller has read them under the lock."""
    seats = domain.seats_for(len(companions))
    # A seat on offer is held for its person: a newcomer who would need it waits behind.
    confirmed = (
        domain.fits(capacity=meeting["capacity"], seats_taken=meeting["seats_taken"], seats=seats)
        and await offers.fits_beside_offers(conn, meeting, seats=seats, on_offer=on_offer)
        and await _within_share(conn, meeting, member, seats=seats)
    )
    # The registration, its event and the meeting's new version go in one statement; the
    # version and the waitlist position are the database's to fill in (see INSERT_ANNOUNCED).
    registration = {
        "id": uuid.uuid4(),
        "member_id": member["id"],
        "status": "confirmed" if confirmed else "waitlisted",
        "seats": seats,
        "companions": companions,
        "created_at": now,
        "automatic": automatic,
    }
    state = state_of(ctx, registration, meeting, member, network, waitlist_position=None)
    event = RegistrationConfirmed(**state) if confirmed else RegistrationWaitlisted(**state)
    row = await registration_rows.insert_announced(
        conn,
        registration_id=registration["id"],
        meeting_id=meeting["id"],
        member_id=member["id"],
        status=registration["status"],
        seats=seats,
        companions=companions,
        created_at=now,
        automatic=automatic,
        event=outbox_entry(
            event,
            aggregate_id=meeting["id"],
            aggregate_version=meeting["version"] + 1,  # the statement writes the real one
            key=meeting["id"],
        ),
    )
    return Registered(row, row["waitlist_position"], cancel_token(ctx, row["id"]))


async def _within_share(
    conn: Connection, meeting: asyncpg.Record, member: asyncpg.Record, *, seats: int
) -> bool:
    """Whether the seats fit the member's municipality's share of the meeting (if it has one).

    The caller holds the meeting's row lock: concurrent registrations from one municipality
    count one after another, so its share cannot be overbooked."""
    share = meeting["seats_per_municipality"]
    if share is None:
        return True
    key = domain.share_key(member["municipality_id"], member["municipality_key"])
    held = await offers.seats_of_municipality(conn, meeting["id"], key)
    return domain.within_share(share=share, held=held, seats=seats)


def _still_open(meeting: asyncpg.Record, *, now: datetime) -> None:
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    if domain.registration_closed(
        now=now,
        starts_at=meeting["starts_at"],
        registration_deadline=meeting["registration_deadline"],
    ):
        raise Conflict("Registration for this meeting has closed.", slug="deadline-passed")


def _companions_allowed(command: RegistrationIn, *, max_companions: int) -> None:
    if len(command.companions) > max_companions:
        raise Invalid(
            f"This network allows at most {max_companions} companion(s).",
            errors=[{"field": "companions", "in": "body", "message": f"at most {max_companions}"}],
        )


async def _may_register(
    conn: Connection,
    ctx: ServiceContext,
    meeting: asyncpg.Record,
    member_id: uuid.UUID,
    *,
    now: datetime,
) -> registration_rows.Standing:
    """Refuse a person who is not a member (of a members' meeting), already registered, or
    at the cap of active registrations; what was read about them (and the seats on offer)."""
    # A joint meeting's members-only seats are for the members of any of its hosts.
    if (
        not meeting["open_to_public"]
        and await co_hosts.member_of_a_host(conn, meeting, member_id) is None
    ):
        raise Conflict(
            "Only active members of the network may register for this meeting; enrol first.",
            slug="not-enrolled",
            network_id=str(meeting["network_id"]),
        )
    standing = await registration_rows.standing(conn, meeting["id"], member_id, now=now)
    if standing.registered:
        # No id in the answer: whoever typed the address is not necessarily the person.
        raise Conflict(
            "This person already has an active registration for the meeting; the confirmation "
            "email has the link to it.",
            slug="already-registered",
        )
    cap = ctx.settings.max_active_registrations_per_email
    if cap and standing.active >= cap:
        raise Conflict(
            f"This person already holds {cap} active registrations, the most allowed.",
            slug="registration-cap",
        )
    return standing


async def promote_waitlisted(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID
) -> list[uuid.UUID]:
    """Confirm waitlisted registrations in registration order, each one that fits the free
    seats and (if the meeting has one) its municipality's share; under the waitlist rule
    "offer", offer them the seats instead (service/offers.py), and confirm none.

    The caller holds the meeting's row lock."""
    meeting = await meeting_rows.get(conn, meeting_id)
    assert meeting is not None
    if meeting["status"] == "cancelled":
        return []
    network = await network_rows.get(conn, meeting["network_id"])
    assert network is not None
    if offers.waitlist_rule(meeting, network) == "offer":
        await offers.offer_free_seats(conn, ctx, meeting, network)
        return []
    # Seats on offer (from before a switch to "automatic") stay held for their people.
    chosen = await offers.next_in_line(conn, meeting)
    for waiting in chosen:
        registration = await registration_rows.set_status(
            conn, waiting.registration_id, status="confirmed", at=ctx.clock.now()
        )
        state = await event_state(conn, ctx, registration, meeting)
        await announce(
            conn, RegistrationPromoted(**state), meeting_id=meeting_id, seats_delta=waiting.seats
        )
    return [waiting.registration_id for waiting in chosen]


async def cancel_registration_within(
    conn: Connection,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
    cancelled_by: CancelledBy | None = None,
) -> asyncpg.Record:
    """Cancel by the person's token or by an organiser; freed seats promote the waitlist."""
    found = await registration_rows.get(conn, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    # Lock order is always meeting, then registration, so concurrent changes cannot deadlock.
    meeting = await meeting_rows.lock(conn, found["meeting_id"])
    assert meeting is not None
    if not by_organiser and not cancel_token_valid(
        ctx, registration_id, token or "", meeting_ends_at=meeting["ends_at"]
    ):
        raise Forbidden("The cancel token is missing, wrong or expired.")
    current = await registration_rows.get(conn, registration_id)
    assert current is not None
    if current["status"] == "cancelled":
        raise Conflict("The registration is already cancelled.", slug="already-cancelled")
    previous_status = current["status"]
    now = ctx.clock.now()
    registration = await registration_rows.set_status(
        conn, registration_id, status="cancelled", at=now
    )
    state = await event_state(
        conn, ctx, registration, meeting, with_personal=cancelled_by != "erasure"
    )
    freed = registration["seats"] if previous_status == "confirmed" else 0
    await announce(
        conn,
        RegistrationCancelled(
            **state,
            previous_status=previous_status,
            cancelled_at=now,
            cancelled_by=cancelled_by or ("organiser" if by_organiser else "member"),
        ),
        meeting_id=meeting["id"],
        seats_delta=-freed,
    )
    # A seat given up while on offer is free again too (it was held, not taken).
    if freed or current["offer_state"] == "open":
        await promote_waitlisted(conn, ctx, meeting["id"])
    return registration


async def check_in_within(
    conn: Connection, ctx: ServiceContext, registration_id: uuid.UUID
) -> asyncpg.Record:
    """Record that a confirmed registration came; a second check-in changes nothing."""
    found = await registration_rows.get(conn, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    meeting = await meeting_rows.lock(conn, found["meeting_id"])
    assert meeting is not None
    current = await registration_rows.get(conn, registration_id)
    assert current is not None
    if current["status"] != "confirmed":
        raise Conflict(
            f"Only confirmed registrations can check in; this one is {current['status']}.",
            slug="not-confirmed",
        )
    if current["checked_in_at"] is not None:
        return current
    registration = await registration_rows.check_in(conn, registration_id, at=ctx.clock.now())
    # With the person (sealed) and their feedback link: notification writes to those who came
    # once the meeting is held, if it asks for feedback by then.
    state = await event_state(
        conn,
        ctx,
        registration,
        meeting,
        action_url=feedback.feedback_url(ctx, meeting["id"], registration_id),
    )
    await announce(
        conn,
        AttendanceRecorded(**state, checked_in_at=registration["checked_in_at"]),
        meeting_id=meeting["id"],
    )
    return registration


async def registration_within(
    conn: Connection, registration_id: uuid.UUID
) -> tuple[asyncpg.Record, int | None]:
    """The registration and, while it waits, its place on the waitlist."""
    row = await registration_rows.get(conn, registration_id)
    if row is None:
        raise NotFound(f"No registration {registration_id}.")
    return row, await registration_rows.waitlist_position(conn, row)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def register_for_meeting(
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    command: RegistrationIn,
    *,
    once: Once[Registered, R],
) -> R:
    """Register a person (by themselves, or entered by an organiser) for a meeting."""
    return await tx.once(
        once, lambda conn: register_for_meeting_within(conn, ctx, meeting_id, command)
    )


async def cancel_registration(
    tx: Transactions,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    token: str | None,
    organiser: Principal | None,
    once: Once[asyncpg.Record, R],
) -> R:
    """Cancel: the person with their token, or an organiser of the meeting's own."""

    async def cancel(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "registration", registration_id)
        return await cancel_registration_within(
            conn, ctx, registration_id, token=token, by_organiser=organiser is not None
        )

    return await tx.once(once, cancel)


async def check_in(
    tx: Transactions,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Record attendance, for an organiser of the meeting's own."""

    async def record(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "registration", registration_id)
        return await check_in_within(conn, ctx, registration_id)

    return await tx.once(once, record)


async def get_registration(
    tx: Transactions, registration_id: uuid.UUID, *, organiser: Principal
) -> tuple[asyncpg.Record, int | None]:
    """The registration and its waitlist position, for an organiser of the meeting's own."""

    async def read(conn: Connection) -> tuple[asyncpg.Record, int | None]:
        await require_in_scope(conn, organiser, "registration", registration_id)
        return await registration_within(conn, registration_id)

    return await tx.read(read)


class RegistrationInFull(NamedTuple):
    registration: asyncpg.Record
    meeting: asyncpg.Record  # as shown, with its waitlist's length
    member: asyncpg.Record
    network: asyncpg.Record
    waitlist_position: int | None


async def registration_in_full(
    tx: Transactions, registration_id: uuid.UUID
) -> RegistrationInFull | None:
    """The registration with its meeting, member and network, for the person's own pages
    (which check the person's token); None if there is no such registration."""

    async def read(conn: Connection) -> RegistrationInFull | None:
        registration = await registration_rows.get(conn, registration_id)
        if registration is None:
            return None
        meeting = await meeting_rows.view(conn, registration["meeting_id"])
        member = await member_rows.get(conn, registration["member_id"])
        assert meeting is not None and member is not None
        network = await network_rows.get(conn, meeting["network_id"])
        assert network is not None
        position = await registration_rows.waitlist_position(conn, registration)
        return RegistrationInFull(registration, meeting, member, network, position)

    return await tx.read(read)
