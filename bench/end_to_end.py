"""End to end through the three services, and the consumers catching up from a backlog.

    .venv/bin/python -m bench.end_to_end [--rate 500] [--seconds 6] [--backlog 4000]

Everything real and on loopback: PostgreSQL 18 (durable settings), Tansu, an SMTP server in its
own process, and the registration, notification and reporting services as processes. The load
generator (aiohttp, open loop) shares the machine's two cores with all of them.

- live: registrations offered at `--rate` per second; for each, the time from when its POST was
  due to (a) its row appearing in the reporting facts every report is computed from (polled every
  10 ms, so up to 10 ms is polling) and (b) its confirmation email being accepted by the SMTP
  server (stamped by that server);
- backlog: notification and reporting stopped, `--backlog` registrations written, both started
  again; catch-up is counted from the first to the last of the backlog's emails and facts, so the
  consumer group's join (about 5 s on Tansu) is not in the rate;
- footprint: each service's peak resident memory (VmHWM) under that load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.api import (
    TOKEN,
    create_meeting,
    load_client,
    peak_rss_mb,
    percentile,
    registration_body,
)
from devstack import processes
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from tilmeld_shared.db import migrate

SERVICES = ("registration", "notification", "reporting")
SENT_EMAILS = "SELECT count(*) FROM notification.notifications WHERE status = 'sent'"
SEEN_IN_REPORTING = "SELECT id::text FROM reporting.registrations WHERE id = ANY($1::uuid[])"


@dataclass
class Posted:
    """What the load generator knows of each registration it sent."""

    due: dict[str, float] = field(default_factory=dict)  # email -> unix time its POST was due
    registration_of: dict[str, str] = field(default_factory=dict)  # registration id -> email
    errors: int = 0
    finished: bool = False


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    ports: dict[str, int]
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def start(self, name: str) -> None:
        self.children[name] = processes.spawn(
            [sys.executable, "-m", name, "serve"],
            env={**self.env, f"{name.upper()}_PORT": str(self.ports[name])},
            log_file=self.logs / f"{name}.log",
        )

    def stop(self, name: str) -> None:
        child = self.children.pop(name)
        self.note_rss(name, child)
        child.send_signal(signal.SIGTERM)
        processes.stop(child)

    def note_rss(self, name: str, child: subprocess.Popen[bytes] | None = None) -> None:
        child = child or self.children[name]
        self.peak_rss_mb[name] = max(self.peak_rss_mb.get(name, 0.0), peak_rss_mb(child.pid))

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        for name in self.children:
            url = f"http://127.0.0.1:{self.ports[name]}/health/ready"
            for _ in range(300):
                try:
                    async with session.get(url) as answer:
                        if answer.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"{name} not ready; see {self.logs}/{name}.log")


async def post_registrations(
    session: aiohttp.ClientSession,
    base: str,
    meetings: list[str],
    posted: Posted,
    *,
    count: int,
    rate: float | None,
) -> None:
    """Open loop at `rate` per second; with no rate, 32 at a time as fast as they go."""
    in_flight = asyncio.Semaphore(32 if rate is None else count)
    start = time.time() + 0.2

    async def one(number: int) -> None:
        body = registration_body()
        email = body["member"]["email"]
        due = start + number / rate if rate else time.time()
        await asyncio.sleep(max(0.0, due - time.time()))
        async with in_flight:
            due = due if rate else time.time()
            posted.due[email] = due
            url = f"{base}/meetings/{meetings[number % len(meetings)]}/registrations"
            try:
                async with session.post(url, json=body) as answer:
                    created = await answer.json() if answer.status == 201 else None
            except (aiohttp.ClientError, TimeoutError):
                created = None
        if created is None:
            posted.errors += 1
        else:
            posted.registration_of[created["registration_id"]] = email

    await asyncio.gather(*(one(number) for number in range(count)))
    posted.finished = True


async def watch_reporting(
    database_url: str, posted: Posted, seen_at: dict[str, float], *, until: float
) -> None:
    """Stamps each registration when its fact row is visible to reporting's queries."""
    conn = await asyncpg.connect(database_url)
    try:
        while time.time() < until:
            waiting = [rid for rid in posted.registration_of if rid not in seen_at]
            if waiting:
                now = time.time()
                for row in await conn.fetch(SEEN_IN_REPORTING, waiting):
                    seen_at[row["id"]] = now
            elif posted.finished:
                return
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


def read_arrivals(path: Path) -> dict[str, float]:
    arrivals: dict[str, float] = {}
    for line in path.read_text().splitlines():
        recipient, at = line.split("\t")
        arrivals.setdefault(recipient, float(at))  # the first mail to a recipient: confirmation
    return arrivals


def latencies(posted: Posted, done_at: dict[str, float], *, by_email: bool) -> dict[str, Any]:
    values = [
        (done_at[key] - posted.due[email]) * 1000
        for registration_id, email in posted.registration_of.items()
        if (key := email if by_email else registration_id) in done_at
    ]
    return {
        "seen": len(values),
        "p50_ms": percentile(values, 0.5) if values else None,
        "p99_ms": percentile(values, 0.99) if values else None,
    }


