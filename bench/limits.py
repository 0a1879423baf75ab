"""Limits of this machine, measured in the same run as the services' figures:

- a raw asyncpg transaction shaped like a registration's writes (lock the meeting row, insert a
  registration, bump the meeting, insert an outbox row), from several connections at once;
- raw aiokafka produce (pipelined) and consume (getmany) rates against the same broker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import cpu
from tilmeld_shared.kafka import ensure_topics

SETUP = """
CREATE TABLE IF NOT EXISTS bench_meetings (id int PRIMARY KEY, seats_taken int NOT NULL,
                                           version int NOT NULL);
CREATE TABLE IF NOT EXISTS bench_registrations (id uuid PRIMARY KEY, meeting int NOT NULL,
                                                seats int NOT NULL, created_at timestamptz
                                                DEFAULT now());
CREATE TABLE IF NOT EXISTS bench_outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                         event_id uuid NOT NULL, envelope jsonb NOT NULL);
INSERT INTO bench_meetings SELECT g, 0, 1 FROM generate_series(1, 200) g ON CONFLICT DO NOTHING;
"""

ENVELOPE = json.dumps(
    {
        "event_type": "RegistrationConfirmed",
        "payload": {"seats": 1} | {f"field_{i}": "x" * 20 for i in range(12)},
    }
)


async def registration_shaped_transactions(
    dsn: str, *, connections: int = 16, seconds: float = 8.0
) -> tuple[float, float]:
    """Transactions per second, and the machine's CPU milliseconds per transaction (PostgreSQL
    and this client together)."""
    setup = await asyncpg.connect(dsn)
    await setup.execute(SETUP)
    await setup.close()
    deadline = time.perf_counter() + seconds
    done = 0

    async def client(number: int) -> None:
        nonlocal done
        conn = await asyncpg.connect(dsn)
        try:
            while time.perf_counter() < deadline:
                meeting = 1 + (done + number) % 200
                async with conn.transaction():
                    await conn.fetchrow(
                        "SELECT * FROM bench_meetings WHERE id = $1 FOR UPDATE", meeting
                    )
                    await conn.execute(
                        "INSERT INTO bench_registrations (id, meeting, seats) VALUES ($1, $2, 1)",
                        uuid.uuid4(),
                        meeting,
                    )
                    await conn.execute(
                        "UPDATE bench_meetings SET seats_taken = seats_taken + 1,"
                        " version = version + 1 WHERE id = $1",
                        meeting,
                    )
                    await conn.execute(
                        "INSERT INTO bench_outbox (event_id, envelope) VALUES ($1, $2::jsonb)",
                        uuid.uuid4(),
                        ENVELOPE,
                    )
                done += 1
        finally:
            await conn.close()

    started, busy = time.perf_counter(), cpu.machine_busy_seconds()
    await asyncio.gather(*(client(n) for n in range(connections)))
    return done / (time.perf_counter() - started), 1000 * (cpu.machine_busy_seconds() - busy) / done


async def kafka_rates(servers: str, *, messages: int = 100_000) -> dict[str, float]:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    await ensure_topics(servers, [topic], partitions=3, replication_factor=1)
    value = ENVELOPE.encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        sends = [
            await producer.send(topic, value, key=str(i % 64).encode()) for i in range(messages)
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    produce = messages / (time.perf_counter() - started)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=topic,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    seen, first = 0, None
    try:
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if batch and first is None:
                first = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()
    assert first is not None
    return {
        "produce_msgs_per_s": produce,
        "consume_msgs_per_s": messages / (time.perf_counter() - first),
    }


async def measure(dsn: str, servers: str) -> dict[str, Any]:
    tps, cpu_ms = await registration_shaped_transactions(dsn)
    kafka = await kafka_rates(servers)
    return {
        "raw_registration_shaped_tps": round(tps),
        "raw_registration_shaped_cpu_ms": round(cpu_ms, 3),
        "raw_kafka_produce_msgs_per_s": round(kafka["produce_msgs_per_s"]),
        "raw_kafka_consume_msgs_per_s": round(kafka["consume_msgs_per_s"]),
    }
