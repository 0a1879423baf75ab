"""Sending through a real SMTP server (aiosmtpd), which fails on cue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import icalendar

from devstack.ports import free_port
from devstack.smtp import MailCatcher
from notification.dispatcher import Dispatcher
from tests.notification.conftest import Meeting, notification_settings
from tilmeld_shared.events import RegistrationConfirmed

Handle = Callable[..., Any]


def dispatcher_for(pool: asyncpg.Pool, database_url: str, smtp_port: int) -> Dispatcher:
    return Dispatcher(
        pool, notification_settings(database_url, smtp_port=smtp_port, max_attempts=3)
    )


async def queue_confirmation(handle: Handle) -> uuid.UUID:
    meeting = Meeting()
    registration_id = uuid.uuid4()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", registration_id=registration_id
        ),
    )
    return registration_id


async def due_now(pool: asyncpg.Pool) -> None:
    """Skip the backoff wait, not the retry."""
    await pool.execute("UPDATE notifications SET next_attempt_at = now()")


async def test_a_temporary_refusal_is_retried_and_delivers_one_email(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    await queue_confirmation(handle)
    dispatcher = dispatcher_for(pool, database_url, smtp.port)
    smtp.reply_next_with("421 4.3.0 Try again later")

    await dispatcher.send_due()
    after_refusal = await pool.fetchrow("SELECT status, attempts, last_error FROM notifications")
    await due_now(pool)
    await dispatcher.send_due()
    after_retry = await pool.fetchrow("SELECT status, attempts FROM notifications")

    assert (after_refusal["status"], after_refusal["attempts"]) == ("failed", 1)
    assert "421" in after_refusal["last_error"]
    assert (after_retry["status"], after_retry["attempts"]) == ("sent", 2)
    assert len(smtp.mails) == 1
    assert smtp.refused == 1


async def test_a_permanent_refusal_is_dead_at_once_and_can_be_requeued(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    await queue_confirmation(handle)
    dispatcher = dispatcher_for(pool, database_url, smtp.port)
    smtp.reply_next_with("550 5.1.1 No such mailbox")

    await dispatcher.send_due()

    assert await pool.fetchval("SELECT status FROM notifications") == "dead"
    assert smtp.mails == []


async def test_an_unreachable_server_is_transient_until_attempts_run_out(
    handle: Handle, pool: asyncpg.Pool, database_url: str
) -> None:
    await queue_confirmation(handle)
    dispatcher = dispatcher_for(pool, database_url, free_port())  # nobody listens there

    statuses = []
    for _ in range(3):
        await dispatcher.send_due()
        statuses.append(await pool.fetchval("SELECT status FROM notifications"))
        await due_now(pool)

    assert statuses == ["failed", "failed", "dead"]


async def test_the_email_carries_text_html_and_an_invitation_calendars_accept(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    registration_id = await queue_confirmation(handle)
    notification_id = await pool.fetchval("SELECT id FROM notifications")

    await dispatcher_for(pool, database_url, smtp.port).send_due()

    mail = smtp.mails[0]
    assert mail.message["Message-ID"] == f"<{notification_id}@tilmeld>"
    assert mail.message["Content-Language"] == "da"
    assert mail.message.get_body(preferencelist=("html",)) is not None
    inline = [part for part in mail.message.walk() if part.get_content_type() == "text/calendar"]
    assert inline[0].get_param("method") == "REQUEST"
    event = next(iter(icalendar.Calendar.from_ical(inline[0].get_content()).walk("VEVENT")))
    assert str(event["UID"]) == f"{registration_id}@tilmeld"
    assert any(part.get_filename() == "invite.ics" for part in mail.message.walk())


async def test_every_kind_arrives_in_every_language(
    pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    from notification.rendering import available_languages
    from notification.service.queueing import queue
    from notification.service.recipients import Outgoing, Recipient

    settings = notification_settings(database_url, max_emails_per_recipient_per_hour=99)
    meeting = {"title": "Møde", "when": "…", "location": "Køge", "online_url": None}
    kinds = [
        "enrolment_confirmed",
        "registration_confirmed",
        "registration_waitlisted",
        "registration_promoted",
        "registration_cancelled",
        "companion_registered",
        "companion_cancelled",
        "companion_meeting_rescheduled",
        "companion_meeting_cancelled",
        "meeting_rescheduled",
        "meeting_cancelled",
        "reminder",
        "party_applied",
        "party_joined",
        "party_accepted",
        "party_declined",
        "party_withdrawn",
        "party_withdrawn_by_organiser",
        "organiser_party_applied",
        "organiser_message",
    ]
    outgoing = [
        Outgoing(
            Recipient("Karen", f"{kind}.{language}@x.example", companion_of="Mette"),
            kind,
            language,
            None,
            None,
            {
                "meeting": meeting,
                "network_title": "Netværk",
                "cancel_url": "http://c",
                "calendar": False,
                "seats": 1,
                "companions": 0,
                "waitlist_position": 1,
                "municipality": "Rødovre",
                "reason": "Grund",
                "network_contact_email": "kultur@kl.example",
                "subject": "Nyt lokale",
                "body_lines": ["Vi mødes i sal 2."],
            },
        )
        for kind in kinds
        for language in sorted(available_languages())
    ]
    async with pool.acquire() as conn, conn.transaction():
        await queue(conn, settings, outgoing, dedupe_prefix="all-kinds", event_id=None)

    dispatcher = dispatcher_for(pool, database_url, smtp.port)
    while await dispatcher.send_due():
        pass

    assert len(smtp.mails) == len(outgoing) == len(kinds) * len(available_languages())
    languages = {str(m.message["Content-Language"]) for m in smtp.mails}
    assert languages == {"da", "nb", "de", "en"}
    # Every kind greets its recipient by name, but the organiser's (a network's address).
    assert all(
        "Karen" in m.text for m in smtp.mails if not m.recipients[0].startswith("organiser_")
    )
    assert all("Rødovre" in m.subject for m in smtp.mails if "party" in m.recipients[0])


async def test_an_address_with_a_non_ascii_local_part_arrives_addressed_to_it(
    handle: Handle, pool: asyncpg.Pool, database_url: str, smtp: MailCatcher
) -> None:
    meeting = Meeting(language="de")
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="jürgen@bücher.example"
        ),
    )

    await dispatcher_for(pool, database_url, smtp.port).send_due()

    assert await pool.fetchval("SELECT status FROM notifications") == "sent"
    (mail,) = smtp.wait_for(lambda m: m.is_to("jürgen@bücher.example"))
    # The header carries the address itself (RFC 6532), not one RFC 2047 word no client reads.
    assert "\nTo: jürgen@xn--bcher-kva.example\r\n" in mail.raw.decode()
    assert mail.subject.startswith("Anmeldung bestätigt")


async def test_a_server_without_smtputf8_makes_such_an_address_dead_at_once_saying_why(
    handle: Handle, pool: asyncpg.Pool, database_url: str
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="jürgen@bücher.example"
        ),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="jonas@münster.example"
        ),
    )
    plain = MailCatcher(port=free_port(), smtputf8=False)
    plain.start()
    try:
        await dispatcher_for(pool, database_url, plain.port).send_due()
    finally:
        plain.stop()

    outcome = {
        r["recipient"]: (r["status"], r["attempts"], r["last_error"])
        for r in await pool.fetch("SELECT * FROM notifications")
    }
    status, attempts, error = outcome["jürgen@bücher.example"]
    assert (status, attempts) == ("dead", 1)
    assert "SMTPUTF8" in error
    assert outcome["jonas@münster.example"][0] == "sent"
    (mail,) = plain.mails
    assert mail.message["To"] == "jonas@xn--mnster-3ya.example"
