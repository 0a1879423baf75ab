"""Once a meeting is held and asks for feedback, each person who attended gets their link,
once, whatever is redelivered; no-shows, the waitlisted and the erased get nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from devstack.smtp import MailCatcher
from notification.dispatcher import Dispatcher
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    AttendanceRecorded,
    AttendanceUndone,
    MeetingUpdated,
    MemberErased,
    PersonalData,
    Question,
    RegistrationConfirmed,
    RegistrationWaitlisted,
)

Handle = Callable[..., Any]
FEEDBACK = [
    Question(question_id=uuid.uuid4(), text="Hvordan var mødet?", kind="scale", min=1, max=5)
]


def link(registration_id: uuid.UUID) -> str:
    return (
        f"http://127.0.0.1:8001/meetings/m/feedback?registration={registration_id}"
        "&token=0.secret-signature"
    )


def attended(meeting: Meeting, registration_id: uuid.UUID, **extra: Any) -> Any:
    return meeting.registration(
        AttendanceRecorded,
        status="confirmed",
        registration_id=registration_id,
        checked_in_at=NOW,
        personal=PersonalData(
            name="Karen Hansen", email="karen@ishoj.example", action_url=link(registration_id)
        ),
        **extra,
    )


def held(meeting: Meeting, feedback: list[Question] = FEEDBACK) -> Any:
    return meeting.scheduled(MeetingUpdated, status="held", changed=["status"], feedback=feedback)


async def three_people(handle: Handle, meeting: Meeting) -> dict[str, uuid.UUID]:
    """Karen came, Jonas had a seat and did not come, Sofie waited for one."""
    people = {"karen": uuid.uuid4(), "jonas": uuid.uuid4(), "sofie": uuid.uuid4()}
    await handle(
        meeting.scheduled(feedback=FEEDBACK),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", registration_id=people["karen"]
        ),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=people["jonas"],
            email="jonas@koege.example",
        ),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=people["sofie"],
            email="sofie@greve.example",
            waitlist_position=1,
        ),
        attended(meeting, people["karen"]),
    )
    return people


async def requests(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT recipient FROM notifications WHERE template = 'feedback_request' ORDER BY recipient"
    )
    return [row["recipient"] for row in rows]


async def test_those_who_came_get_their_link_and_nobody_else(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting(days_ahead=-1)
    people = await three_people(handle, meeting)

    await handle(held(meeting))
    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    while await dispatcher.send_due():
        pass

    (mail,) = smtp.mails
    assert mail.recipients == ["karen@ishoj.example"]
    assert mail.subject == 'Hvordan gik "Møde 1: Klima, demokrati og samskabelse"?'
    assert link(people["karen"]) in mail.text
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link(people["karen"]).replace("&", "&amp;")}"' in html
    assert not any(p.get_content_type() == "text/calendar" for p in mail.message.walk())


async def test_a_redelivered_or_republished_held_meeting_asks_nobody_twice(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=-1)
    people = await three_people(handle, meeting)
    envelope, payload = held(meeting)

    first = await handle((envelope, payload))
    redelivered = await handle((envelope, payload))
    republished = await handle(meeting.event(payload))
    attendance_again = await handle(attended(meeting, people["karen"]))

    assert len(first) == 1
    assert redelivered == republished == attendance_again == []
    assert await requests(pool) == ["karen@ishoj.example"]


async def test_someone_checked_in_after_the_meeting_was_held_is_asked_then(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=-1)
    late = uuid.uuid4()
    await handle(
        meeting.scheduled(feedback=FEEDBACK),
        meeting.registration(RegistrationConfirmed, status="confirmed", registration_id=late),
    )

    before = await handle(held(meeting))
    after = await handle(attended(meeting, late))

    assert (len(before), len(after)) == (0, 1)
    assert await requests(pool) == ["karen@ishoj.example"]


async def test_a_meeting_that_asks_for_no_feedback_asks_nobody(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(days_ahead=-1)
    await three_people(handle, meeting)

    await handle(held(meeting, feedback=[]))

    assert await requests(pool) == []


async def test_an_erased_attendee_is_not_asked(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting(days_ahead=-1)
    member_id = uuid.uuid4()
    registration_id = uuid.uuid4()
    await handle(
        meeting.scheduled(feedback=FEEDBACK),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=registration_id,
            member_id=member_id,
        ),
        attended(meeting, registration_id, member_id=member_id),
        meeting.event(MemberErased(member_id=member_id, erased_at=NOW)),
    )

    await handle(held(meeting))

    assert await requests(pool) == []


async def test_a_check_in_taken_back_is_not_asked(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting(days_ahead=-1)
    people = await three_people(handle, meeting)

    await handle(
        meeting.registration(
            AttendanceUndone,
            status="confirmed",
            registration_id=people["karen"],
            undone_at=NOW,
        ),
        held(meeting),
    )

    assert await requests(pool) == []


async def test_a_meeting_long_over_when_it_is_marked_held_asks_nobody(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    # Recorded afterwards, say: its attendees are history, not people to write to.
    meeting = Meeting(days_ahead=-60)
    await three_people(handle, meeting)

    await handle(held(meeting))

    assert await requests(pool) == []
