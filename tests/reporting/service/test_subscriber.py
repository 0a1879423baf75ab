"""The reporting subscriber in memory: FastStream's TestKafkaBroker instead of Kafka (the real
broker is in tests/e2e), against real Postgres."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from reporting.consumer import create_broker
from reporting.settings import Settings
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import TOPIC_MEETINGS, MeetingScheduled, new_envelope

DLQ = f"{TOPIC_MEETINGS}.dlq"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="reporting")
    yield pool
    await pool.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1")


def scheduled(meeting_id: uuid.UUID) -> bytes:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    payload = MeetingScheduled(
        meeting_id=meeting_id,
        network_id=uuid.uuid4(),
        title="Møde 1",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        timezone="Europe/Copenhagen",
        capacity=20,
    )
    envelope = new_envelope(
        payload, aggregate_id=meeting_id, aggregate_version=1, correlation_id="test"
    )
    return envelope.model_dump_json().encode()


async def test_an_event_published_in_memory_reaches_the_projection(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    broker = create_broker(settings, pool)
    meeting_id = uuid.uuid4()

    async with TestKafkaBroker(broker) as kafka:
        event = scheduled(meeting_id)
        await kafka.publish(event, topic=TOPIC_MEETINGS)
        await kafka.publish(event, topic=TOPIC_MEETINGS)  # redelivered: counted once

    meeting = await pool.fetchrow("SELECT title, capacity, status FROM meetings")
    assert tuple(meeting) == ("Møde 1", 20, "scheduled")
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    assert await pool.fetchval("SELECT newest_event_at FROM progress") is not None


async def test_an_unreadable_message_goes_to_the_dead_letters_and_the_batch_is_acked(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    broker = create_broker(settings, pool)
    notices: list[tuple[dict[str, Any], dict[str, Any]]] = []

    @broker.subscriber(DLQ)
    async def on_dead_letter(message: KafkaMessage) -> None:
        notices.append((json.loads(message.body), message.headers))

    async with TestKafkaBroker(broker) as kafka:
        # Raises if the handler does: a poison message must not fail (and redeliver) the batch.
        await kafka.publish(b'{"event_type": "MeetingScheduled"}', topic=TOPIC_MEETINGS)

    kept = await pool.fetch("SELECT origin_topic, raw FROM dead_letters")
    assert [tuple(row) for row in kept] == [(TOPIC_MEETINGS, b'{"event_type": "MeetingScheduled"}')]
    [(notice, headers)] = notices
    assert notice["kept_in"] == "reporting.dead_letters"
    assert headers["x-failed-by"] == "reporting"
    assert await pool.fetchval("SELECT count(*) FROM meetings") == 0


async def test_a_delivery_larger_than_a_part_is_applied_in_parts_each_event_once(
    pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catching up, a delivery is applied a part at a time: a poison message among the parts is
    dead-lettered, and an event delivered twice within the delivery is still applied once."""
    import reporting.consumer

    part_sizes: list[int] = []
    apply = reporting.consumer.project_batch

    async def counting(pool: asyncpg.Pool, events: list[Any]) -> None:
        part_sizes.append(len(events))
        await apply(pool, events)

    monkeypatch.setattr(reporting.consumer, "project_batch", counting)
    settings = Settings(
        database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", batch_max_records=2
    )
    messages = [scheduled(uuid.uuid4()) for _ in range(7)]
    messages.insert(3, b"not json")
    messages.append(messages[0])

    async with TestKafkaBroker(create_broker(settings, pool)) as kafka:
        await kafka.publish_batch(*messages, topic=TOPIC_MEETINGS)

    assert len(part_sizes) > 1 and max(part_sizes) <= 2
    assert await pool.fetchval("SELECT count(*) FROM meetings") == 7
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 7
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 1


async def test_a_part_that_fails_fails_the_delivery_and_its_redelivery_applies_the_rest_once(
    pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reporting.consumer

    apply = reporting.consumer.project_batch
    parts = 0

    async def second_part_fails(pool: asyncpg.Pool, events: list[Any]) -> None:
        nonlocal parts
        parts += 1
        if parts == 2:
            raise RuntimeError("the database went away")
        await apply(pool, events)

    settings = Settings(
        database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", batch_max_records=2
    )
    messages = [scheduled(uuid.uuid4()) for _ in range(6)]
    monkeypatch.setattr(reporting.consumer, "project_batch", second_part_fails)
    with pytest.raises(RuntimeError):
        async with TestKafkaBroker(create_broker(settings, pool)) as kafka:
            await kafka.publish_batch(*messages, topic=TOPIC_MEETINGS)
    applied_before = await pool.fetchval("SELECT count(*) FROM inbox")
    assert 2 <= applied_before < 6  # the first part stays applied; the delivery is not acked

    monkeypatch.setattr(reporting.consumer, "project_batch", apply)
    async with TestKafkaBroker(create_broker(settings, pool)) as kafka:
        await kafka.publish_batch(*messages, topic=TOPIC_MEETINGS)  # redelivered

    assert await pool.fetchval("SELECT count(*) FROM inbox") == 6
    assert await pool.fetchval("SELECT count(*) FROM meetings") == 6
