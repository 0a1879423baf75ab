"""Against the registration service as a real process: concurrent demand far over capacity,
and many replays of one Idempotency-Key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, companion, meeting_body, member, network_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka


@pytest.fixture
def registration(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    services = run_services(database_url, kafka, smtp, tmp_path)
    yield next(services)
    services.close()


async def _meeting(client: httpx.AsyncClient, capacity: int) -> str:
    network = (await client.post("/networks", json=network_body(), headers=ORGANISER)).json()
    meeting = await client.post(
        f"/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=capacity, open_to_public=True),
        headers=ORGANISER,
    )
    return str(meeting.json()["meeting_id"])


@pytest.mark.parametrize("capacity", [1, 2, 10, 50])
async def test_ten_times_the_demand_never_overbooks(registration: Services, capacity: int) -> None:
    limits = httpx.Limits(max_connections=100)
    for _round in range(2):
        # A client per round: a kept-alive connection the server closed while idle between
        # rounds would fail the first request sent on it (a client-side race, not the server).
        async with httpx.AsyncClient(
            base_url=registration.url("registration"), timeout=30, limits=limits
        ) as client:
            meeting_id = await _meeting(client, capacity)
            attempts = [
                client.post(
                    f"/meetings/{meeting_id}/registrations",
                    json={"member": member(), "companions": [companion()] * (i % 2)},
                )
                for i in range(capacity * 10)
            ]
            responses = await asyncio.gather(*attempts)
            statuses = [r.status_code for r in responses]
            bodies = [r.json() for r in responses if r.status_code == 201]
            seats = sum(b["seats"] for b in bodies if b["status"] == "confirmed")
            waiting = [b["seats"] for b in bodies if b["status"] == "waitlisted"]
            shown = (await client.get(f"/meetings/{meeting_id}")).json()

            assert all(status == 201 for status in statuses), set(statuses)
            assert seats == shown["seats_taken"] <= capacity
            # Full, unless the one seat left is too small for every waiting party.
            assert seats == capacity or all(w > capacity - seats for w in waiting)
            print(
                f"capacity={capacity} attempts={len(attempts)} confirmed_seats={seats} "
                f"waitlisted={len(waiting)} server_errors=0"
            )


async def test_a_thousand_replays_and_fifty_concurrent_ones_act_once(
    registration: Services, database_url: str
) -> None:
    async with httpx.AsyncClient(base_url=registration.url("registration"), timeout=30) as client:
        meeting_id = await _meeting(client, 10)
        body: dict[str, Any] = {"member": member(), "companions": []}
        url = f"/meetings/{meeting_id}/registrations"
        key = {"Idempotency-Key": "one-key"}

        sequential = [await client.post(url, json=body, headers=key) for _ in range(1000)]
        concurrent = await asyncio.gather(
            *(client.post(url, json=body, headers=key) for _ in range(50))
        )
        other_body = await client.post(url, json={**body, "companions": [companion()]}, headers=key)

    answers = {(r.status_code, r.content) for r in sequential + list(concurrent)}
    conn = await asyncpg.connect(database_url)
    try:
        registrations = await conn.fetchval(
            "SELECT count(*) FROM registration.registrations WHERE meeting_id = $1", meeting_id
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM registration.outbox WHERE aggregate_id = $1"
            " AND event_type = 'RegistrationConfirmed'",
            meeting_id,
        )
    finally:
        await conn.close()

    assert len(answers) == 1  # byte for byte the same 201
    assert next(iter(answers))[0] == 201
    assert (registrations, events) == (1, 1)
    assert other_body.status_code == 422
    print("idempotency: 1050 replays -> registrations=1 events=1 distinct_responses=1")
