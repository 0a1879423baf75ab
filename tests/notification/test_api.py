"""`/notifications`: the delivery ledger, readable by reporting and organisers, retried by
organisers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from notification.api.routes import router
from notification.dispatcher import Dispatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, REPORTING, REPORTING_TOKEN
from tests.notification.conftest import Meeting, notification_settings
from tilmeld_shared.events import RegistrationConfirmed
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
        "/notifications", params={"recipient": "KAREN@ishoj.example"}, headers=REPORTING
    )
    sent = await client.get("/notifications", params={"status": "sent"}, headers=ORGANISER)
    anonymous = await client.get("/notifications")

    assert [n["recipient"] for n in mine.json()["items"]] == ["karen@ishoj.example"]
    assert mine.json()["items"][0]["status"] == "pending"
    assert sent.json()["items"] == []
    assert anonymous.status_code == 401


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
