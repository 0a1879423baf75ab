"""Kafka settings shared by the producer (outbox relay) and the consumers.

How a client connects (TLS, SASL) is built here and only here, from the Settings: aiokafka's
keyword arguments for the relay's producer, the admin client and reporting's lag reader, and
the equivalent FastStream `security` for the consumers' brokers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from tilmeld_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


class MissingTopics(RuntimeError):
    """Topics the service needs do not exist, and it is not to create them."""


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The TLS context of an `SSL` or `SASL_SSL` connection (hostnames checked); else None."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile or None,
        certfile=settings.kafka_ssl_certfile or None,
        keyfile=settings.kafka_ssl_keyfile or None,
    )
    return context


def security_options(settings: ServiceSettings) -> dict[str, Any]:
    """aiokafka's connection keywords (producer, consumer, admin client) but the servers."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if (context := ssl_context(settings)) is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password,
        }
    return options


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """aiokafka's keywords to reach and authenticate to the brokers."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers, **security_options(settings)}


def producer_options(settings: ServiceSettings) -> dict[str, Any]:
    """What every producer of ours sends with: every in-sync replica acknowledges, and the
    idempotent producer where the broker has it (Apache Kafka: on; Tansu: off)."""
    return {"acks": "all", "enable_idempotence": settings.kafka_enable_idempotence}


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """FastStream's `security` for a KafkaBroker: the same connection as `security_options`."""
    context = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        return _SASL[settings.kafka_sasl_mechanism](
            settings.kafka_sasl_username,
            settings.kafka_sasl_password,
            ssl_context=context,
            use_ssl=context is not None,
        )
    return BaseSecurity(ssl_context=context) if context is not None else None


async def prepare_topics(
    settings: ServiceSettings, topics: Iterable[str], *, timeout_s: float = 30
) -> None:
    """The topics a process needs, before it is ready: created when missing if
    KAFKA_CREATE_TOPICS allows, otherwise checked, and MissingTopics raised for any absent."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        topics,
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
        create=settings.kafka_create_topics,
        security=security_options(settings),
        timeout_s=timeout_s,
    )


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
    create: bool = True,
    security: Mapping[str, Any] | None = None,
    timeout_s: float = 30,
) -> None:
    """Create the topics that do not exist yet; retries while the broker is still starting.

    With `create=False` nothing is created: a topic still missing at the deadline (the
    platform's topic operator may be about to create it) raises MissingTopics."""
    wanted = list(topics)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **(security or {}))
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
                for name in wanted
                if name not in existing
            ]
            if missing and not create:
                if asyncio.get_running_loop().time() > deadline:
                    raise MissingTopics(
                        f"Kafka at {bootstrap_servers} has no topic "
                        f"{', '.join(topic.name for topic in missing)}, and KAFKA_CREATE_TOPICS "
                        "is false: create it as the platform declares topics (Strimzi: "
                        "deploy/kubernetes/components/strimzi-topics) or set "
                        "KAFKA_CREATE_TOPICS=true"
                    )
                log.warning("waiting for topics %s", [topic.name for topic in missing])
                await asyncio.sleep(1)
                continue
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
