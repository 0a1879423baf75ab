"""What both consumers need around a handler: transient failures retried, poison dead-lettered,
and the consumer's lag measured."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from faststream.kafka import KafkaBroker
from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

T = TypeVar("T")

DEAD_LETTERS = Counter(
    "tilmeld_dead_letters_total", "Messages sent to a dead-letter topic.", ["service", "topic"]
)
CONSUMER_LAG = Gauge(
    "tilmeld_consumer_lag",
    "Messages behind the partition's end, as of the last message consumed.",
    ["service", "topic", "partition"],
)

# Failures that go away by themselves: the database restarting, a connection dropped.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


async def retry_transient(
    operation: Callable[[], Awaitable[T]], *, give_up_after_s: float = 120.0
) -> T:
    """Retry with exponential backoff and full jitter while the failure is transient.

    Past `give_up_after_s` the error propagates and the subscriber's NACK_ON_ERROR policy
    redelivers the message, so nothing is committed past an unprocessed event.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after_s
    delay = 0.1
    while True:
        try:
            return await operation()
        except TRANSIENT_ERRORS as error:
            if loop.time() > deadline:
                raise
            log.warning(
                "transient failure (%s); retrying in up to %.1fs", type(error).__name__, delay
            )
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 5.0)


async def dead_letter(broker: KafkaBroker, record: Any, *, error: str, service: str) -> None:
    """Publish an unprocessable record to `<topic>.dlq` with why and where it came from."""
    topic = f"{record.topic}.dlq"
    await broker.publish(
        record.value or b"",
        topic=topic,
        key=record.key,
        headers={
            "x-error": error[:1000],
            "x-origin-topic": record.topic,
            "x-origin-partition": str(record.partition),
            "x-origin-offset": str(record.offset),
            "x-failed-by": service,
        },
    )
    DEAD_LETTERS.labels(service, record.topic).inc()
    log.error(
        "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, error[:200]
    )


async def keep_raw(message: Any) -> Any:
    """A FastStream decoder that leaves bodies as bytes: without a content type FastStream would
    json-decode every message, which we then parse again (and which hides poison)."""
    return message.body


def record_lag(consumer: Any, record: Any, *, service: str) -> None:
    """Lag of the record's partition: the high-water mark minus the next offset to read."""
    from aiokafka import TopicPartition

    highwater = consumer.highwater(TopicPartition(record.topic, record.partition))
    if highwater is not None:
        CONSUMER_LAG.labels(service, record.topic, str(record.partition)).set(
            max(highwater - record.offset - 1, 0)
        )
