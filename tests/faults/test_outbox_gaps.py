"""Outbox gaps: writers commit out of id order. The relay reads unpublished rows and misses
none; a naive relay that remembers the last id it saw misses events under the same load."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from registration.outbox import OutboxSignal, record_event
from registration.relay import OutboxRelay
from registration.settings import Settings
from tests.infrastructure import Kafka
from tests.registration.integration.test_relay import consume, unpublished
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import ALL_TOPICS, MemberErased
from tilmeld_shared.kafka import ensure_topics

WRITERS = 16
EVENTS_PER_WRITER = 25


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="registration", max_size=WRITERS + 4)
    yield pool
    await pool.close()


async def writer(pool: asyncpg.Pool, seed: int) -> None:
    """Takes an outbox id, then dawdles before committing, as a slow transaction would."""
    rng = random.Random(seed)
    for _ in range(EVENTS_PER_WRITER):
        aggregate = uuid.uuid4()
        async with pool.acquire() as conn, conn.transaction():
            await record_event(
                conn,
                MemberErased(member_id=aggregate, erased_at=datetime.now(UTC)),
                aggregate_id=aggregate,
                aggregate_version=1,
                key=aggregate,
            )
            await asyncio.sleep(rng.uniform(0, 0.03))


async def naive_relay(pool: asyncpg.Pool, stop: asyncio.Event) -> set[int]:
    """The classic bug: read ids after the last one seen. A row that commits late with a lower
    id than one already seen is never read."""
    seen: set[int] = set()
    last = 0
    while not stop.is_set() or last < await pool.fetchval("SELECT max(id) FROM outbox"):
        rows = await pool.fetch("SELECT id FROM outbox WHERE id > $1 ORDER BY id", last)
        for row in rows:
            seen.add(row["id"])
            last = row["id"]
        await asyncio.sleep(0.002)
    return seen


async def test_the_naive_relay_misses_late_commits_and_ours_misses_none(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    await ensure_topics(kafka.bootstrap_servers, ALL_TOPICS, partitions=3, replication_factor=1)
    stop = asyncio.Event()
    naive = asyncio.create_task(naive_relay(pool, stop))
    relay = OutboxRelay(
        Settings(
            database_url=database_url,
            kafka_bootstrap_servers=kafka.bootstrap_servers,
            kafka_enable_idempotence=kafka.idempotence,
            relay_poll_interval_s=0.05,
        ),
        OutboxSignal(pool),
    )
    ours = asyncio.create_task(relay.run())
    try:
        await asyncio.gather(*(writer(pool, seed) for seed in range(WRITERS)))
        stop.set()
        naive_seen = await naive
        total = WRITERS * EVENTS_PER_WRITER
        published = await consume(kafka, total, timeout_s=30)
    finally:
        ours.cancel()
    every_id = {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}
    missed_by_naive = every_id - naive_seen
    print(
        f"attempted={total} published={len({e['event_id'] for e in published})} "
        f"missed_by_ours={total - len({e['event_id'] for e in published})} "
        f"missed_by_naive={len(missed_by_naive)}"
    )

    assert len({e["event_id"] for e in published}) == total  # ours: 0 missed
    assert await unpublished(pool) == 0
    assert missed_by_naive, "the negative control should miss late commits under this load"
