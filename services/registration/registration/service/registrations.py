"""Use cases of meeting registrations: register, cancel, promote from the waitlist, check in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg

from registration import domain, tokens
from registration import repository as repo
from registration.api.schemas import RegistrationIn
from registration.outbox import record_event
from registration.pagination import Cursor
from registration.service.members import member_for_sign_up
from registration.unit_of_work import ServiceContext
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    AttendanceRecorded,
    Companion,
    PersonalData,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationState,
    RegistrationWaitlisted,
)
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound

CANCEL_PURPOSE = "cancel-registration"
CancelledBy = Literal["member", "organiser", "meeting_cancelled", "erasure"]


def cancel_token(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    # No expiry inside the token: a meeting can be postponed after the link was mailed, so
    # the link's life is judged against the meeting's current end (cancel_token_valid).
    return tokens.issue(
        ctx.settings.effective_token_secret, CANCEL_PURPOSE, registration_id, expires_at=None
    )


def cancel_token_valid(
    ctx: ServiceContext, registration_id: uuid.UUID, token: str, *, meeting_ends_at: datetime
) -> bool:
    """The person's cancel link works until the meeting's current end.

    Links mailed before the end could move carry the old end as their expiry; the signature
    still proves them ours, so that embedded expiry is not what decides."""
    return (
        bool(token)
        and ctx.clock.now() <= meeting_ends_at
        and tokens.verify(
            ctx.settings.effective_token_secret, CANCEL_PURPOSE, registration_id, token, now=None
        )
    )


def cancel_url(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    token = cancel_token(ctx, registration_id)
    return f"{ctx.settings.public_base_url}/cancel/registrations/{registration_id}?token={token}"


async def _event_state(
    conn: Connection,
    ctx: ServiceContext,
    registration: asyncpg.Record,
    meeting: asyncpg.Record,
    *,
    with_personal: bool = True,
    member: asyncpg.Record | None = None,
    network: asyncpg.Record | None = None,
) -> dict[str, Any]:
    """The registration's full state as events carry it (see RegistrationState).

    A caller that already read the member or the network passes them in: each saved read is a
    round trip less on the hottest path, registering."""
    if member is None:
        member = await conn.fetchrow(repo.MEMBER, registration["member_id"])
    if network is None:
        network = await conn.fetchrow(repo.NETWORK, meeting["network_id"])
    assert member is not None and network is not None
    personal = None
    if with_personal and member["email"] is not None and member["data_key"] is not None:
        # The cancel link travels sealed with the person: a topic reader is not the person.
        personal = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                companions=[Companion(**c) for c in registration["companions"] if c.get("name")],
                cancel_url=cancel_url(ctx, registration["id"]),
            ),
        )
    return {
        "registration_id": registration["id"],
        "meeting_id": meeting["id"],
        "network_id": meeting["network_id"],
        "member_id": registration["member_id"],
        "municipality": member["municipality"],
        "language": member["language"] or network["language"],
        "status": registration["status"],
        "seats": registration["seats"],
        "companions": registration["seats"] - 1,
        "registered_at": registration["created_at"],
        "waitlist_position": await repo.waitlist_position(conn, registration),
        "personal_sealed": personal,
    }


async def _announce(
    conn: Connection,
    event: RegistrationState,
    *,
    meeting_id: uuid.UUID,
    seats_delta: int = 0,
) -> None:
    version = await repo.bump_meeting(conn, meeting_id, seats_delta=seats_delta)
    await record_event(
        conn, event, aggregate_id=meeting_id, aggregate_version=version, key=meeting_id
    )


async def register_for_meeting(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: RegistrationIn
) -> tuple[asyncpg.Record, int | None, str]:
    """Register a person (and companions) for a meeting: confirmed while seats last, else
    waitlisted. Returns the registration, its waitlist position and its cancel token."""
    meeting = await conn.fetchrow(repo.MEETING_FOR_UPDATE, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    now = ctx.clock.now()
    if domain.registration_closed(
        now=now,
        starts_at=meeting["starts_at"],
        registration_deadline=meeting["registration_deadline"],
    ):
        raise Conflict("Registration for this meeting has closed.", slug="deadline-passed")
    network = await conn.fetchrow(repo.NETWORK, meeting["network_id"])
    assert network is not None
    if len(command.companions) > network["max_companions"]:
        raise Invalid(
            f"This network allows at most {network['max_companions']} companion(s).",
            errors=[
                {
                    "field": "companions",
                    "in": "body",
                    "message": f"at most {network['max_companions']}",
                }
            ],
        )
    member = await member_for_sign_up(conn, ctx.vault, command.member)
    if (
        not meeting["open_to_public"]
        and await conn.fetchrow(repo.ACTIVE_ENROLMENT, meeting["network_id"], member["id"]) is None
    ):
        raise Conflict(
            "Only active members of the network may register for this meeting; enrol first.",
            slug="not-enrolled",
            network_id=str(meeting["network_id"]),
        )
    existing = await conn.fetchval(repo.ACTIVE_REGISTRATION, meeting_id, member["id"])
    if existing is not None:
        # No id in the answer: whoever typed the address is not necessarily the person.
        raise Conflict(
            "This person already has an active registration for the meeting; the confirmation "
            "email has the link to it.",
            slug="already-registered",
        )
    cap = ctx.settings.max_active_registrations_per_email
    if cap and await conn.fetchval(repo.ACTIVE_REGISTRATIONS_OF_MEMBER, member["id"], now) >= cap:
        raise Conflict(
            f"This person already holds {cap} active registrations, the most allowed.",
            slug="registration-cap",
        )
    seats = domain.seats_for(len(command.companions))
    confirmed = domain.fits(
        capacity=meeting["capacity"], seats_taken=meeting["seats_taken"], seats=seats
    )
    registration = await conn.fetchrow(
        repo.INSERT_REGISTRATION,
        uuid.uuid4(),
        meeting_id,
        member["id"],
        "confirmed" if confirmed else "waitlisted",
        seats,
        [companion.model_dump(mode="json") for companion in command.companions],
        now,
    )
    assert registration is not None
    state = await _event_state(conn, ctx, registration, meeting, member=member, network=network)
    if confirmed:
        await _announce(
            conn, RegistrationConfirmed(**state), meeting_id=meeting_id, seats_delta=seats
        )
    else:
        await _announce(conn, RegistrationWaitlisted(**state), meeting_id=meeting_id)
    return registration, state["waitlist_position"], cancel_token(ctx, registration["id"])


async def promote_waitlisted(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID
) -> list[uuid.UUID]:
    """Confirm waitlisted registrations in registration order, each one that fits.

    The caller holds the meeting's row lock."""
    meeting = await conn.fetchrow("SELECT * FROM meetings WHERE id = $1", meeting_id)
    assert meeting is not None
    if meeting["status"] == "cancelled":
        return []
    waitlist = [
        domain.WaitingRegistration(row["id"], row["seats"])
        for row in await conn.fetch(repo.WAITLIST, meeting_id)
    ]
    chosen = domain.select_promotions(
        capacity=meeting["capacity"], seats_taken=meeting["seats_taken"], waitlist=waitlist
    )
    for waiting in chosen:
        registration = await conn.fetchrow(
            repo.SET_REGISTRATION_STATUS, waiting.registration_id, "confirmed", ctx.clock.now()
        )
        assert registration is not None
        state = await _event_state(conn, ctx, registration, meeting)
        await _announce(
            conn, RegistrationPromoted(**state), meeting_id=meeting_id, seats_delta=waiting.seats
        )
    return [waiting.registration_id for waiting in chosen]


