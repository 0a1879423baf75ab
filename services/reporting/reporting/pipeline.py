"""The pipeline's health for the dashboard: outbox backlog, consumer lag per group, dead letters.

Lag and dead letters are read from Kafka itself (committed offsets against end offsets), so the
figures hold for every consumer group, not just this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from reporting.clients import RegistrationClient
from reporting.settings import Settings
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS
from tilmeld_shared.kafka import client_options

GROUPS = ("tilmeld-notification", "tilmeld-reporting")
_CACHE_SECONDS = 2.0


class PipelineHealth:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < _CACHE_SECONDS:
                return self._cached[1]
            outbox, kafka = await asyncio.gather(self._outbox(), self._kafka())
            value = {"outbox": outbox, **kafka}
            self._cached = (time.monotonic(), value)
            return value

    async def _outbox(self) -> dict[str, Any] | None:
        async with RegistrationClient(self._settings) as registration:
            return await registration.outbox_status()

    async def _kafka(self) -> dict[str, Any]:
        servers = client_options(self._settings)
        try:
            ends = await self._end_offsets(servers)
            lag = {group: await self._group_lag(servers, group, ends) for group in GROUPS}
        except Exception:  # the dashboard shows "unknown" rather than failing
            return {"consumer_lag": None, "dead_letters": None, "kafka": False}
        dead_letters = {
            topic: sum(end for tp, end in ends.items() if tp.topic == topic) for topic in DLQ_TOPICS
        }
        return {"consumer_lag": lag, "dead_letters": dead_letters, "kafka": True}

    @staticmethod
    async def _end_offsets(servers: dict[str, Any]) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(**servers, request_timeout_ms=3000)
        await consumer.start()
        try:
            await consumer.topics()  # loads metadata for every topic
            partitions = [
                TopicPartition(topic, partition)
                for topic in (*ALL_TOPICS, *DLQ_TOPICS)
                for partition in (consumer.partitions_for_topic(topic) or set())
            ]
            return dict(await consumer.end_offsets(partitions)) if partitions else {}
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    @staticmethod
    async def _group_lag(
        servers: dict[str, Any], group: str, ends: dict[TopicPartition, int]
    ) -> int:
        """Committed offsets fetched as a group member would, without joining the group."""
        consumer = AIOKafkaConsumer(
            **servers,
            group_id=group,
            enable_auto_commit=False,
            request_timeout_ms=3000,
        )
        await consumer.start()
        try:
            lag = 0
            for tp, end in ends.items():
                if tp.topic in ALL_TOPICS:
                    committed = await consumer.committed(tp)
                    lag += max(end - (committed or 0), 0)
            return lag
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
