"""`python -m registration relay`: the outbox relay as a process of its own, and `serve` without
it (RUN_RELAY=false), as a cluster deployment runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from devstack.ports import free_port
from registration.main import create_app
from registration.settings import Settings
from tests.infrastructure import Kafka
from tests.registration.integration.test_relay import consume, unpublished, write_events
from tilmeld_shared.db import create_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="registration")
    yield pool
    await pool.close()


async def test_the_relay_command_publishes_the_outbox_and_stops_on_sigterm(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    aggregate = uuid.uuid4()
    await write_events(pool, aggregate, range(1, 6))
    relay = subprocess.Popen(
        [sys.executable, "-m", "registration", "relay"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": str(kafka.idempotence).lower(),
            "REGISTRATION_METRICS_PORT": str(free_port()),
            "RELAY_POLL_INTERVAL_S": "0.2",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        received = await consume(kafka, 5, timeout_s=30)
        # Events committed while it runs are woken by NOTIFY, as a serving process sends it.
        await write_events(pool, aggregate, range(6, 8))
        await pool.execute("SELECT pg_notify('tilmeld_outbox', '')")
        received = await consume(kafka, 7, timeout_s=30)
    finally:
        relay.send_signal(signal.SIGTERM)
        output = relay.communicate(timeout=30)[0].decode()

    assert relay.returncode == 0, output
    assert [e["aggregate_version"] for e in received] == list(range(1, 8))
    assert await unpublished(pool) == 0


async def test_serve_without_the_relay_leaves_the_outbox_to_the_relay_process(
    pool: asyncpg.Pool, database_url: str
) -> None:
    settings = Settings(
        database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", run_relay=False
    )
    app = create_app(settings)
    await write_events(pool, uuid.uuid4(), range(1, 3))

    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.3)
        running = {task.get_name() for task in asyncio.all_tasks()}

    assert "outbox-relay" not in running
    assert await unpublished(pool) == 2
