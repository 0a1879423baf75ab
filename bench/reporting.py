"""Reporting benchmark: catch-up from a backlog of events, beside the raw aiokafka consume rate
on the same broker in the same run, and report query latency on a large data set.

    .venv/bin/python -m bench.reporting [--networks 100 --meetings 10000 --per-meeting 9]

Real PostgreSQL 18 (embedded) and Tansu on loopback; everything shares this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from reporting import queries
from reporting.consumer import create_broker
from reporting.main import MIGRATIONS
from reporting.settings import Settings
from tilmeld_shared.db import create_pool, migrate
from tilmeld_shared.events import (
    ALL_TOPICS,
    DLQ_TOPICS,
    MeetingScheduled,
    NetworkCreated,
    RegistrationConfirmed,
    new_envelope,
)
from tilmeld_shared.kafka import ensure_topics

MUNICIPALITIES = [
    "Albertslund",
    "Furesø",
    "Halsnæs",
    "Herlev",
    "Ishøj",
    "Køge",
    "Roskilde",
    "Rødovre",
    "Tynset",
    "Münster",
    "Kreis Steinfurt",
    "Bielefeld",
]


# Long on purpose: one synthetic event stream written out in the order registration emits it.
def events(networks: int, meetings: int, per_meeting: int) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) for a network, its meetings and their registrations."""
    now = datetime.now(UTC)
    out = []
    network_ids = [uuid.uuid4() for _ in range(networks)]
    for network in network_ids:
        payload = NetworkCreated(
            network_id=network,
            title=f"Netværk {network.hex[:6]}",
            language="da",
            max_companions=1,
            status="open",
        )
        out.append(
            (
                payload.topic,
                network.bytes,
                new_envelope(
                    payload, aggregate_id=network, aggregate_version=1, correlation_id="bench"
                ),
            )
        )
    for i in range(meetings):
        meeting, network = uuid.uuid4(), network_ids[i % networks]
        starts = now + timedelta(days=random.randint(-300, 300))
        version = 1
        scheduled = MeetingScheduled(
            meeting_id=meeting,
            network_id=network,
            title=f"Møde {i}",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            timezone="Europe/Copenhagen",
            capacity=per_meeting * 2,
        )
        out.append(
            (
                scheduled.topic,
                meeting.bytes,
                new_envelope(
                    scheduled, aggregate_id=meeting, aggregate_version=version, correlation_id="b"
                ),
            )
        )
        for _ in range(per_meeting):
            version += 1
            confirmed = RegistrationConfirmed(
                registration_id=uuid.uuid4(),
                meeting_id=meeting,
                network_id=network,
                member_id=uuid.uuid4(),
                municipality=random.choice(MUNICIPALITIES),
                language="da",
                status="confirmed",
                seats=2,
                companions=1,
                registered_at=starts - timedelta(days=random.randint(1, 60)),
            )
            out.append(
                (
                    confirmed.topic,
                    meeting.bytes,
                    new_envelope(
                        confirmed,
                        aggregate_id=meeting,
                        aggregate_version=version,
                        correlation_id="b",
                    ),
                )
            )
    return [(topic, key, envelope.model_dump_json().encode()) for topic, key, envelope in out]


