"""Reporting benchmark: catch-up from a backlog of events, beside the raw aiokafka consume rate
on the same broker in the same run, and report query latency on a large data set.

The service runs as its own process (`python -m reporting serve`), so its peak RSS and its
flame graph (py-spy, artifacts/flame-reporting.svg, recorded in a second catch-up after the
measured one) are its own.

    .venv/bin/python -m bench.reporting [--networks 100 --meetings 10000 --per-meeting 9]

Real PostgreSQL 18 (embedded) and Tansu on loopback; everything shares this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import profiling
from bench.api import peak_rss_mb
from devstack import processes
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from reporting import queries
from reporting.main import MIGRATIONS
from reporting.repository import projection as projection_repository
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


async def service_metrics(session: aiohttp.ClientSession, metrics_url: str) -> dict[str, float]:
    """The reporting service's own figures (events applied counts after each batch commits)."""
    async with session.get(metrics_url) as answer:
        text = await answer.text()
    figures = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("tilmeld_reporting_"):
            figures[name] = float(value)
    return figures


async def applied_so_far(session: aiohttp.ClientSession, metrics_url: str) -> int:
    figures = await service_metrics(session, metrics_url)
    return int(figures.get("tilmeld_reporting_events_applied_total", 0))


async def catch_up(env: dict[str, str], total: int, *, flame_graph: Path | None) -> dict[str, Any]:
    """The reporting service started as its own process on the backlog: the seconds before the
    first event is applied (start-up and joining the consumer group), its peak RSS and, if
    asked, a py-spy flame graph while it catches up. The rate itself is read afterwards from
    the inbox (`catch_up_rate`).

    Meanwhile progress is read from the service's metrics, seldom: each scrape renders every
    metric in the service's process, on its one core. Polling every 10 ms took a tenth of its
    samples and every 250 ms still 6 %; once a second is closer to a Prometheus, which scrapes
    every 15 s. (The rate is read from the inbox, so polling seldom does not blur it.)"""
    metrics_url = f"http://127.0.0.1:{env['REPORTING_METRICS_PORT']}/metrics"
    started = time.perf_counter()
    service = processes.spawn([sys.executable, "-m", "reporting", "serve"], env=env)
    profiler = None
    try:
        async with aiohttp.ClientSession() as session:
            first = 0
            while first == 0:
                await asyncio.sleep(0.05)
                with contextlib.suppress(aiohttp.ClientError):
                    first = await applied_so_far(session, metrics_url)
                if service.poll() is not None:
                    raise SystemExit("reporting exited before applying an event")
            first_at = time.perf_counter()
            if flame_graph is not None:
                profiler = profiling.record(service.pid, flame_graph, seconds=6)
            while await applied_so_far(session, metrics_url) < total:
                await asyncio.sleep(1.0)
            figures = await service_metrics(session, metrics_url)
            if profiler is not None:
                profiler.wait(timeout=60)
        batches = figures.get("tilmeld_reporting_batch_size_count", 0)
        return {
            "seconds_to_first": first_at - started,
            "mean_batch_size": figures["tilmeld_reporting_batch_size_sum"] / batches
            if batches
            else 0.0,
            "peak_rss_mb": peak_rss_mb(service.pid),
        }
    finally:
        processes.stop(service)
        if profiler is not None and profiler.poll() is None:
            profiler.kill()


# Each batch's inbox rows carry the start of its transaction (`now()`): the events of every batch
# but the last, over the time from the first batch's start to the last's, is the pace at which
# the service applied them, read without adding any work while it ran.
BATCH_STARTS = "SELECT received_at, count(*) AS events FROM inbox GROUP BY 1 ORDER BY 1"


async def catch_up_rate(database_url: str) -> tuple[float, int]:
    """Events per second from the first batch's start to the last's, and the events in the
    inbox (each applied once)."""
    pool = await create_pool(database_url, schema="reporting")
    try:
        batches = await pool.fetch(BATCH_STARTS)
    finally:
        await pool.close()
    total = sum(batch["events"] for batch in batches)
    seconds = (batches[-1]["received_at"] - batches[0]["received_at"]).total_seconds()
    return (total - batches[-1]["events"]) / seconds, total


async def empty_reports(database_url: str) -> None:
    pool = await create_pool(database_url, schema="reporting")
    try:
        async with pool.acquire() as conn:
            await projection_repository.reset(conn)
    finally:
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


async def run(
    networks: int, meetings: int, per_meeting: int, *, flame_graph: Path | None
) -> dict[str, Any]:
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
            # One pass takes well under a second, short enough for a passing stall on this
            # machine to move it by a third: the median of three is the figure.
            raw_passes = [
                await raw_consume(broker.bootstrap_servers, len(messages)) for _ in range(3)
            ]
            raw = statistics.median(raw_passes)
            env = {
                **os.environ,
                "DATABASE_URL": postgres.url,
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                "KAFKA_ENABLE_IDEMPOTENCE": "false",
                "REPORTING_TOKEN": "bench-reporting",
                "REPORTING_PORT": str(free_port()),
                "REPORTING_METRICS_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
            }
            caught_up = await catch_up(env, len(messages), flame_graph=None)
            rate, in_inbox = await catch_up_rate(postgres.url)
            latency = await query_latency(postgres.url)
            if flame_graph is not None:
                # A pass of its own, so the profiler's sampling is not in the measured rate:
                # the reports emptied and the backlog read again by a new consumer group.
                await empty_reports(postgres.url)
                profiled = {**env, "KAFKA_GROUP_ID": f"profile-{uuid.uuid4()}"}
                await catch_up(profiled, len(messages), flame_graph=flame_graph)
        finally:
            broker.stop()
            postgres.stop()
    return {
        "events": len(messages),
        "events_in_inbox_after": in_inbox,
        "networks": networks,
        "meetings": meetings,
        "produce_events_per_s": round(produced),
        "raw_aiokafka_consume_events_per_s": round(raw),
        "raw_aiokafka_consume_passes_per_s": [round(rate) for rate in raw_passes],
        "reporting_catch_up_events_per_s": round(rate),
        "catch_up_share_of_raw_consume": round(rate / raw, 3),
        "seconds_to_first_event_applied": round(caught_up["seconds_to_first"], 2),
        "mean_batch_size": round(caught_up["mean_batch_size"], 1),
        "reporting_peak_rss_mb": caught_up["peak_rss_mb"],
        "flame_graph": str(flame_graph) if flame_graph else None,
        "query_latency": latency,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--per-meeting", type=int, default=9)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-reporting.json"))
    parser.add_argument(
        "--flame-graph",
        type=Path,
        default=Path("artifacts/flame-reporting.svg"),
        help="py-spy flame graph of the service while it catches up ('' for none)",
    )
    args = parser.parse_args()
    flame_graph = args.flame_graph if str(args.flame_graph) not in ("", ".") else None
    result = asyncio.run(
        run(args.networks, args.meetings, args.per_meeting, flame_graph=flame_graph)
    )
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
