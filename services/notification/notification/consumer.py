"""The Kafka side: one subscriber over the registration topics, thin as FastStream likes it."""

from __future__ import annotations

import logging

import asyncpg
from faststream.kafka import KafkaBroker

from notification.clients import PersonalDataOpener
from notification.dispatcher import Dispatcher
from notification.service.events import handle_batch
from notification.settings import Settings
from tilmeld_shared.consuming import Event, subscribe_batches
from tilmeld_shared.kafka import broker_security, producer_options

SERVICE = "notification"


def create_broker(
    settings: Settings,
    pool: asyncpg.Pool,
    dispatcher: Dispatcher,
    opener: PersonalDataOpener,
) -> KafkaBroker:
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id="tilmeld-notification",
        # FastStream logs every message at INFO; our handler logs what matters.
        log_level=logging.DEBUG,
        security=broker_security(settings),
        **producer_options(settings),  # the dead-letter producer's
    )

    async def on_events(events: list[Event]) -> None:
        if await handle_batch(pool, settings, opener, events):
            dispatcher.wakeup.set()  # emails queued: send them now, not at the next poll

    subscribe_batches(
        broker,
        pool,
        on_events,
        service=SERVICE,
        group_id=settings.kafka_group_id,
        max_records=settings.batch_max_records,
        title="notification-events",
        description="Registration events (the envelope of shared/tilmeld_shared/events.py); "
        "each causes zero or more emails.",
    )
    return broker
