"""The Kafka side: one subscriber over the registration topics, thin as FastStream likes it."""

from __future__ import annotations

import logging
from typing import Any, cast

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage

from notification.dispatcher import Dispatcher
from notification.personal_data import PersonalDataOpener
from notification.service import Notifier
from notification.settings import Settings
from tilmeld_shared.consuming import keep_raw, readable_events, retry_transient
from tilmeld_shared.events import ALL_TOPICS
from tilmeld_shared.kafka import CONSUMER_BATCH_TIMEOUT_MS, CONSUMER_FETCH_MAX_WAIT_MS

log = logging.getLogger(__name__)
SERVICE = "notification"


def create_broker(
    settings: Settings,
    pool: asyncpg.Pool,
    notifier: Notifier,
    dispatcher: Dispatcher,
    opener: PersonalDataOpener,
) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id="tilmeld-notification",
        # FastStream logs every message at INFO; our handler logs what matters.
        log_level=logging.DEBUG,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
    )

    # Commit after handling, redeliver on an unexpected error: at-least-once, and the inbox
    # makes the effect exactly-once. A batch of events is handled in one transaction.
    @broker.subscriber(
        *ALL_TOPICS,
        group_id=settings.kafka_group_id,
        auto_offset_reset="earliest",
        decoder=keep_raw,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=CONSUMER_BATCH_TIMEOUT_MS,
        fetch_max_wait_ms=CONSUMER_FETCH_MAX_WAIT_MS,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title="notification-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py); "
        "each causes zero or more emails.",
    )
    async def on_event_batch(message: KafkaMessage, consumer: Consumer) -> None:
        records = cast("tuple[Any, ...]", message.raw_message)
        events = await readable_events(broker, pool, consumer, records, service=SERVICE)

        async def apply() -> int:
            opened = await opener.open_all(events)
            async with pool.acquire() as conn, conn.transaction():
                queued = 0
                for envelope, payload in opened:
                    queued += len(await notifier.handle_event(conn, envelope, payload))
                return queued

        queued = await retry_transient(apply)
        if queued:
            dispatcher.wakeup.set()
        for envelope, _ in events:
            log.debug(
                "event handled",
                extra={
                    "event_id": str(envelope.event_id),
                    "event_type": envelope.event_type,
                    "correlation_id": str(envelope.correlation_id),
                },
            )
        log.info("events handled", extra={"events": len(events), "emails_queued": queued})

    return broker
