"""With the broker gone, registration stays ready and keeps accepting registrations (they wait
in the outbox); the relay says in a metric that it cannot publish."""

from __future__ import annotations

import asyncio

import asyncpg
from prometheus_client import REGISTRY

from registration.main import create_app
from registration.outbox import OutboxSignal
from registration.relay import OutboxRelay
from tests.builders import member
from tests.registration.api.conftest import Api, registration_settings


def kafka_up() -> float | None:
    return REGISTRY.get_sample_value("tilmeld_relay_kafka_up")


async def test_registration_is_ready_and_accepts_while_kafka_is_down(
    api: Api, database_url: str
) -> None:
    # The api fixture's broker address (127.0.0.1:1) answers nothing.
    ready = await api.client.get("http://registration/health/ready")
    assert ready.status_code == 200, ready.text
    assert "kafka" not in ready.json()["checks"]

    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    registered = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": member(), "companions": []},
    )
    assert registered.status_code == 201
    conn = await asyncpg.connect(database_url)
    try:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM registration.outbox WHERE published_at IS NULL"
        )
    finally:
        await conn.close()
    assert waiting >= 3  # network, meeting, registration: kept until the broker is back


async def test_the_relay_reports_that_it_cannot_reach_kafka(database_url: str) -> None:
    settings = registration_settings(database_url, relay_poll_interval_s=0.05)
    app = create_app(settings, run_relay=False)
    async with app.router.lifespan_context(app):
        relay = OutboxRelay(settings, OutboxSignal(app.state.pool))
        task = asyncio.create_task(relay.run())
        try:
            for _ in range(200):
                if kafka_up() == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert kafka_up() == 0
