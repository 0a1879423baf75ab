"""The local stack behind `make run`: infrastructure, migrations, the three services, demo data."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import uvicorn

from devstack import demo, processes
from devstack.ports import port_in_use
from devstack.postgres import EmbeddedPostgres
from devstack.smtp import MailCatcher, mailbox_app
from devstack.tansu import TansuBroker
from tilmeld_shared.db import migrate
from tilmeld_shared.roles import ServiceRoles, as_role, provision

SERVICES = {"registration": 8001, "notification": 8002, "reporting": 8003}
# Where each answers `GET /metrics` for a local Prometheus (not on its public port).
METRICS_PORTS = {"registration": 9001, "notification": 9002, "reporting": 9003}
DEV_ORGANISER_TOKEN = "dev-organiser-token"  # noqa: S105  (development only, printed at start)
DEV_REPORTING_TOKEN = "dev-reporting-token"  # noqa: S105
DEV_DATABASE_PASSWORD = "dev-only-password"  # noqa: S105  (the local, loopback-only stack)


async def _replay_everything(database_url: str) -> int:
    from registration.service.operations import replay_since

    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registration"})
    try:
        return await replay_since(conn, datetime(1970, 1, 1, tzinfo=UTC))
    finally:
        await conn.close()


def _service_migrations(name: str) -> Path:
    module = __import__(name)
    assert module.__file__ is not None
    return Path(module.__file__).parent / "migrations"


@dataclass
class Stack:
    root: Path
    fresh: bool = False
    pg_port: int = int(os.environ.get("DEVSTACK_POSTGRES_PORT", "54329"))
    kafka_port: int = int(os.environ.get("DEVSTACK_KAFKA_PORT", "19092"))
    smtp_port: int = int(os.environ.get("DEVSTACK_SMTP_PORT", "1025"))
    mailbox_port: int = int(os.environ.get("DEVSTACK_MAILBOX_PORT", "8025"))
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    catcher: MailCatcher | None = None
    mailbox: uvicorn.Server | None = None
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    replayed: int = 0

    @property
    def state(self) -> Path:
        return self.root / ".devstack"

    # Long on purpose: the start order (database, broker, mail, migrations, services, demo) is
    # the thing to read here, so it stays in one place.
    def start(self) -> dict[str, str]:
        started = time.monotonic()
        if self.fresh:
            shutil.rmtree(self.state, ignore_errors=True)
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)

        if not env.get("DATABASE_URL"):
            self._refuse_if_taken(self.pg_port, "Postgres (DEVSTACK_POSTGRES_PORT)")
            self.postgres = EmbeddedPostgres(self.state / "pgdata", port=self.pg_port)
            self.postgres.start()
            env["DATABASE_URL"] = self.postgres.url
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            self._refuse_if_taken(self.kafka_port, "Tansu (DEVSTACK_KAFKA_PORT)")
            self.broker = TansuBroker(port=self.kafka_port, log_file=self.state / "logs/tansu.log")
            self.broker.start()
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap_servers
            env["KAFKA_ENABLE_IDEMPOTENCE"] = "false"  # Tansu's InitProducerId fails
        if not env.get("SMTP_HOST"):
            self._refuse_if_taken(self.smtp_port, "the SMTP catcher (DEVSTACK_SMTP_PORT)")
            self.catcher = MailCatcher(port=self.smtp_port, store_dir=self.state / "mail")
            self.catcher.start()
            self._serve_mailbox()
            env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(self.smtp_port)
            env.setdefault("SMTP_ACCEPTS_SMTPUTF8", "true")  # the catcher offers it
        # Everything here comes from 127.0.0.1 (demo loader, `make measure`): a roomier limit.
        env.setdefault("RATE_LIMIT_PER_ADDRESS", "1000/minute")
        env.setdefault("ORGANISER_TOKEN", DEV_ORGANISER_TOKEN)
        env.setdefault("REPORTING_TOKEN", DEV_REPORTING_TOKEN)
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{SERVICES['registration']}")
        # Meeting documents live with the rest of the stack's data (and survive a restart).
        env.setdefault("DOCUMENTS_DIR", str(self.state / "documents"))

        for name in SERVICES:
            migrations_url = self._least_privilege(env, name)
            asyncio.run(
                migrate(migrations_url, schema=name, migrations_dir=_service_migrations(name))
            )
        if self.broker is not None:
            # Tansu keeps its log in memory: after a restart it is empty, and events published
            # before, but not yet consumed, would be lost. Replaying the retained outbox closes
            # that gap; consumers skip what they already applied.
            self.replayed = asyncio.run(_replay_everything(env["DATABASE_URL"]))
        for name, port in SERVICES.items():
            self._refuse_if_taken(port, f"the {name} service")
            self._refuse_if_taken(METRICS_PORTS[name], f"the {name} service's metrics")
            self.children[name] = processes.spawn(
                [sys.executable, "-m", name, "serve"],
                env={
                    **env,
                    f"{name.upper()}_PORT": str(port),
                    f"{name.upper()}_METRICS_PORT": str(METRICS_PORTS[name]),
                },
                log_file=self.state / f"logs/{name}.log",
            )
        self._wait_ready()
        keys_file = self.state / "demo-organisation-keys.json"
        loaded = demo.load(
            f"http://127.0.0.1:{SERVICES['registration']}", env["ORGANISER_TOKEN"], keys_file
        )
        return {
            "startup_seconds": f"{time.monotonic() - started:.1f}",
            "demo": f"loaded {loaded} networks" if loaded else "already present",
            "replayed": str(self.replayed),
            "organiser_token": env["ORGANISER_TOKEN"],
            "organisation_keys": keys_file.read_text() if keys_file.exists() else "",
            "reporting_token": env["REPORTING_TOKEN"],
            "database_url": env["DATABASE_URL"],
            "kafka": env["KAFKA_BOOTSTRAP_SERVERS"],
        }

    def _least_privilege(self, env: dict[str, str], name: str) -> str:
        """Owner and app roles for the service (as in production); returns the URL to migrate
        with and points the service at its app role. A database where we may not create roles
        keeps the single DATABASE_URL."""
        admin_url = env["DATABASE_URL"]
        try:
            asyncio.run(
                provision(
                    admin_url,
                    ServiceRoles.of(name),
                    owner_password=DEV_DATABASE_PASSWORD,
                    app_password=DEV_DATABASE_PASSWORD,
                )
            )
        except asyncpg.InsufficientPrivilegeError:
            print(f"note: cannot create roles in {admin_url}; {name} runs as that user")
            return admin_url
        env[f"{name.upper()}_DATABASE_URL"] = as_role(
            admin_url, f"{name}_app", DEV_DATABASE_PASSWORD
        )
        return as_role(admin_url, f"{name}_owner", DEV_DATABASE_PASSWORD)

    def _refuse_if_taken(self, port: int, what: str) -> None:
        if port_in_use(port):
            raise SystemExit(
                f"port {port} for {what} is already in use; stop what holds it "
                "or set the variable in parentheses to another port"
            )

    def _serve_mailbox(self) -> None:
        assert self.catcher is not None
        config = uvicorn.Config(
            mailbox_app(self.catcher), host="127.0.0.1", port=self.mailbox_port, log_level="warning"
        )
        self.mailbox = uvicorn.Server(config)
        threading.Thread(target=self.mailbox.run, daemon=True).start()

    def _wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        pending = dict(SERVICES)
        while pending and time.monotonic() < deadline:
            for name, port in list(pending.items()):
                if self.children[name].poll() is not None:
                    raise SystemExit(f"{name} exited; see {self.state}/logs/{name}.log")
                try:
                    if (
                        httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code
                        == 200
                    ):
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        if pending:
            raise SystemExit(f"not ready in {timeout_s}s: {', '.join(pending)}")

    def stop(self) -> None:
        for child in self.children.values():
            child.send_signal(signal.SIGTERM)
        for child in self.children.values():
            processes.stop(child)
        if self.mailbox:
            self.mailbox.should_exit = True
        if self.catcher:
            self.catcher.stop()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()
