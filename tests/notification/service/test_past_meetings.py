"""Mail is about what is coming: nothing about a meeting that is over, nor about an event that
happened long before it is handled (history recorded afterwards, a topic read again)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from tests.notification.conftest import NOW, Meeting
from tilmeld_shared.events import (
    MeetingCancelled,
    MeetingUpdated,
    MemberEnrolled,
    PersonalData,
    RegistrationConfirmed,
    new_envelope,
)

Handle = Callable[..., Any]


async def sent(pool: asyncpg.Pool) -> list[str]:
    return [r["template"] for r in await pool.fetch("SELECT template FROM notifications")]


async def test_registrations_for_a_meeting_that_is_over_email_no_one(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=-30)

    await handle(
        meeting.scheduled(),
        meeting.registration(RegistrationConfirmed, status="confirmed"),
    )

    assert await sent(pool) == []


async def test_moving_a_meeting_into_the_past_tells_no_one(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=10)
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )
    then = NOW - timedelta(days=20)

    await handle(
        meeting.scheduled(
            MeetingUpdated, starts_at=then, ends_at=then + timedelta(hours=3), rescheduled=True
        ),
        meeting.event(MeetingCancelled(meeting_id=meeting.id, network_id=meeting.network_id,
                                       cancelled_at=NOW)),
    )  # fmt: skip

    assert await sent(pool) == ["registration_confirmed"]


async def test_an_enrolment_long_past_emails_no_one_and_a_recent_one_does(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    def enrolled(at: Any, email: str) -> tuple[Any, Any]:
        payload = MemberEnrolled(
            enrolment_id=uuid.uuid4(),
            network_id=uuid.uuid4(),
            network_title="Austausch kommunaler Kulturverwaltungen",
            member_id=uuid.uuid4(),
            municipality="Münster",
            role="Kulturreferent",
            language="de",
            enrolled_at=at,
            personal=PersonalData(name="Jonas Weber", email=email),
        )
        envelope = new_envelope(
            payload, aggregate_id=payload.enrolment_id, aggregate_version=1,
            correlation_id="test", occurred_at=at,
        )  # fmt: skip
        return envelope, payload

    await handle(
        enrolled(NOW - timedelta(days=400), "jonas@muenster.example"),
        enrolled(NOW - timedelta(hours=1), "anne@muenster.example"),
    )

    recipients = [r["recipient"] for r in await pool.fetch("SELECT recipient FROM notifications")]
    assert recipients == ["anne@muenster.example"]