def span_rate(times: list[float]) -> float | None:
    """Items per second from the first to the last; None when the span is too short to time."""
    span = max(times) - min(times) if times else 0.0
    return round((len(times) - 1) / span) if span >= 0.1 else None


# Long on purpose: one benchmark read top to bottom (infrastructure, services, load, backlog,
# figures); the order of the phases is what a reader checks.
async def run(rate: int, seconds: float, backlog: int, profile: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        postgres = EmbeddedPostgres(tmp / "pg", port=free_port(), durable=True)
        postgres.start()
        broker = TansuBroker(port=free_port())
        broker.start()
        smtp_port = free_port()
        arrivals_file = tmp / "arrivals.tsv"
        smtp = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_server", str(smtp_port), str(arrivals_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert smtp.stdout is not None
        smtp.stdout.readline()  # "ready"
        ports = {name: free_port() for name in SERVICES}
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "ORGANISER_TOKEN": TOKEN,
            "REPORTING_TOKEN": "bench-reporting",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['registration']}",
            "REGISTRATION_URL": f"http://127.0.0.1:{ports['registration']}",
            # Metrics on free ports too, so a running `make run` is no obstacle.
            **{f"{name.upper()}_METRICS_PORT": str(free_port()) for name in SERVICES},
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_ADDRESS": "",  # one load generator, one address: limits off
            "RATE_LIMIT_PER_EMAIL": "",
        }
        stack = Stack(env=env, logs=tmp, ports=ports)
        profiler: subprocess.Popen[bytes] | None = None
        try:
            for name in SERVICES:
                module = __import__(f"{name}.main", fromlist=["MIGRATIONS"])
                await migrate(postgres.url, schema=name, migrations_dir=module.MIGRATIONS)
                stack.start(name)
            base = f"http://127.0.0.1:{ports['registration']}/api/v1"
            async with load_client(1024) as session:
                await stack.wait_ready(session)
                meetings = [await create_meeting(session, base, 100_000) for _ in range(20)]
                # Warm-up, and the consumer groups formed, before anything is timed.
                warm = Posted()
                await post_registrations(session, base, meetings, warm, count=50, rate=50)
                await watch_reporting(postgres.url, warm, {}, until=time.time() + 60)

                live = Posted()
                live_seen: dict[str, float] = {}
                watcher = asyncio.create_task(
                    watch_reporting(postgres.url, live, live_seen, until=time.time() + 120)
                )
                await post_registrations(
                    session, base, meetings, live, count=int(rate * seconds), rate=rate
                )
                await watcher
                await asyncio.sleep(5)  # let the last confirmations leave
                for name in SERVICES:
                    stack.note_rss(name)

                stack.stop("notification")
                stack.stop("reporting")
                queued = Posted()
                await post_registrations(session, base, meetings, queued, count=backlog, rate=None)
                stack.start("notification")
                stack.start("reporting")
                if profile:
                    profiler = _profile(stack.children[profile].pid, Path(f"artifacts/{profile}"))
                queued_seen: dict[str, float] = {}
                await watch_reporting(postgres.url, queued, queued_seen, until=time.time() + 180)
                expected = len(warm.registration_of) + len(live.registration_of) + backlog
                for _ in range(600):  # the mail may still be leaving after reporting is done
                    stack.note_rss("notification")
                    outbox = await _sent_count(postgres.url)
                    if outbox >= expected:
                        break
                    await asyncio.sleep(0.5)
                for name in SERVICES:
                    stack.note_rss(name)
                if profiler is not None:
                    profiler.wait(timeout=60)
        finally:
            for name in list(stack.children):
                stack.stop(name)
            smtp.send_signal(signal.SIGTERM)
            smtp.wait(timeout=30)
            broker.stop()
            postgres.stop()
        arrivals = read_arrivals(arrivals_file)
    backlog_mail = [arrivals[e] for e in queued.registration_of.values() if e in arrivals]
    return {
        "offered_per_s": rate,
        "registrations_accepted": len(live.registration_of),
        "post_errors": live.errors + queued.errors,
        "post_to_report": latencies(live, live_seen, by_email=False),
        "post_to_email": latencies(live, arrivals, by_email=True),
        "backlog": backlog,
        "reporting_catch_up_per_s": span_rate(list(queued_seen.values())),
        "notification_catch_up_emails_per_s": span_rate(backlog_mail),
        "backlog_emails_arrived": len(backlog_mail),
        "peak_rss_mb": stack.peak_rss_mb,
    }


def _profile(pid: int, prefix: Path) -> subprocess.Popen[bytes]:
    """py-spy for 20 s, raw stacks (flamegraph.pl or speedscope read them)."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--duration",
            "20",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            f"{prefix}-catch-up.txt",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _sent_count(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(SENT_EMAILS))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--backlog", type=int, default=4000)
    parser.add_argument(
        "--profile",
        choices=SERVICES,
        help="record a py-spy profile (raw stacks) of this service while it catches up",
    )
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-end-to-end.json"))
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, args.seconds, args.backlog, args.profile))
    for key, value in result.items():
        print(f"{key:>36}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
