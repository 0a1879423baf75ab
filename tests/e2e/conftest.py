"""The three services as real processes, on free loopback ports, against this test's database,
broker and SMTP catcher."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devstack import processes
from devstack.ports import free_port
from devstack.smtp import MailCatcher
from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN
from tests.infrastructure import Kafka
from tilmeld_shared.roles import ServiceRoles, as_role, provision

SERVICE_NAMES = ("registration", "notification", "reporting")
APP_PASSWORD = "e2e-app-password"


@dataclass
class Services:
    env: dict[str, str]
    logs: Path
    ports: dict[str, int] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # What an instance not named after its service runs (service, command), so spawning it
    # again after a kill runs the same.
    instances: dict[str, tuple[str, str]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/api/v1"

    def metrics_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def start(self, name: str) -> None:
        self.spawn(name)
        self.wait_ready(name)

    def spawn(self, name: str, *, service: str | None = None, command: str = "serve") -> None:
        """Start the process without waiting for it to be ready.

        `name` names the instance (its ports, log file and child); it runs `python -m <service>
        <command>`, the service being `name` unless given: `spawn("relay-1",
        service="registration", command="relay")` is another process beside `registration`."""
        if service is not None or command != "serve":
            self.instances[name] = (service or name, command)
        service, command = self.instances.get(name, (name, "serve"))
        self.ports.setdefault(name, free_port())
        self.metrics_ports.setdefault(name, free_port())
        self.children[name] = processes.spawn(
            [sys.executable, "-m", service, command],
            env={
                **self.env,
                f"{service.upper()}_PORT": str(self.ports[name]),
                f"{service.upper()}_METRICS_PORT": str(self.metrics_ports[name]),
            },
            log_file=self.logs / f"{name}.log",
        )

    def wait_ready(self, name: str, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.children[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {(self.logs / f'{name}.log').read_text()}")
            try:
                ready = httpx.get(f"http://127.0.0.1:{self.ports[name]}/health/ready", timeout=1)
                if ready.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{name} not ready")

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.children[name].send_signal(signal.SIGKILL)
        self.children[name].wait()

    def stop_all(self) -> None:
        for child in self.children.values():
            processes.stop(child)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that ran the services shows the end of each one's log beside the failure,
    so a run whose logs are gone (CI) still says what the processes were doing."""
    report = yield
    running = getattr(item, "funcargs", {}).get("services")
    if report.failed and isinstance(running, Services):
        for log_file in sorted(running.logs.glob("*.log")):
            tail = log_file.read_text(errors="replace").splitlines()[-40:]
            report.sections.append((f"last lines of {log_file.name}", "\n".join(tail)))
    return report


@pytest.fixture
def services(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    yield from run_services(database_url, kafka, smtp, tmp_path)


def run_services(
    database_url: str,
    kafka: Kafka,
    smtp: MailCatcher,
    tmp_path: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Services]:
    """The three services as processes until the generator is closed; `extra_env` is added to
    every process's environment."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": str(kafka.idempotence).lower(),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "ORGANISER_TOKEN": ORGANISER_TOKEN,
        "REPORTING_TOKEN": REPORTING_TOKEN,
        "TOKEN_SECRET": "e2e-secret",
        # A day's lead, checked every half second, so a test can watch a reminder go out.
        "REMINDER_LEAD": "1d",
        "REMINDER_POLL_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
        # Whole suites post from 127.0.0.1; tests/registration/api/test_abuse_limits.py tests
        # the limits.
        "RATE_LIMIT_PER_ADDRESS": "",
        "RATE_LIMIT_PER_EMAIL": "",
        **(extra_env or {}),
    }
    # Each service runs as its own least-privileged app role, as in production: what works here
    # needs no DDL and no other service's schema. (A URL set beforehand, e.g. through a fault
    # test's proxy, keeps its host and only changes the role.)
    for name in SERVICE_NAMES:
        asyncio.run(provision(database_url, ServiceRoles.of(name), app_password=APP_PASSWORD))
        own_url = os.environ.get(f"{name.upper()}_DATABASE_URL", database_url)
        env[f"{name.upper()}_DATABASE_URL"] = as_role(own_url, f"{name}_app", APP_PASSWORD)
    ports = {name: free_port() for name in SERVICE_NAMES}
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{ports['registration']}"
    env["REGISTRATION_URL"] = env["PUBLIC_BASE_URL"]
    env["NOTIFICATION_URL"] = f"http://127.0.0.1:{ports['notification']}"
    env["REPORTING_URL"] = f"http://127.0.0.1:{ports['reporting']}"
    running = Services(env=env, logs=tmp_path, ports=ports)
    try:
        for name in SERVICE_NAMES:
            running.start(name)
        yield running
    finally:
        running.stop_all()