async def produce(servers: str, messages: list[tuple[str, bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(messages) / (time.perf_counter() - started)


async def raw_consume(servers: str, total: int) -> float:
    consumer = AIOKafkaConsumer(
        *ALL_TOPICS,
        bootstrap_servers=servers,
        group_id=f"raw-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    seen, started = 0, None
    try:
        while seen < total:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if batch and started is None:
                started = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()
    assert started is not None
    return total / (time.perf_counter() - started)


async def catch_up(settings: Settings, total: int) -> tuple[float, float]:
    """Events per second from the first event applied to the last, and the seconds before the
    first (joining the consumer group)."""
    pool = await create_pool(settings.database_url, schema="reporting")
    broker = create_broker(settings, pool)
    started = time.perf_counter()
    await broker.start()
    try:
        while (first := await pool.fetchval("SELECT count(*) FROM inbox")) == 0:
            await asyncio.sleep(0.005)
        first_at = time.perf_counter()
        while await pool.fetchval("SELECT count(*) FROM inbox") < total:
            await asyncio.sleep(0.02)
        return (total - first) / (time.perf_counter() - first_at), first_at - started
    finally:
        await broker.stop()
        await pool.close()


async def query_latency(database_url: str, rounds: int = 200) -> dict[str, dict[str, float]]:
    pool = await create_pool(database_url, schema="reporting")
    meeting_ids = [r["id"] for r in await pool.fetch("SELECT id FROM meetings")]
    network_ids = [r["id"] for r in await pool.fetch("SELECT id FROM networks")]
    cases: dict[str, Any] = {
        "meeting": lambda c: queries.meeting_report(c, random.choice(meeting_ids)),
        "network": lambda c: queries.network_report(c, random.choice(network_ids)),
        "networks (all 100)": lambda c: queries.network_reports(c),
        "municipalities": lambda c: queries.municipality_reports(
            c, network_id=None, since=None, until=None
        ),
        "timeseries day, one network": lambda c: queries.timeseries(
            c,
            metric="registrations",
            bucket="day",
            network_id=random.choice(network_ids),
            since=None,
            until=None,
        ),
        "meetings of one network": lambda c: queries.meeting_reports(
            c, network_id=random.choice(network_ids), since=None, until=None, limit=1000
        ),
    }
    result = {}
    try:
        for name, run in cases.items():
            timings = []
            for _ in range(
                rounds if "all" not in name and "municipalities" not in name else rounds // 4
            ):
                async with pool.acquire() as conn:
                    started = time.perf_counter()
                    await run(conn)
                    timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            result[name] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
            }
    finally:
        await pool.close()
    return result


def _mean_batch_size() -> float:
    from reporting.consumer import BATCH_SIZE

    samples = {s.name: s.value for s in next(iter(BATCH_SIZE.collect())).samples}
    count = samples.get("tilmeld_reporting_batch_size_count", 0)
    return samples.get("tilmeld_reporting_batch_size_sum", 0) / count if count else 0.0


async def run(networks: int, meetings: int, per_meeting: int) -> dict[str, Any]:
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pg", port=free_port(), durable=False)
        postgres.start()
        broker = TansuBroker(port=free_port())
        broker.start()
        try:
            await migrate(postgres.url, schema="reporting", migrations_dir=MIGRATIONS)
            await ensure_topics(
                broker.bootstrap_servers,
                ALL_TOPICS + DLQ_TOPICS,
                partitions=3,
                replication_factor=1,
            )
            messages = events(networks, meetings, per_meeting)
            produced = await produce(broker.bootstrap_servers, messages)
            raw = await raw_consume(broker.bootstrap_servers, len(messages))
            settings = Settings(
                database_url=postgres.url,
                kafka_bootstrap_servers=broker.bootstrap_servers,
                kafka_enable_idempotence=False,
            )
            caught_up, joining = await catch_up(settings, len(messages))
            latency = await query_latency(postgres.url)
        finally:
            broker.stop()
            postgres.stop()
    return {
        "events": len(messages),
        "networks": networks,
        "meetings": meetings,
        "produce_events_per_s": round(produced),
        "raw_aiokafka_consume_events_per_s": round(raw),
        "reporting_catch_up_events_per_s": round(caught_up),
        "catch_up_share_of_raw_consume": round(caught_up / raw, 3),
        "seconds_to_first_event_applied": round(joining, 2),
        "mean_batch_size": round(_mean_batch_size(), 1),
        "query_latency": latency,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--per-meeting", type=int, default=9)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-reporting.json"))
    args = parser.parse_args()
    result = asyncio.run(run(args.networks, args.meetings, args.per_meeting))
    for key, value in result.items():
        if key != "query_latency":
            print(f"{key:>36}  {value}")
    print(f"{'report query':>36}  {'p50 ms':>8} {'p99 ms':>8}")
    for name, figures in result["query_latency"].items():
        print(f"{name:>36}  {figures['p50_ms']:>8} {figures['p99_ms']:>8}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
