"""Real Postgres and a real Kafka for the suite: given URLs, else testcontainers where a Docker
engine runs, else an embedded PostgreSQL 18 and Tansu on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker


@dataclass(frozen=True)
class Kafka:
    bootstrap_servers: str
    # Apache Kafka supports the idempotent producer; Tansu's InitProducerId fails.
    idempotence: bool


def docker_available() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an admin URL of a Postgres the suite may create databases in."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver=None) as container:
            yield container.get_connection_url()
        return
    with tempfile.TemporaryDirectory(prefix="tilmeld-test-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data", port=free_port(), durable=False)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@contextlib.contextmanager
def kafka_broker() -> Iterator[Kafka]:
    if servers := os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS"):
        yield Kafka(servers, os.environ.get("TEST_KAFKA_IDEMPOTENCE", "true") == "true")
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:3.9.1").with_kraft() as container:
            yield Kafka(container.get_bootstrap_server(), idempotence=True)
        return
    broker = TansuBroker(port=free_port())
    broker.start()
    try:
        yield Kafka(broker.bootstrap_servers, idempotence=False)
    finally:
        broker.stop()
