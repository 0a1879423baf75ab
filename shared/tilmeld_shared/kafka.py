"""Kafka settings shared by the producer (outbox relay) and the consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)

# Tansu answers a fetch only when fetch_max_wait_ms expires; 20 ms keeps delivery latency low
# on it and costs Apache Kafka nothing noticeable at our volumes.
CONSUMER_FETCH_MAX_WAIT_MS = 20
# FastStream batch subscribers sleep this long after an empty poll.
CONSUMER_BATCH_TIMEOUT_MS = 10


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    timeout_s: float = 30,
) -> None:
    """Create the topics that do not exist yet; retries while the broker is still starting."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
                for name in topics
                if name not in existing
            ]
            if missing:
                # Another process may create one between our list and our create.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
                log.info("created topics %s", [topic.name for topic in missing])
            return
        except (KafkaError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
        finally:
            await admin.close()


async def broker_reachable(bootstrap_servers: str, *, timeout_s: float = 1.0) -> bool:
    """A cheap readiness probe: can we open a TCP connection to any bootstrap server?"""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), int(port)), timeout_s
            )
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        return True
    return False
