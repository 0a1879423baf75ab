"""`/notifications`: the delivery ledger, read whole by organisers and without addresses by
reporting, retried by organisers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from notification.api.routes import router
from notification.dispatcher import Dispatcher
from notification.service.reminders import queue_due_reminders
from notification.settings import Settings
from tests.builders import ORGANISER, ORGANISER_TOKEN, REPORTING, REPORTING_TOKEN
from tests.notification.conftest import NOW, Meeting, notification_settings
from tilmeld_shared.events import (
    MeetingCancelled,
    MeetingUpdated,
    MemberEnrolled,
    PersonalData,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from tilmeld_shared.problems import install_problem_handlers


@pytest.fixture
async def client(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router, prefix="/api/v1")
    settings = notification_settings(
        database_url, organiser_token=ORGANISER_TOKEN, reporting_token=REPORTING_TOKEN
    )
    app.state.pool, app.state.settings = pool, settings
    app.state.dispatcher = Dispatcher(pool, settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notification/api/v1"
    ) as http:
        yield http


async def test_the_ledger_filters_by_recipient_and_status(
    client: httpx.AsyncClient, handle: Callable[..., Any]
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="karen@ishoj.example"
        ),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="lars@herlev.example"
        ),
    )

    mine = await client.get(
        "/notifications", params={"recipient": "KAREN@ishoj.example"}, headers=ORGANISER
    )
    sent = await client.get("/notifications", params={"status": "sent"}, headers=ORGANISER)
    anonymous = await client.get("/notifications")

    assert [n["recipient"] for n in mine.json()["items"]] == ["karen@ishoj.example"]
    assert mine.json()["items"][0]["status"] == "pending"
    assert sent.json()["items"] == []
    assert anonymous.status_code == 401


async def test_a_recipient_filter_with_a_control_character_is_invalid_input(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(
        "/notifications", params={"recipient": "karen\x00@ishoj.example"}, headers=ORGANISER
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "recipient"


async def test_the_reporting_token_reads_how_mail_went_but_never_to_whom(
    client: httpx.AsyncClient, handle: Callable[..., Any], pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed, status="confirmed", email="karen@ishoj.example"
        ),
    )
    await pool.execute(
        "UPDATE notifications SET status = 'dead', attempts = 8,"
        " last_error = '550 5.1.1 <karen@ishoj.example>: Recipient address rejected'"
    )
    notification_id = await pool.fetchval("SELECT id FROM notifications")

    listed = await client.get("/notifications", headers=REPORTING)
    one = await client.get(f"/notifications/{notification_id}", headers=REPORTING)
    by_address = await client.get(
        "/notifications", params={"recipient": "karen@ishoj.example"}, headers=REPORTING
    )
    whole = await client.get(f"/notifications/{notification_id}", headers=ORGANISER)

    assert listed.status_code == one.status_code == 200
    assert "karen@ishoj.example" not in listed.text + one.text
    assert [n["recipient"] for n in listed.json()["items"]] == [None]
    assert (one.json()["template"], one.json()["status"]) == ("registration_confirmed", "dead")
    assert one.json()["last_error"] == "550 5.1.1 <<email>>: Recipient address rejected"
    assert by_address.status_code == 403
    assert whole.json()["recipient"] == "karen@ishoj.example"
    assert "karen@ishoj.example" in whole.json()["last_error"]


async def test_only_a_dead_notification_can_be_requeued_and_only_by_an_organiser(
    client: httpx.AsyncClient, handle: Callable[..., Any], pool: asyncpg.Pool
) -> None:
    meeting = Meeting()
    await handle(
        meeting.scheduled(), meeting.registration(RegistrationConfirmed, status="confirmed")
    )
    notification_id = await pool.fetchval("SELECT id FROM notifications")

    too_early = await client.post(f"/notifications/{notification_id}/retry", headers=ORGANISER)
    await pool.execute("UPDATE notifications SET status = 'dead', attempts = 8")
    by_reporting = await client.post(f"/notifications/{notification_id}/retry", headers=REPORTING)
    requeued = await client.post(f"/notifications/{notification_id}/retry", headers=ORGANISER)

    assert too_early.status_code == 409
    assert by_reporting.status_code == 403
    assert requeued.status_code == 200
    assert (requeued.json()["status"], requeued.json()["attempts"]) == ("pending", 0)


async def test_the_ledger_lists_every_kind_of_notification_reminders_included(
    client: httpx.AsyncClient,
    handle: Callable[..., Any],
    settings: Settings,
    pool: asyncpg.Pool,
) -> None:
    meeting = Meeting(days_ahead=10)
    karen, lars = uuid.uuid4(), uuid.uuid4()
    later = meeting.starts_at + timedelta(days=1)
    enrolled = MemberEnrolled(
        enrolment_id=uuid.uuid4(),
        network_id=meeting.network_id,
        member_id=uuid.uuid4(),
        municipality="Ishøj",
        role="Konsulent",
        language="da",
        enrolled_at=NOW,
        personal=PersonalData(name="Karen Hansen", email="karen@ishoj.example"),
    )
    await handle(
        meeting.event(enrolled),
        meeting.scheduled(),
        meeting.registration(
            RegistrationConfirmed,
            status="confirmed",
            registration_id=karen,
            companion_email="ole@ishoj.example",
        ),
        meeting.registration(
            RegistrationWaitlisted,
            status="waitlisted",
            registration_id=lars,
            email="lars@herlev.example",
            waitlist_position=1,
        ),
        meeting.registration(
            RegistrationCancelled,
            status="cancelled",
            registration_id=karen,
            companion_email="ole@ishoj.example",
            previous_status="confirmed",
            cancelled_at=NOW,
            cancelled_by="member",
        ),
        meeting.registration(
            RegistrationPromoted,
            status="confirmed",
            registration_id=lars,
            email="lars@herlev.example",
        ),
        meeting.scheduled(
            MeetingUpdated, starts_at=later, ends_at=later + timedelta(hours=2), rescheduled=True
        ),
    )
    await pool.execute("UPDATE reminders SET due_at = now() - interval '1 second'")
    await queue_due_reminders(pool, settings)
    await handle(
        meeting.event(
            MeetingCancelled(meeting_id=meeting.id, network_id=meeting.network_id, cancelled_at=NOW)
        )
    )

    ledger = await client.get("/notifications", params={"limit": 500}, headers=ORGANISER)

    assert ledger.status_code == 200, ledger.text
    items = ledger.json()["items"]
    assert {n["template"] for n in items} >= {
        "enrolment_confirmed",
        "registration_confirmed",
        "companion_registered",
        "registration_waitlisted",
        "registration_cancelled",
        "registration_promoted",
        "meeting_rescheduled",
        "reminder",
        "meeting_cancelled",
    }
    reminder = next(n for n in items if n["template"] == "reminder")
    assert (reminder["recipient"], reminder["event_id"]) == ("lars@herlev.example", None)
