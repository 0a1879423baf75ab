"""An organiser's message reaches each person the registrations it addressed hold, once, in
their own language, whatever is redelivered; an erased member gets nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from devstack.smtp import MailCatcher
from notification.dispatcher import Dispatcher
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    Companion,
    MeetingMessageSent,
    MemberErased,
    PersonalData,
    RegistrationConfirmed,
    RegistrationWaitlisted,
)

Handle = Callable[..., Any]
CANCEL_URL = "http://127.0.0.1:8001/cancel/registrations/r?token=t"
BODY = "Vi mødes i sal 2 i stedet.\n\nSe https://evil.example/kort <b>her</b>\nVenlig hilsen KL"


def message(meeting: Meeting, to: str, registration_ids: list[uuid.UUID]) -> Any:
    return meeting.event(
        MeetingMessageSent(
            message_id=uuid.uuid4(),
            meeting_id=meeting.id,
            network_id=meeting.network_id,
            to=to,
            subject="Nyt lokale",
            body=BODY,
            sent_at=NOW,
            registration_ids=registration_ids,
        )
    )


async def two_registered(handle: Handle, meeting: Meeting) -> tuple[uuid.UUID, uuid.UUID]:
    """Karen confirmed with a companion (with an email), Jonas waitlisted."""
    confirmed, waitlisted = uuid.uuid4(), uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=confirmed,
            email="karen@ishoj.example",
            companion_email="ole@ishoj.example",
            personal=PersonalData(
                name="Karen Hansen",
                email="karen@ishoj.example",
                companions=[Companion(name="Ole", email="ole@ishoj.example")],
                cancel_url=CANCEL_URL,
            ),
        ),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=waitlisted,
            email="jonas@koege.example",
            waitlist_position=1,
        ),
    )
    return confirmed, waitlisted


async def sent_messages(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT recipient FROM notifications WHERE template = 'organiser_message' "
        "ORDER BY recipient"
    )
    return [row["recipient"] for row in rows]


async def test_everyone_addressed_gets_it_once_in_their_language(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting()
    confirmed, waitlisted = await two_registered(handle, meeting)

    await handle(message(meeting, "all", [confirmed, waitlisted]))
    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    while await dispatcher.send_due():
        pass

    mails = [m for m in smtp.mails if m.subject == "Nyt lokale"]
    assert sorted(m.recipients[0] for m in mails) == [
        "jonas@koege.example",
        "karen@ishoj.example",
        "ole@ishoj.example",
    ]
    karen = next(m for m in mails if m.recipients[0] == "karen@ishoj.example")
    assert "Vi mødes i sal 2 i stedet.\n\nSe https://evil.example/kort <b>her</b>" in karen.text
    assert "fordi du er tilmeldt" in karen.text and CANCEL_URL in karen.text
    html = karen.message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;her&lt;/b&gt;" in html and 'href="https://evil.example' not in html
    assert f'href="{CANCEL_URL}"' in html
    assert not any(p.get_content_type() == "text/calendar" for p in karen.message.walk())
    ole = next(m for m in mails if m.recipients[0] == "ole@ishoj.example")
    assert "som ledsager" in ole.text and "cancel/registrations" not in ole.text


async def test_the_waitlisted_are_not_mailed_a_message_to_the_confirmed(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    confirmed, _ = await two_registered(handle, meeting)

    await handle(message(meeting, "confirmed", [confirmed]))

    assert await sent_messages(pool) == ["karen@ishoj.example", "ole@ishoj.example"]


async def test_a_redelivery_sends_nothing_more(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting()
    confirmed, waitlisted = await two_registered(handle, meeting)
    envelope, payload = message(meeting, "all", [confirmed, waitlisted])

    first = await handle((envelope, payload))
    redelivered = await handle((envelope, payload))
    # The same message published again under a new event id: still keyed per message and person.
    republished = await handle(meeting.event(payload))

    assert len(first) == 3 and redelivered == [] and republished == []
    assert len(await sent_messages(pool)) == 3


async def test_an_erased_member_gets_nothing(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting()
    member_id = uuid.uuid4()
    confirmed = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=confirmed,
            member_id=member_id,
            companion_email="ole@ishoj.example",
        ),
    )
    await handle(meeting.event(MemberErased(member_id=member_id, erased_at=NOW)))

    queued = await handle(message(meeting, "all", [confirmed]))

    assert queued == []
    assert await sent_messages(pool) == []
