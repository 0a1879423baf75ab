"""The outbox relay: publishes committed events to Kafka in order and marks them published.

Exactly one relay is active across all registration processes: the one holding a session-level
advisory lock on its own connection. If that process dies, Postgres drops the lock with the
connection and another process takes over. A crash between publishing and marking republishes a
batch on the next run, which consumers absorb by deduplicating on `event_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge, Histogram

from registration.outbox import NOTIFY_CHANNEL, OutboxSignal
from registration.repository import events
from registration.settings import Settings
from tilmeld_shared.db import Connection, init_connection, open_pool
from tilmeld_shared.events import ALL_TOPICS
from tilmeld_shared.kafka import client_options, prepare_topics, producer_options
from tilmeld_shared.tracing import (
    TRACE_HEADERS,
    TRACER,
    configure_tracing,
    context_from,
    current_trace_context,
    kafka_headers,
    tracing_on,
)

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 7_405_312_001
# The backlog gauges are counted at most this often: once per batch, under steady traffic a
# batch of a few events, the count was a third of the relay's CPU; a scrape is every 15 s or so.
BACKLOG_REFRESH_S = 1.0

OUTBOX_BACKLOG = Gauge("tilmeld_outbox_backlog", "Outbox events not yet published.")
OUTBOX_OLDEST_AGE = Gauge(
    "tilmeld_outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished event."
)
RELAY_PUBLISHED = Counter("tilmeld_relay_published_total", "Events the relay published.")
RELAY_IS_LEADER = Gauge("tilmeld_relay_leader", "1 while this process holds the relay lock.")
RELAY_KAFKA_UP = Gauge(
    "tilmeld_relay_kafka_up",
    "1 while the leading relay can publish to Kafka, 0 once publishing failed (registrations are "
    "still accepted: they wait in the outbox).",
)
RELAY_BATCH_LATENCY = Histogram(
    "tilmeld_relay_publish_seconds",
    "Time to publish one batch, from its claim to the broker's last acknowledgement (it is "
    "marked published with the next claim).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def create_producer(settings: Settings) -> AIOKafkaProducer:
    """Producer settings are explicit: every replica acknowledges, idempotence by setting,
    TLS and SASL as the settings say (tilmeld_shared.kafka)."""
    return AIOKafkaProducer(
        **client_options(settings),
        **producer_options(settings),
        linger_ms=2,
        request_timeout_ms=10_000,
        client_id="tilmeld-registration-relay",
    )


@contextlib.contextmanager
def publishing(rows: list[asyncpg.Record]) -> Iterator[dict[int, Span]]:
    """A producer span per traced row, the child of the request that recorded it, open until
    the broker acknowledged the batch; an untraced row (tracing off, history) gets none."""
    if not tracing_on():
        yield {}
        return
    spans = {
        row["id"]: TRACER.start_span(
            f"{row['topic']} publish",
            context=context_from({name: row[name] for name in TRACE_HEADERS}),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": row["topic"],
                "messaging.message.id": str(row["event_id"]),
                "messaging.kafka.message.key": row["message_key"],
            },
        )
        for row in rows
        if row["traceparent"]
    }
    try:
        yield spans
    except BaseException as error:
        for span in spans.values():
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        for span in spans.values():
            span.end()


def message_trace_headers(span: Span | None) -> list[tuple[str, bytes]]:
    """The producer span's context as the message's `traceparent`/`tracestate` headers."""
    if span is None:
        return []
    with trace.use_span(span, end_on_exit=False):
        return kafka_headers(current_trace_context())


class OutboxRelay:
    def __init__(self, settings: Settings, signal: OutboxSignal) -> None:
        self._settings = settings
        self._signal = signal
        self._leader = False
        # Ids of the batch the broker acknowledged, marked published with the next claim.
        self._acknowledged: list[int] = []
        signal.local_relay_is_leader = lambda: self._leader

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def run(self) -> None:
        """Run until cancelled: campaign for leadership, then publish whatever is committed."""
        while True:
            try:
                await self._lead_while_possible()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken connection or broker: step down, back off, try again
                log.exception("outbox relay stopped; retrying")
            self._set_leader(False)
            await asyncio.sleep(self._settings.relay_poll_interval_s)

    def _set_leader(self, value: bool) -> None:
        self._leader = value
        RELAY_IS_LEADER.set(1 if value else 0)

    async def _lead_while_possible(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(
            self._settings.database_url,
            server_settings={"search_path": "registration", "application_name": "tilmeld-relay"},
        )
        await init_connection(conn)
        try:
            while not await events.try_lead(conn, lock_key=RELAY_LOCK_KEY):
                await self._refresh_backlog(conn)
                await asyncio.sleep(self._settings.relay_poll_interval_s)
            self._set_leader(True)
            self._acknowledged = []  # a batch acknowledged under a lost lead goes out again
            log.info("outbox relay is the leader")
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            producer = create_producer(self._settings)
            try:
                await producer.start()
            except Exception:  # the broker is unreachable or refuses us: say so, then retry
                RELAY_KAFKA_UP.set(0)
                raise
            RELAY_KAFKA_UP.set(1)
            try:
                await self._publish_forever(conn, producer)
            finally:
                await self._mark_acknowledged(conn)
                with contextlib.suppress(Exception):
                    await producer.stop()
        finally:
            self._set_leader(False)
            with contextlib.suppress(Exception):
                await conn.close()

    async def _mark_acknowledged(self, conn: Connection) -> None:
        """On the way out, so that the next leader does not publish the last batch again (where
        the connection is gone, it will: consumers take each event once whatever it is sent)."""
        if self._acknowledged:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await events.mark_published(conn, self._acknowledged)
                RELAY_PUBLISHED.inc(len(self._acknowledged))
            self._acknowledged = []

    def _on_notify(self, *_: Any) -> None:
        self._signal.local_wakeup.set()

    async def _publish_forever(self, conn: Connection, producer: AIOKafkaProducer) -> None:
        wakeup = self._signal.local_wakeup
        backlog_refreshed_at = 0.0
        while True:
            wakeup.clear()
            if await self.publish_batch(conn, producer):
                continue  # its marking claims the next batch, if any
            if time.monotonic() - backlog_refreshed_at >= BACKLOG_REFRESH_S:
                await self._refresh_backlog(conn)
                backlog_refreshed_at = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self._settings.relay_poll_interval_s)

    async def publish_batch(self, conn: Connection, producer: AIOKafkaProducer) -> int:
        """Mark the previous call's acknowledged batch published and claim the next, send it and
        wait for every acknowledgement; returns how many were sent (the next call marks them)."""
        rows = await events.mark_published_and_claim_next(
            conn, self._acknowledged, limit=self._settings.relay_batch_size
        )
        if self._acknowledged:
            RELAY_PUBLISHED.inc(len(self._acknowledged))
            self._acknowledged = []
        if not rows:
            return 0
        started = time.perf_counter()
        with publishing(rows) as spans:
            deliveries = [
                await producer.send(
                    row["topic"],
                    key=row["message_key"].encode(),
                    value=row["envelope_json"].encode(),
                    headers=[
                        ("event_type", row["event_type"].encode()),
                        *message_trace_headers(spans.get(row["id"])),
                    ],
                )
                for row in rows
            ]
            try:
                await asyncio.gather(*deliveries)
            except KafkaError:
                log.warning("publishing a batch of %d failed; it will be sent again", len(rows))
                RELAY_KAFKA_UP.set(0)
                raise
        RELAY_KAFKA_UP.set(1)
        self._acknowledged = [row["id"] for row in rows]
        RELAY_BATCH_LATENCY.observe(time.perf_counter() - started)
        return len(rows)

    async def _refresh_backlog(self, conn: Connection) -> None:
        row = await events.backlog(conn)
        if row is not None:
            OUTBOX_BACKLOG.set(row["backlog"])
            OUTBOX_OLDEST_AGE.set(float(row["oldest"]))


async def run_alone(settings: Settings) -> None:
    """The relay as a process of its own (`python -m registration relay`), until SIGTERM or
    SIGINT; `serve` with RUN_RELAY=false leaves the publishing to it."""
    configure_tracing(settings)
    await prepare_topics(settings, ALL_TOPICS)
    # The signal's pool would NOTIFY after commits made in this process; the relay makes none.
    pool = await open_pool(settings, schema="registration")
    try:
        task = asyncio.create_task(OutboxRelay(settings, OutboxSignal(pool)).run())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await pool.close()
