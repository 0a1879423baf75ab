"""Fixtures: real infrastructure, a freshly migrated database per test, and an SMTP catcher."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

import notification.main
import registration.main
import reporting.main
from devstack.ports import free_port
from devstack.smtp import MailCatcher
from tests.infrastructure import Kafka, kafka_broker, postgres_server
from tilmeld_shared.db import migrate

TEMPLATE = "tilmeld_template"
SCHEMAS: dict[str, Path] = {
    "registration": registration.main.MIGRATIONS,
    "notification": notification.main.MIGRATIONS,
    "reporting": reporting.main.MIGRATIONS,
}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
async def postgres_admin_url() -> AsyncIterator[str]:
    with postgres_server() as url:
        admin = await asyncpg.connect(url)
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
        await admin.close()
        # Migrated once; every test clones it, which takes milliseconds.
        for schema, migrations in SCHEMAS.items():
            await migrate(with_database(url, TEMPLATE), schema=schema, migrations_dir=migrations)
        yield url


@pytest.fixture
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        yield with_database(postgres_admin_url, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def kafka() -> Iterator[Kafka]:
    """A broker per test that needs one, so no test sees another's events."""
    with kafka_broker() as broker:
        yield broker


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    catcher = MailCatcher(port=free_port())
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()
