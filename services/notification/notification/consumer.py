"""The Kafka side: one subscriber over the registration topics, thin as FastStream likes it."""

from __future__ import annotations

import logging

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer, KafkaMessage

from notification.dispatcher import Dispatcher
from notification.service import Notifier
from notification.settings import Settings
from tilmeld_shared.consuming import dead_letter, keep_raw, record_lag, retry_transient
from tilmeld_shared.events import ALL_TOPICS, UnreadableEvent, read_envelope
from tilmeld_shared.kafka import CONSUMER_FETCH_MAX_WAIT_MS

log = logging.getLogger(__name__)
SERVICE = "notification"


def create_broker(
    settings: Settings, pool: asyncpg.Pool, notifier: Notifier, dispatcher: Dispatcher
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
    # makes the effect exactly-once.
    @broker.subscriber(
        *ALL_TOPICS,
        group_id=settings.kafka_group_id,
        auto_offset_reset="earliest",
        decoder=keep_raw,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        fetch_max_wait_ms=CONSUMER_FETCH_MAX_WAIT_MS,
        title="notification-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py); "
        "each causes zero or more emails.",
    )
    async def on_registration_event(message: KafkaMessage, consumer: Consumer) -> None:
        record = message.raw_message
        record_lag(consumer, record, service=SERVICE)
        try:
            envelope, payload = read_envelope(message.body)
        except UnreadableEvent as error:
            await dead_letter(broker, record, error=str(error), service=SERVICE)
            return

        async def apply() -> int:
            async with pool.acquire() as conn, conn.transaction():
                return len(await notifier.handle_event(conn, envelope, payload))

        queued = await retry_transient(apply)
        if queued:
            dispatcher.wakeup.set()
        log.info(
            "event %s %s handled (correlation %s): %d email(s) queued",
            envelope.event_type,
            envelope.event_id,
            envelope.correlation_id,
            queued,
        )

    return broker
