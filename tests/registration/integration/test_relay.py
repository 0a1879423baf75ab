"""The outbox relay against real Postgres and a real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from registration.outbox import OutboxSignal, record_event
from registration.relay import OutboxRelay
from registration.settings import Settings
from tests.infrastructure import Kafka
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import ALL_TOPICS, TOPIC_ENROLMENTS, MemberErased
from tilmeld_shared.kafka import ensure_topics


def relay_settings(database_url: str, kafka: Kafka) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        kafka_enable_idempotence=kafka.idempotence,
        relay_poll_interval_s=0.2,
    )


@pytest.fixture
async def pool(database_url: str, kafka: Kafka) -> AsyncIterator[asyncpg.Pool]:
    await ensure_topics(kafka.bootstrap_servers, ALL_TOPICS, partitions=3, replication_factor=1)
    pool = await create_pool(database_url, schema="registration")
    yield pool
    await pool.close()


async def write_events(pool: asyncpg.Pool, aggregate: uuid.UUID, versions: range) -> None:
    for version in versions:
        async with pool.acquire() as conn, conn.transaction():
            await record_event(
                conn,
                MemberErased(member_id=aggregate, erased_at=datetime.now(UTC)),
                aggregate_id=aggregate,
                aggregate_version=version,
                key=aggregate,
            )


async def consume(kafka: Kafka, expected: int, timeout_s: float = 15) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        TOPIC_ENROLMENTS,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"test-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    received: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(received) < expected:
                batch = await consumer.getmany(timeout_ms=100)
                for records in batch.values():
                    received += [json.loads(r.value) for r in records]
    finally:
        await consumer.stop()
    return received


async def unpublished(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def test_the_relay_publishes_every_event_in_order_and_marks_it(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    aggregates = [uuid.uuid4() for _ in range(5)]
    for aggregate in aggregates:
        await write_events(pool, aggregate, range(1, 41))
    relay = OutboxRelay(relay_settings(database_url, kafka), OutboxSignal(pool))
    task = asyncio.create_task(relay.run())
    try:
        received = await consume(kafka, 200)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert len({e["event_id"] for e in received}) == 200
    for aggregate in aggregates:
        versions = [e["aggregate_version"] for e in received if e["aggregate_id"] == str(aggregate)]
        assert versions == list(range(1, 41))
    assert await unpublished(pool) == 0


async def test_only_one_relay_leads_and_another_takes_over_when_it_stops(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    settings = relay_settings(database_url, kafka)
    first, second = (OutboxRelay(settings, OutboxSignal(pool)) for _ in range(2))
    first_task = asyncio.create_task(first.run())
    await asyncio.sleep(0.5)
    second_task = asyncio.create_task(second.run())
    await asyncio.sleep(0.5)
    try:
        assert (first.is_leader, second.is_leader) == (True, False)

        first_task.cancel()
        await asyncio.gather(first_task, return_exceptions=True)
        await write_events(pool, uuid.uuid4(), range(1, 4))
        received = await consume(kafka, 3)

        assert second.is_leader
        assert len(received) == 3
    finally:
        second_task.cancel()
        await asyncio.gather(second_task, return_exceptions=True)


async def test_events_committed_late_with_a_lower_id_are_not_skipped(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    relay = OutboxRelay(relay_settings(database_url, kafka), OutboxSignal(pool))
    task = asyncio.create_task(relay.run())
    slow = await pool.acquire()
    try:
        # A writer takes an id first but commits after later writers have been published.
        transaction = slow.transaction()
        await transaction.start()
        await record_event(
            slow,
            MemberErased(member_id=uuid.uuid4(), erased_at=datetime.now(UTC)),
            aggregate_id=uuid.uuid4(),
            aggregate_version=1,
            key=uuid.uuid4(),
        )
        await write_events(pool, uuid.uuid4(), range(1, 6))
        await asyncio.sleep(0.5)
        await transaction.commit()
        received = await consume(kafka, 6)
    finally:
        await pool.release(slow)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert len(received) == 6
    assert await unpublished(pool) == 0


async def test_the_idempotent_producer_is_a_setting(database_url: str, kafka: Kafka) -> None:
    from registration.relay import create_producer

    producer: AIOKafkaProducer = create_producer(relay_settings(database_url, kafka))
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC_ENROLMENTS, b"{}", key=b"k")
    finally:
        await producer.stop()


async def test_a_replay_publishes_the_retained_events_again_in_order(
    pool: asyncpg.Pool, database_url: str, kafka: Kafka
) -> None:
    from registration.service.operations import replay_since

    aggregate = uuid.uuid4()
    await write_events(pool, aggregate, range(1, 4))
    signal = OutboxSignal(pool)
    relay = OutboxRelay(relay_settings(database_url, kafka), signal)
    task = asyncio.create_task(relay.run())
    try:
        first = await consume(kafka, 3)
        async with pool.acquire() as conn:
            queued = await replay_since(conn, datetime(1970, 1, 1, tzinfo=UTC))
        signal.local_wakeup.set()  # as the command's NOTIFY would
        both = await consume(kafka, 6)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert queued == 3
    assert [e["aggregate_version"] for e in both] == [1, 2, 3, 1, 2, 3]
    assert {e["event_id"] for e in both} == {e["event_id"] for e in first}
    assert await unpublished(pool) == 0
