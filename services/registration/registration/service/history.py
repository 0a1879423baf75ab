"""Writing down what already happened: a meeting that was held, who registered and who came.

An organisation moving to Tilmeld brings its past meetings (so does the demo, with the German
series). Each step is the ordinary use case (enrol, register, check in) run under a clock pinned
at the moment it happened, and the events it records say they occurred then: reports chart
participation when it took place, and notification, seeing a meeting that is over in events
long past, emails no one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

import asyncpg

from registration.outbox import occurring_at
from registration.service import enrolments, meetings, registrations
from registration.service.commands import (
    EnrolmentIn,
    HeldMeetingIn,
    HeldRegistrationIn,
    MemberIn,
)
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Clock, Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, Invalid

R = TypeVar("R")


@dataclass(frozen=True)
class PinnedClock(Clock):
    """The time a use case sees when it replays a moment of the past."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


async def record_held_meeting(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: HeldMeetingIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Record a held meeting in a network of the organiser's own, all in one transaction."""

    async def record(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "network", network_id)
        return await record_held_meeting_within(conn, ctx, network_id, command)

    return await tx.once(once, record)


async def record_held_meeting_within(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, command: HeldMeetingIn
) -> asyncpg.Record:
    """Add a meeting that is over, with its registrations and attendance at their own times."""
    if command.ends_at > ctx.clock.now():
        raise Invalid(
            "A held meeting is one that has ended; schedule a coming one instead.",
            errors=[{"field": "ends_at", "in": "body", "message": "not yet over"}],
        )
    people = sorted(command.registrations, key=lambda person: person.registered_at)
    # Announced no later than its first registration (when exactly is not known).
    with occurring_at(people[0].registered_at if people else command.starts_at):
        meeting = await meetings.schedule_meeting_within(conn, network_id, command)
    for person in people:
        await _register(conn, ctx, meeting, person)
    return await meetings.meeting_within(conn, meeting["id"])


async def _register(
    conn: Connection, ctx: ServiceContext, meeting: asyncpg.Record, person: HeldRegistrationIn
) -> None:
    then = replace(ctx, clock=PinnedClock(person.registered_at))
    with occurring_at(person.registered_at):
        if not meeting["open_to_public"]:
            await _enrolled(conn, then, meeting["network_id"], person.member)
        registered = await registrations.register_for_meeting_within(
            conn, then, meeting["id"], person
        )
    if person.attended:
        at_the_door = replace(ctx, clock=PinnedClock(meeting["starts_at"]))
        with occurring_at(meeting["starts_at"]):
            await registrations.check_in_within(conn, at_the_door, registered.registration["id"])


async def _enrolled(
    conn: Connection, ctx: ServiceContext, network_id: uuid.UUID, member: MemberIn
) -> None:
    """Enrol the person unless they are a member already (of an earlier meeting, say)."""
    try:
        await enrolments.enrol_within(
            conn, ctx, network_id, EnrolmentIn(member=member, consent=True)
        )
    except Conflict as conflict:
        if conflict.slug != "already-enrolled":
            raise
