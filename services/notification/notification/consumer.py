"""The Kafka side: one subscriber over the registration topics, thin as FastStream likes it."""

from __future__ import annotations

import logging

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from notification.dispatcher import Dispatcher
from notification.service import handle_event
from notification.settings import Settings
from tilmeld_shared.consuming import retry_transient
from tilmeld_shared.events import ALL_TOPICS, UnreadableEvent, read_envelope
from tilmeld_shared.kafka import CONSUMER_FETCH_MAX_WAIT_MS

log = logging.getLogger(__name__)


def create_broker(settings: Settings, pool: asyncpg.Pool, dispatcher: Dispatcher) -> KafkaBroker:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id="tilmeld-notification")

    # Commit after handling, redeliver on an unexpected error: at-least-once, and the inbox
    # makes the effect exactly-once.
    @broker.subscriber(
        *ALL_TOPICS,
        group_id=settings.kafka_group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        fetch_max_wait_ms=CONSUMER_FETCH_MAX_WAIT_MS,
        title="notification-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py); "
        "each causes zero or more emails.",
    )
    async def on_registration_event(message: KafkaMessage) -> None:
        try:
            envelope, payload = read_envelope(message.body)
        except UnreadableEvent as error:
            # Poison: no retry can fix it. Skipped here; the notification issue adds the DLQ.
            log.error(
                "unreadable event at offset %s skipped: %s",
                getattr(message.raw_message, "offset", "?"),
                str(error)[:200],
            )
            return

        async def apply() -> None:
            async with pool.acquire() as conn, conn.transaction():
                queued = await handle_event(conn, envelope, payload, mail_from=settings.mail_from)
            if queued:
                dispatcher.wakeup.set()
            log.info(
                "event %s %s handled: %d email(s) queued",
                envelope.event_type,
                envelope.event_id,
                len(queued),
            )

        await retry_transient(apply)

    return broker
