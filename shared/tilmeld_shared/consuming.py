"""What both consumers need around a handler: transient failures retried, poison dead-lettered,
and the consumer's lag measured; `subscribe_batches` puts it all around a service's use case."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.annotations import Consumer, KafkaMessage
from prometheus_client import Counter, Gauge

from tilmeld_shared.events import ALL_TOPICS, Envelope, Payload, UnreadableEvent, read_envelope
from tilmeld_shared.kafka import CONSUMER_BATCH_TIMEOUT_MS, CONSUMER_FETCH_MAX_WAIT_MS
from tilmeld_shared.observability import mask_email_addresses
from tilmeld_shared.tracing import Received, processing, tracing_on

log = logging.getLogger(__name__)

T = TypeVar("T")

Event = tuple[Envelope, Payload | None]

DEAD_LETTERS = Counter(
    "tilmeld_dead_letters_total", "Messages sent to a dead-letter topic.", ["service", "topic"]
)
CONSUMER_LAG = Gauge(
    "tilmeld_consumer_lag",
    "Messages behind the partition's end, as of the last message consumed.",
    ["service", "topic", "partition"],
)

# Records read between turns of the event loop while a part of the delivery is being handled:
# about half a millisecond of parsing, short next to a statement's round trip.
PAUSE_EVERY_RECORDS = 32

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


KEEP_DEAD_LETTER = """
INSERT INTO dead_letters (origin_topic, origin_partition, origin_offset, error, raw)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (origin_topic, origin_partition, origin_offset) DO NOTHING
"""


async def dead_letter(
    broker: KafkaBroker, pool: asyncpg.Pool, record: Any, *, error: str, service: str
) -> None:
    """Keep an unreadable record in the service's `dead_letters` table and announce it on
    `<topic>.dlq` with why and where it came from.

    The raw bytes stay in the database, where erasure can find and delete them; the topic, which
    nothing can edit, carries only the pointer and a digest (poison may hold a person's data)."""
    raw = record.value or b""
    await retry_transient(
        lambda: pool.execute(
            KEEP_DEAD_LETTER, record.topic, record.partition, record.offset, error[:1000], raw
        )
    )
    notice = {
        "origin_topic": record.topic,
        "origin_partition": record.partition,
        "origin_offset": record.offset,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "kept_in": f"{service}.dead_letters",
    }
    await broker.publish(
        json.dumps(notice).encode(),
        topic=f"{record.topic}.dlq",
        key=record.key,
        headers={
            "x-error": mask_email_addresses(error[:1000]),
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


# Forget what is kept about a person: a dead letter that names their id or one of their strings.
FORGET_DEAD_LETTERS = """
DELETE FROM dead_letters
WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS s(needle)
              WHERE s.needle <> '' AND position(convert_to(s.needle, 'UTF8') IN raw) > 0)
"""


async def readable_records(
    broker: KafkaBroker,
    pool: asyncpg.Pool,
    consumer: Any,
    records: Any,
    *,
    service: str,
    pause_every: int = 0,
) -> list[tuple[Any, Event]]:
    """Each readable record with its envelope; an unreadable one goes to the dead letters.

    With `pause_every`, the event loop gets a turn after that many records: a batch being
    applied meanwhile (its statements, its commit) goes on between them."""
    read: list[tuple[Any, Event]] = []
    for count, record in enumerate(records, start=1):
        try:
            read.append((record, read_envelope(record.value or b"")))
        except UnreadableEvent as error:
            await dead_letter(broker, pool, record, error=str(error), service=service)
        if pause_every and count % pause_every == 0:
            await asyncio.sleep(0)
    record_lag(consumer, records, service=service)
    return read


def received_messages(read: list[tuple[Any, Event]]) -> list[Received]:
    """What the consumer spans say of each record (tilmeld_shared.tracing)."""
    return [
        Received(
            event_id=envelope.event_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            headers=record.headers,
        )
        for record, (envelope, _) in read
    ]


async def keep_raw(message: Any) -> Any:
    """A FastStream decoder that leaves bodies as bytes: without a content type FastStream would
    json-decode every message, which we then parse again (and which hides poison)."""
    return message.body


# The partitions this process has reported lag for, per service: a partition that moved to
# another consumer in a rebalance is removed, so its last figure does not linger as if current.
_REPORTED: dict[str, set[tuple[str, int]]] = {}


def record_lag(consumer: Any, records: Any, *, service: str) -> None:
    """Lag of each partition in the batch (the high-water mark minus the next offset to read),
    and none for a partition this consumer no longer holds."""
    from aiokafka import TopicPartition

    if consumer is None:
        return  # FastStream's in-memory test broker has no consumer and no partitions
    last: dict[tuple[str, int], int] = {}
    for record in records:
        last[(record.topic, record.partition)] = record.offset
    reported = _REPORTED.setdefault(service, set())
    for (topic, partition), offset in last.items():
        highwater = consumer.highwater(TopicPartition(topic, partition))
        if highwater is not None:
            CONSUMER_LAG.labels(service, topic, str(partition)).set(max(highwater - offset - 1, 0))
            reported.add((topic, partition))
    held = {(tp.topic, tp.partition) for tp in consumer.assignment()}
    for topic, partition in reported - held:
        CONSUMER_LAG.remove(service, topic, str(partition))
        reported.discard((topic, partition))


def subscribe_batches(
    broker: KafkaBroker,
    pool: asyncpg.Pool,
    handle: Callable[[list[Event]], Awaitable[object]],
    *,
    service: str,
    group_id: str,
    max_records: int,
    title: str,
    description: str,
    received: Callable[[list[Event]], None] | None = None,
    topics: Sequence[str] = ALL_TOPICS,
    max_partition_fetch_bytes: int = 1024 * 1024,
    handle_records: int | None = None,
) -> Any:
    """Subscribe `handle` (a service's use case) to batches of registration events, with the
    project's policy around it; returns FastStream's subscriber.

    - Ack: offsets are committed after `handle` returns (NACK_ON_ERROR). Kafka's default,
      ACK_FIRST, would commit before and lose a batch to a crash; redelivery is safe because
      every consumer keeps an inbox in the transaction of its effect.
    - Dead letters: a record that is not a readable event is kept in `dead_letters` and announced
      on `<topic>.dlq`, never handed on, so poison cannot make NACK_ON_ERROR redeliver forever.
    - Retry: a transient failure (database restarting, a service unreachable) is retried with
      backoff; past that the error propagates and the batch is redelivered.
    - Traces: with tracing on, each message that carries a `traceparent` header gets a consumer
      span, the child of the relay's producer span, open while the batch is handled.

    `received` sees each readable batch once per delivery, before any retry (for metrics).
    `max_partition_fetch_bytes` is aiokafka's (its default here); a consumer that catches up in
    large batches raises it.

    `handle_records`: a delivery of up to `max_records` is handed to `handle` in parts of this
    many, and reading the next part overlaps handling this one (the database applies a part
    while the next is parsed). The parts are handled one after another, each in `handle`'s own
    transaction; offsets are still committed only once every part of the delivery is handled,
    and a failure redelivers the whole delivery, whose handled parts the inbox then skips.
    """

    async def handle_read(read: list[tuple[Any, Event]]) -> None:
        events = [event for _, event in read]
        if received is not None:
            received(events)
        # Each traced message's span is open while the batch is handled (see tracing.processing).
        with processing(received_messages(read) if tracing_on() else (), group_id=group_id):
            await retry_transient(lambda: handle(events))

    async def handle_overlapped(consumer: Any, records: Sequence[Any], size: int) -> None:
        handling: asyncio.Task[None] | None = None
        try:
            for start in range(0, len(records), size):
                read = await readable_records(
                    broker,
                    pool,
                    consumer,
                    records[start : start + size],
                    service=service,
                    pause_every=PAUSE_EVERY_RECORDS if handling is not None else 0,
                )
                if handling is not None:
                    await handling
                handling = asyncio.create_task(handle_read(read))
                await asyncio.sleep(0)  # let it send its first statement before reading on
            if handling is not None:
                await handling
        finally:
            if handling is not None and not handling.done():
                handling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await handling

    @broker.subscriber(
        # Not declared: FastStream would create a missing topic with one partition and one
        # replica; prepare_topics (tilmeld_shared.kafka) creates them, or not, as the settings say.
        *(Topic(name, declare=False) for name in topics),
        group_id=group_id,
        auto_offset_reset="earliest",
        decoder=keep_raw,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=CONSUMER_BATCH_TIMEOUT_MS,
        fetch_max_wait_ms=CONSUMER_FETCH_MAX_WAIT_MS,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=title,
        description=description,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )
    async def on_event_batch(message: KafkaMessage, consumer: Consumer) -> None:
        records = cast("tuple[Any, ...]", message.raw_message)
        if handle_records is not None and len(records) > handle_records:
            await handle_overlapped(consumer, records, handle_records)
        else:
            await handle_read(
                await readable_records(broker, pool, consumer, records, service=service)
            )

    return on_event_batch
