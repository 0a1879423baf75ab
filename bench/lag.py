"""How far behind each stage of the pipeline is, sampled while a benchmark runs.

- `outbox`: events committed by registration and not yet published by the relay (the outbox
  rows with no `published_at`, read from the database: the relay's own gauge is refreshed only
  between batches);
- `<service>_lag_gauge`: the consumer lag each consumer exports (`tilmeld_consumer_lag` on its
  Prometheus endpoint, summed over partitions; as of the last batch it fetched);
- `<service>_committed_lag`: the end offsets minus the offsets its consumer group committed,
  read from the broker as reporting's pipeline page does; an offset is committed after the batch
  was handled, so this is the lag of work done, the strictest of the three.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tilmeld_shared.events import ALL_TOPICS

OUTBOX_BACKLOG = "SELECT count(*) FROM registration.outbox WHERE published_at IS NULL"
CONSUMERS = {"notification": "tilmeld-notification", "reporting": "tilmeld-reporting"}
GAUGE = "tilmeld_consumer_lag{"


@dataclass
class LagSamples:
    """(unix time, figures) every `interval_s`, until `stop` is set."""

    interval_s: float = 0.1
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    # In the last sample, each partition a consumer group has not committed to its end.
    behind: dict[str, dict[str, int]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def settled(self, *, after: float, for_s: float) -> bool:
        """Every figure 0 in every sample of the last `for_s` seconds, all taken after `after`."""
        since = time.time() - for_s
        if since < after:
            return False
        recent = [figures for at, figures in self.samples if at >= since]
        return bool(recent) and all(not any(figures.values()) for figures in recent)

    def back_to_zero(self, load_stopped_at: float) -> dict[str, float | None]:
        """Per figure, seconds from `load_stopped_at` to the first sample from which it stayed
        0 (None: not 0 at the last sample). Sampling makes it an upper bound by `interval_s`."""
        after = [(at, figures) for at, figures in self.samples if at >= load_stopped_at]
        names = sorted({name for _, figures in self.samples for name in figures})
        result: dict[str, float | None] = {}
        for name in names:
            zero_from: float | None = None
            for at, figures in after:
                if figures.get(name, 0):
                    zero_from = None
                elif zero_from is None:
                    zero_from = at
            result[name] = None if zero_from is None else round(zero_from - load_stopped_at, 2)
        return result

    def peak(self) -> dict[str, int]:
        names = {name for _, figures in self.samples for name in figures}
        return {name: max(f.get(name, 0) for _, f in self.samples) for name in sorted(names)}


async def sample_lags(
    samples: LagSamples, *, database_url: str, servers: str, metrics_ports: dict[str, int]
) -> None:
    """Sample until `samples.stop` is set."""
    conn = await asyncpg.connect(database_url)
    ends_reader = AIOKafkaConsumer(bootstrap_servers=servers, request_timeout_ms=3000)
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=3000)
    await ends_reader.start()
    await admin.start()
    try:
        await ends_reader.topics()
        partitions = [
            TopicPartition(topic, partition)
            for topic in ALL_TOPICS
            for partition in ends_reader.partitions_for_topic(topic) or set()
        ]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while not samples.stop.is_set():
                started = time.time()
                figures = {"outbox": int(await conn.fetchval(OUTBOX_BACKLOG))}
                ends = await ends_reader.end_offsets(partitions)
                for service, group in CONSUMERS.items():
                    behind = await _committed_lag(admin, group, ends)
                    figures[f"{service}_committed_lag"] = sum(behind.values())
                    samples.behind[service] = behind
                    port = metrics_ports[service]
                    figures[f"{service}_lag_gauge"] = await _gauge_lag(session, port)
                samples.samples.append((started, figures))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(samples.stop.wait(), samples.interval_s)
    finally:
        await conn.close()
        await ends_reader.stop()
        await admin.close()


async def _committed_lag(
    admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int]
) -> dict[str, int]:
    """Messages between the group's committed offset and the end, per partition behind."""
    committed: dict[Any, Any] = await admin.list_consumer_group_offsets(
        group, partitions=list(ends)
    )
    behind = {}
    for partition, end in ends.items():
        offset = committed.get(partition)
        # Tansu's end offset can lag a just-committed position by one: nothing is left then.
        lag = max(end - max(offset.offset if offset is not None else 0, 0), 0)
        if lag:
            behind[f"{partition.topic}[{partition.partition}]"] = lag
    return behind


async def _gauge_lag(session: aiohttp.ClientSession, port: int) -> int:
    async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
        text = await answer.text()
    return sum(
        int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines() if line.startswith(GAUGE)
    )


async def relay_counters(port: int) -> dict[str, float]:
    """The relay's own counters from registration's metrics endpoint: events published, batches
    and their seconds from claim to commit, and the histogram's cumulative buckets."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        text = await answer.text()
    counters: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == "tilmeld_relay_published_total":
            counters["published"] = float(value)
        elif name == "tilmeld_relay_publish_seconds_count":
            counters["batches"] = float(value)
        elif name == "tilmeld_relay_publish_seconds_sum":
            counters["seconds"] = float(value)
        elif name.startswith('tilmeld_relay_publish_seconds_bucket{le="'):
            bound = name.split('"')[1]
            counters[f"le {bound}"] = float(value)
    return counters


def relay_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Batches, mean batch size, mean and p99 (a bucket's upper bound) claim-to-commit time."""
    delta = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}
    batches = delta.get("batches", 0.0)
    if not batches:
        return {"batches": 0}
    buckets = sorted(
        (float(key[3:]), count) for key, count in delta.items() if key.startswith("le ")
    )
    p99 = next((bound for bound, count in buckets if count >= 0.99 * batches), None)
    return {
        "batches": int(batches),
        "mean_batch_size": round(delta.get("published", 0.0) / batches, 1),
        "mean_publish_ms": round(1000 * delta.get("seconds", 0.0) / batches, 1),
        "p99_publish_ms_at_most": None if p99 is None else round(1000 * p99, 1),
    }
