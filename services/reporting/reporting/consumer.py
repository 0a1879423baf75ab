"""The Kafka side: a batch subscriber, one transaction per batch."""

from __future__ import annotations

import logging
from typing import Any, cast

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage
from prometheus_client import Counter, Histogram

from reporting.projection import apply_batch
from reporting.settings import Settings
from tilmeld_shared.consuming import keep_raw, readable_events, retry_transient
from tilmeld_shared.events import ALL_TOPICS
from tilmeld_shared.kafka import CONSUMER_BATCH_TIMEOUT_MS, CONSUMER_FETCH_MAX_WAIT_MS

log = logging.getLogger(__name__)

EVENTS_APPLIED = Counter("tilmeld_reporting_events_applied_total", "Events applied to reports.")
EVENTS_BY_TYPE = Counter(
    "tilmeld_reporting_events_by_type_total", "Events seen by reporting, by type.", ["event_type"]
)
BATCH_SIZE = Histogram(
    "tilmeld_reporting_batch_size",
    "Events per applied batch (one transaction each).",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
)
SERVICE = "reporting"


def create_broker(settings: Settings, pool: asyncpg.Pool) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id="tilmeld-reporting",
        # FastStream logs every message at INFO; per message is debug detail here.
        log_level=logging.DEBUG,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
    )

    @broker.subscriber(
        *ALL_TOPICS,
        group_id=settings.kafka_group_id,
        auto_offset_reset="earliest",
        decoder=keep_raw,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=CONSUMER_BATCH_TIMEOUT_MS,
        fetch_max_wait_ms=CONSUMER_FETCH_MAX_WAIT_MS,
        # Catching up, each fetch should bring a batch's worth per partition.
        max_partition_fetch_bytes=4 * 1024 * 1024,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title="reporting-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py), "
        "applied to the aggregates a batch per transaction.",
    )
    async def on_event_batch(message: KafkaMessage, consumer: Consumer) -> None:
        records = cast("tuple[Any, ...]", message.raw_message)
        events = await readable_events(broker, pool, consumer, records, service=SERVICE)
        for envelope, _ in events:
            EVENTS_BY_TYPE.labels(envelope.event_type).inc()

        async def apply() -> int:
            async with pool.acquire() as conn, conn.transaction():
                return await apply_batch(conn, events)

        BATCH_SIZE.observe(len(events))
        applied = await retry_transient(apply)
        EVENTS_APPLIED.inc(applied)

    return broker
