"""Fixtures: real infrastructure, a freshly migrated database per test, and an SMTP catcher;
and, over the whole session, a check that no person's name or address reached a log."""

from __future__ import annotations

import logging
import re
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
from tests.builders import PERSONAL_DATA
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


# Test addresses all end in .example; the logs' own masking should have replaced every one.
_TEST_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.example")
_IN_PROCESS_LOG = "in-process.log"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In-process services log through the root logger: keep those lines for the final check,
    formatted exactly as the services format them."""
    from tilmeld_shared.observability import configure_logging

    root = logging.getLogger()
    before = list(root.handlers)
    configure_logging("INFO")
    formatter = root.handlers[-1].formatter
    root.handlers = before
    basetemp = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    handler = logging.FileHandler(basetemp / _IN_PROCESS_LOG, encoding="utf-8")
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a name or address the tests used appears in any service's log."""
    basetemp = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    leaks: list[str] = []
    logs = sorted(basetemp.rglob("*.log"))
    # Addresses are all caught by the pattern; the names are few, so each is looked for in a
    # whole file at once, and only a file with a hit is read line by line.
    names = sorted({item for item in PERSONAL_DATA if "@" not in item})
    for log_file in logs:
        text = log_file.read_text(errors="replace")
        if not _TEST_ADDRESS.search(text) and not any(name in text for name in names):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            found = [name for name in names if name in line]
            found += [match.group(0) for match in _TEST_ADDRESS.finditer(line)]
            if found:
                leaks.append(f"{log_file.relative_to(basetemp)}:{number}: {sorted(set(found))}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"personal data in logs: {len(leaks)} line(s) in {len(logs)} log file(s), "
            f"{len(PERSONAL_DATA)} names and addresses looked for"
        )
        for leak in leaks[:20]:
            reporter.write_line(f"  {leak}")
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
