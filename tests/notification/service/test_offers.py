"""Waitlist offers by email: the person a seat is held for gets the accept link as the email's
main action and the expiry in the meeting's zone, in their language; a lapsed offer is told once
(not again as a cancellation); each once whatever is redelivered."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from devstack.smtp import MailCatcher
from notification.dispatcher import Dispatcher
from tests.builders import PERSONAL_DATA
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    MeetingCancelled,
    PersonalData,
    RegistrationCancelled,
    RegistrationWaitlisted,
    SeatOffered,
    SeatOfferExpired,
)

Handle = Callable[..., Any]
ACCEPT_URL = "http://127.0.0.1:8001/offer/registrations/r?token=offer-token"
CANCEL_URL = "http://127.0.0.1:8001/cancel/registrations/r?token=cancel-token"
# 14:00 in Copenhagen in winter (the meetings' zone), whatever zone the test runs in.
EXPIRES = (NOW + timedelta(days=2)).replace(hour=13, minute=0, second=0)


def personal(*, action_url: str | None = ACCEPT_URL) -> PersonalData:
    PERSONAL_DATA.update(("Karen Hansen", "karen@ishoj.example"))
    return PersonalData(
        name="Karen Hansen",
        email="karen@ishoj.example",
        cancel_url=CANCEL_URL,
        action_url=action_url,
    )


async def waiting(handle: Handle, meeting: Meeting) -> uuid.UUID:
    registration_id = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=registration_id,
            waitlist_position=1,
            personal=personal(action_url=None),
        ),
    )
    return registration_id


def offered(meeting: Meeting, registration_id: uuid.UUID, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "status": "waitlisted",
        "registration_id": registration_id,
        "waitlist_position": 1,
        "offer_expires_at": EXPIRES,
        "personal": personal(),
        **changes,
    }
    return meeting.registration(SeatOffered, **fields)


def expired(meeting: Meeting, registration_id: uuid.UUID) -> list[Any]:
    """As registration writes an expiry: SeatOfferExpired, then the cancellation."""
    common = {
        "status": "cancelled",
        "registration_id": registration_id,
        "offer_expires_at": EXPIRES,
        "personal": personal(action_url=None),
    }
    return [
        meeting.registration(SeatOfferExpired, **common),
        meeting.registration(
            RegistrationCancelled,
            **common,
            previous_status="waitlisted",
            cancelled_at=EXPIRES,
            cancelled_by="offer_expired",
        ),
    ]


async def sent(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT template, recipient FROM notifications ORDER BY created_at, template"
    )
    return [(row["template"], row["recipient"]) for row in rows]


async def test_the_offer_email_has_the_accept_link_as_its_action_and_the_expiry(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting(language="da")
    registration_id = await waiting(handle, meeting)

    queued = await handle(offered(meeting, registration_id))
    dispatcher = Dispatcher(pool, notification_settings(database_url, smtp_port=smtp.port))
    while await dispatcher.send_due():
        pass

    assert len(queued) == 1
    mail = next(m for m in smtp.mails if m.subject.startswith("En plads til dig"))
    assert mail.recipients == ["karen@ishoj.example"]
    assert f"Tag imod pladsen: {ACCEPT_URL}" in mail.text
    # The expiry in the meeting's zone (Europe/Copenhagen), written the Danish way.
    assert "kl. 14.00" in mail.text or "14.00" in mail.text, mail.text
    assert "(CET)" in mail.text or "(CEST)" in mail.text
    assert CANCEL_URL in mail.text
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{ACCEPT_URL}"' in html
    assert "display:inline-block" in html  # the main action, as a button
    assert not any(p.get_content_type() == "text/calendar" for p in mail.message.walk())


async def test_the_offer_email_speaks_the_persons_language(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    for language, words in (
        ("de", "Platz annehmen"),
        ("nb", "Takk ja til plassen"),
        ("en", "Accept the seat"),
    ):
        meeting = Meeting(language=language)
        registration_id = await waiting(handle, meeting)

        await handle(offered(meeting, registration_id))

        body = await pool.fetchval(
            "SELECT body_text FROM notifications WHERE registration_id = $1 "
            "AND template = 'seat_offered'",
            registration_id,
        )
        assert f"{words}: {ACCEPT_URL}" in body


async def test_a_redelivered_offer_is_mailed_once(handle: Handle, pool: asyncpg.Pool) -> None:
    meeting = Meeting()
    registration_id = await waiting(handle, meeting)
    envelope, payload = offered(meeting, registration_id)

    first = await handle((envelope, payload))
    again = await handle((envelope, payload))
    republished = await handle(meeting.event(payload))

    assert (len(first), again, republished) == (1, [], [])


async def test_a_lapsed_offer_is_told_once_and_not_as_a_cancellation(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting(language="en")
    registration_id = await waiting(handle, meeting)
    await handle(offered(meeting, registration_id))

    await handle(*expired(meeting, registration_id))

    templates = [template for template, _ in await sent(pool)]
    assert templates.count("offer_expired") == 1
    assert "registration_cancelled" not in templates
    body = await pool.fetchval(
        "SELECT body_text FROM notifications WHERE template = 'offer_expired'"
    )
    assert "has gone to the next person on the waitlist" in body
    assert CANCEL_URL not in body and ACCEPT_URL not in body
    status = await pool.fetchval("SELECT status FROM registrations WHERE id = $1", registration_id)
    assert status == "cancelled"


async def test_a_person_cancelling_while_offered_gets_the_usual_cancellation(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    registration_id = await waiting(handle, meeting)
    await handle(offered(meeting, registration_id))

    await handle(
        meeting.registration(
            RegistrationCancelled,
            status="cancelled",
            registration_id=registration_id,
            previous_status="waitlisted",
            cancelled_at=NOW,
            cancelled_by="member",
            personal=personal(action_url=None),
        )
    )

    templates = [template for template, _ in await sent(pool)]
    assert templates.count("registration_cancelled") == 1


async def test_no_offer_email_without_a_link_or_for_a_cancelled_meeting(
    handle: Handle, pool: asyncpg.Pool
) -> None:
    erased = Meeting()
    registration_id = await waiting(handle, erased)
    no_one = await handle(offered(erased, registration_id, personal=None))

    cancelled = Meeting()
    other = await waiting(handle, cancelled)
    await handle(
        cancelled.event(
            MeetingCancelled(
                meeting_id=cancelled.id, network_id=cancelled.network_id, cancelled_at=NOW
            )
        )
    )
    for_nothing = await handle(offered(cancelled, other))

    assert (no_one, for_nothing) == ([], [])
    assert [t for t, _ in await sent(pool) if t == "seat_offered"] == []
