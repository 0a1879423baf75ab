"""The Kafka side: a batch subscriber that hands each batch to the projection."""

from __future__ import annotations

import logging
from collections import Counter

import asyncpg
from faststream.kafka import KafkaBroker

from reporting.metrics import BATCH_SIZE, EVENTS_BY_TYPE
from reporting.projection import project_batch
from reporting.settings import Settings
from tilmeld_shared.consuming import Event, subscribe_batches
from tilmeld_shared.kafka import broker_security, producer_options

__all__ = ["create_broker"]

SERVICE = "reporting"
PARTS_PER_DELIVERY = 3


def create_broker(settings: Settings, pool: asyncpg.Pool) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id="tilmeld-reporting",
        # FastStream logs every message at INFO; per message is debug detail here.
        log_level=logging.DEBUG,
        security=broker_security(settings),
        **producer_options(settings),  # the dead-letter producer's
    )

    def received(events: list[Event]) -> None:
        # Counted per batch: a labelled increment per event was 3 % of the catch-up's samples.
        for event_type, count in Counter(envelope.event_type for envelope, _ in events).items():
            EVENTS_BY_TYPE.labels(event_type).inc(count)
        BATCH_SIZE.observe(len(events))

    async def on_events(events: list[Event]) -> None:
        await project_batch(pool, events)

    subscribe_batches(
        broker,
        pool,
        on_events,
        service=SERVICE,
        group_id=settings.kafka_group_id,
        # A delivery is applied in parts of `batch_max_records`, a transaction each, while the
        # next part is parsed (subscribe_batches); catching up, a delivery holds several parts.
        max_records=settings.batch_max_records * PARTS_PER_DELIVERY,
        handle_records=settings.batch_max_records,
        received=received,
        title="reporting-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py), "
        "applied to the aggregates a batch per transaction.",
        # Catching up, each fetch should bring a batch's worth per partition.
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    return broker