async def cancel_registration(
    conn: Connection,
    ctx: ServiceContext,
    registration_id: uuid.UUID,
    *,
    token: str | None,
    by_organiser: bool,
    cancelled_by: CancelledBy | None = None,
) -> asyncpg.Record:
    """Cancel by the person's token or by an organiser; freed seats promote the waitlist."""
    found = await conn.fetchrow(repo.REGISTRATION, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    # Lock order is always meeting, then registration, so concurrent changes cannot deadlock.
    meeting = await conn.fetchrow(repo.MEETING_FOR_UPDATE, found["meeting_id"])
    assert meeting is not None
    if not by_organiser and not cancel_token_valid(
        ctx, registration_id, token or "", meeting_ends_at=meeting["ends_at"]
    ):
        raise Forbidden("The cancel token is missing, wrong or expired.")
    current = await conn.fetchrow(repo.REGISTRATION, registration_id)
    assert current is not None
    if current["status"] == "cancelled":
        raise Conflict("The registration is already cancelled.", slug="already-cancelled")
    previous_status = current["status"]
    now = ctx.clock.now()
    registration = await conn.fetchrow(
        repo.SET_REGISTRATION_STATUS, registration_id, "cancelled", now
    )
    assert registration is not None
    state = await _event_state(
        conn, ctx, registration, meeting, with_personal=cancelled_by != "erasure"
    )
    freed = registration["seats"] if previous_status == "confirmed" else 0
    await _announce(
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
    if freed:
        await promote_waitlisted(conn, ctx, meeting["id"])
    return registration


async def check_in(
    conn: Connection, ctx: ServiceContext, registration_id: uuid.UUID
) -> asyncpg.Record:
    """Record that a confirmed registration came; a second check-in changes nothing."""
    found = await conn.fetchrow(repo.REGISTRATION, registration_id)
    if found is None:
        raise NotFound(f"No registration {registration_id}.")
    meeting = await conn.fetchrow(repo.MEETING_FOR_UPDATE, found["meeting_id"])
    assert meeting is not None
    current = await conn.fetchrow(repo.REGISTRATION, registration_id)
    assert current is not None
    if current["status"] != "confirmed":
        raise Conflict(
            f"Only confirmed registrations can check in; this one is {current['status']}.",
            slug="not-confirmed",
        )
    if current["checked_in_at"] is not None:
        return current
    registration = await conn.fetchrow(repo.CHECK_IN, registration_id, ctx.clock.now())
    assert registration is not None
    state = await _event_state(conn, ctx, registration, meeting, with_personal=False)
    await _announce(
        conn,
        AttendanceRecorded(**state, checked_in_at=registration["checked_in_at"]),
        meeting_id=meeting["id"],
    )
    return registration


async def get_registration(
    conn: Connection, registration_id: uuid.UUID
) -> tuple[asyncpg.Record, int | None]:
    row = await conn.fetchrow(repo.REGISTRATION, registration_id)
    if row is None:
        raise NotFound(f"No registration {registration_id}.")
    return row, await repo.waitlist_position(conn, row)


async def roster(
    conn: Connection, meeting_id: uuid.UUID, *, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    if await conn.fetchrow(repo.MEETING, meeting_id) is None:
        raise NotFound(f"No meeting {meeting_id}.")
    rows = await conn.fetch(
        repo.REGISTRATION_ROSTER, meeting_id, cursor.after_position if cursor else None, limit + 1
    )
    if len(rows) <= limit:
        return list(rows), None
    last_position = await conn.fetchval(repo.POSITION_OF, rows[limit - 1]["registration_id"])
    return list(rows[:limit]), Cursor(after_position=last_position)
