"""Use cases of meeting registrations: register, cancel, promote from the waitlist, check in.

cancel_token and cancel_token_valid (from registration_events) are named here too, where the
self-service pages look for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration import domain
from registration.municipalities import Register
from registration.outbox import outbox_entry
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import municipalities as municipality_rows
from registration.repository import networks as network_rows
from registration.repository import registrations as registration_rows
from registration.service import answers, feedback, municipalities, offers
from registration.service.commands import RegistrationIn
from registration.service.municipalities import TypedMunicipality
from registration.service.organisations import require_in_scope
from registration.service.registration_events import (
    announce,
    cancel_url,
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
    Companion,
    PersonalData,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
)
from tilmeld_shared.problems import Conflict, Forbidden, Invalid, NotFound, Problem

CancelledBy = Literal["member", "organiser", "meeting_cancelled", "erasure", "term_ended"]
R = TypeVar("R")


class Registered(NamedTuple):
    registration: asyncpg.Record
    waitlist_position: int | None
    cancel_token: str


# The questions of each meeting as the database last told them, checked against in the process
# before the statement that registers (which checks that the meeting still asks them). A meeting
# not in here is taken to ask none, as most do.
_questions_seen: dict[uuid.UUID, list[dict[str, Any]]] = {}
_QUESTIONS_SEEN_MAX = 10_000
# Each attempt after the first corrects one assumption (questions, register, member), which may
# change once more meanwhile: past this many, something keeps changing under the registration.
_ATTEMPTS = 6


@dataclass
class _Assumed:
    """What a registration is prepared from until the statement says otherwise."""

    questions: list[dict[str, Any]] | None  # None: not known
    questions_confirmed: bool
    register: tuple[municipality_rows.RegisterVersion, Register]
    member: asyncpg.Record | None = None  # None: a new member


async def register_for_meeting_within(
    conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID, command: RegistrationIn
) -> Registered:
    """Register a person (and companions) for a meeting: confirmed while seats last, else
    waitlisted; their answers to the meeting's questions must fit them.

    One statement registers (register_for_meeting, migration 019), from what this process
    assumes: the meeting's questions as last seen, the municipality register as last read, and
    a new member (whose key it makes, to seal what the event and the answers hold). Under the
    meeting's lock the statement checks each assumption and, where one does not hold, answers
    with the fact and writes nothing; the registration is then prepared again from it. So a
    person who registered before costs a second statement: their own key and details seal."""
    companions = [companion.model_dump(mode="json") for companion in command.companions]
    registration_id = uuid.uuid4()
    now = ctx.clock.now()
    questions = _questions_seen.get(meeting_id)
    assumed = _Assumed(
        questions=[] if questions is None else questions,
        questions_confirmed=False,
        register=await municipality_rows.latest_register(conn),
    )
    for _ in range(_ATTEMPTS):
        registering = _prepared(
            ctx, meeting_id, command, assumed, registration_id, companions=companions, now=now
        )
        try:
            row = await registration_rows.register(conn, registering)
        except registration_rows.Refused as refused:
            raise _refusal(refused, ctx, meeting_id, command) from None
        outcome = row["outcome"]
        if outcome == "registered":
            return Registered(
                row["registration"], row["waitlist_position"], cancel_token(ctx, registration_id)
            )
        if outcome == "questions":
            assumed.questions, assumed.questions_confirmed = row["questions"], True
            if len(_questions_seen) >= _QUESTIONS_SEEN_MAX:
                _questions_seen.clear()
            _questions_seen[meeting_id] = row["questions"]
        elif outcome == "register":
            version = (row["register_n"], row["register_newest"])
            assumed.register = version, await municipality_rows.register(conn, version=version)
        else:
            assert outcome == "member"
            assumed.member = row["member"]
    raise Conflict(
        "The meeting or the person changed while registering; try again.", slug="try-again"
    )


def _prepared(
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    command: RegistrationIn,
    assumed: _Assumed,
    registration_id: uuid.UUID,
    *,
    companions: list[dict[str, Any]],
    now: datetime,
) -> registration_rows.Registering:
    """The statement's arguments, prepared from what is assumed: the answers checked (422 only
    against questions the database confirmed), the municipality resolved, and the event's
    personal data and the answers sealed for the member."""
    questions, given = assumed.questions, {}
    if questions is not None:
        try:
            given = answers.checked_answers(answers.questions_of(questions), command.answers)
        except Invalid:
            if assumed.questions_confirmed:
                raise
            questions = None  # the meeting's questions may have changed: the statement says
    (register_n, register_newest), register = assumed.register
    # None: an id this register does not hold; the statement refuses it if the register is
    # current, and the name is not used.
    typed = municipalities.typed_in(register, command.member) or TypedMunicipality(
        command.member.municipality or "", "", command.member.municipality_id
    )
    new_member_id = uuid.uuid4()
    new_data_key = ctx.vault.new_wrapped_key(new_member_id)  # used only if this is a new member
    member = assumed.member
    resolved = None
    if member is None:
        sealed_for, name, email, key = (
            new_member_id,
            command.member.name,
            command.member.email,
            new_data_key,
        )
    else:
        sealed_for, name, email = member["id"], member["name"], member["email"]
        key = member["data_key"] or ctx.vault.new_wrapped_key(member["id"])
        if member["municipality_id"] is None:
            # Not yet resolved: the register may have learnt the stored name since.
            resolved = municipalities.resolved_in(register, member["municipality"])
    seats = domain.seats_for(len(companions))
    personal = ctx.vault.seal(
        sealed_for,
        key,
        PersonalData(
            name=name,
            email=email,
            companions=[Companion(**c) for c in companions if c.get("name")],
            cancel_url=cancel_url(ctx, registration_id),
        ),
    )
    # Sealed with the member's key and in no event: RegistrationState.answers stays empty for a
    # meeting's questions, since dietary or accessibility answers are health data (see
    # service/answers.py).
    sealed_answers = answers.seal(ctx.vault, sealed_for, key, given) if given else None
    event = outbox_entry(
        RegistrationConfirmed(
            registration_id=registration_id,
            meeting_id=meeting_id,
            member_id=sealed_for,
            seats=seats,
            companions=seats - 1,
            registered_at=now,
            personal_sealed=personal,
            automatic=False,
            # What the database holds the statement writes over these: the meeting's network,
            # the member's municipality, country and language, the status, the place in line.
            network_id=meeting_id,
            municipality="",
            language="da",
            status="confirmed",
        ),
        aggregate_id=meeting_id,
        aggregate_version=1,  # the statement writes the meeting's next version
        key=meeting_id,
    )
    return registration_rows.Registering(
        meeting_id=meeting_id,
        now=now,
        seats=seats,
        companions=companions,
        questions=questions,
        register_n=register_n,
        register_newest=register_newest,
        email=command.member.email,
        name=command.member.name,
        municipality=typed.name,
        role=command.member.role,
        organisation=command.member.organisation,
        language=command.member.language,
        municipality_id=typed.municipality_id,
        municipality_key=typed.key,
        new_member_id=new_member_id,
        new_data_key=new_data_key,
        sealed_for=sealed_for,
        sealed_name=name,
        sealed_email=email,
        sealed_key=key,
        resolved_id=resolved.municipality_id if resolved else None,
        resolved_key=resolved.key if resolved else None,
        cap=ctx.settings.max_active_registrations_per_email or 0,
        registration_id=registration_id,
        answers_sealed=sealed_answers.model_dump(mode="json") if sealed_answers else None,
        event_id=event.event_id,
        topic=event.topic,
        message_key=event.message_key,
        envelope=event.envelope,
        traceparent=event.traceparent,
        tracestate=event.tracestate,
    )


def _refusal(
    refused: registration_rows.Refused,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    command: RegistrationIn,
) -> Problem:
    """The problem a refusal of register_for_meeting names."""
    match refused.slug:
        case "no-meeting":
            return NotFound(f"No meeting {meeting_id}.")
        case "meeting-cancelled":
            return Conflict("The meeting is cancelled.", slug="meeting-cancelled")
        case "deadline-passed":
            return Conflict("Registration for this meeting has closed.", slug="deadline-passed")
        case "too-many-companions":
            most = refused.detail
            return Invalid(
                f"This network allows at most {most} companion(s).",
                errors=[{"field": "companions", "in": "body", "message": f"at most {most}"}],
            )
        case "unknown-municipality":
            assert command.member.municipality_id is not None
            return municipalities.unknown_municipality(command.member.municipality_id)
        case "not-enrolled":
            return Conflict(
                "Only active members of the network may register for this meeting; enrol first.",
                slug="not-enrolled",
                network_id=refused.detail,
            )
        case "already-registered":
            # No id in the answer: whoever typed the address is not necessarily the person.
            return Conflict(
                "This person already has an active registration for the meeting; the "
                "confirmation email has the link to it.",
                slug="already-registered",
            )
        case "registration-cap":
            cap = ctx.settings.max_active_registrations_per_email
            return Conflict(
                f"This person already holds {cap} active registrations, the most allowed.",
                slug="registration-cap",
            )
    raise AssertionError(f"register_for_meeting refused with {refused.slug!r}")


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
) -> Registered:
    """A seat if the person's seats fit (beside those on offer, and within their
    municipality's share), else a place on the waitlist, with its event (place_registration,
    migration 019). The caller holds the meeting's row lock (read under it) and has checked
    that the person may register; `automatic`: series enrolment registers them."""
    seats = domain.seats_for(len(companions))
    registration = {
        "id": uuid.uuid4(),
        "member_id": member["id"],
        "status": "confirmed",  # made "waitlisted", event and all, by the statement if it waits
        "seats": seats,
        "companions": companions,
        "created_at": now,
        "automatic": automatic,
    }
    state = state_of(ctx, registration, meeting, member, network, waitlist_position=None)
    row, position = await registration_rows.place(
        conn,
        registration_id=registration["id"],
        meeting_id=meeting["id"],
        member_id=member["id"],
        seats=seats,
        companions=companions,
        created_at=now,
        automatic=automatic,
        event=outbox_entry(
            RegistrationConfirmed(**state),
            aggregate_id=meeting["id"],
            aggregate_version=meeting["version"] + 1,  # the statement writes the real one
            key=meeting["id"],
        ),
    )
    return Registered(row, position, cancel_token(ctx, row["id"]))


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
    # Its writes are one statement, its own transaction: no BEGIN and COMMIT to wait for.
    return await tx.once(
        once,
        lambda conn: register_for_meeting_within(conn, ctx, meeting_id, command),
        one_statement=True,
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
