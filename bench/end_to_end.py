"""End to end through the three services, and the consumers catching up from a backlog.

    .venv/bin/python -m bench.end_to_end [--rate 200] [--seconds 30] [--backlog 4000]
                                         [--flame-seconds 10]

Everything real and on loopback: PostgreSQL 18 (durable settings), Tansu, an SMTP server in its
own process, and the registration, notification and reporting services as processes, with every
security feature of the shipped configuration on (sealing, credential checks, JSON logs; the
per-address and per-email rate limits off, as one load generator is one address). The load
generator (aiohttp, open loop) shares the machine's two cores with all of them, unless
`BENCH_PIN=1` gives it a core of its own (bench/pinning.py).

- live: registrations offered at `--rate` per second for `--seconds`; for each, the time from
  when its POST was due to (a) its row appearing in the reporting facts every report is
  computed from (polled every 10 ms, so up to 10 ms is polling) and (b) its confirmation email
  being accepted by the SMTP server (stamped by that server);
- lags: the outbox backlog and both consumers' lags, sampled every 100 ms (bench/lag.py); after
  the last POST was due, the seconds until each is back to 0 for good;
- backlog: notification and reporting stopped, `--backlog` registrations written, both started
  again; catch-up is counted from the first to the last of the backlog's emails and facts, so the
  consumer group's join (about 5 s on Tansu) is not in the rate;
- flame graphs: a further pass at `--rate` with py-spy recording each service for
  `--flame-seconds` (artifacts/flame-end-to-end-<service>.svg), after the measured phases so
  the profiler is in none of their figures;
- footprint: each service's peak resident memory (VmHWM) over the whole run.
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

from bench import cpu, pinning, profiling
from bench.api import (
    TOKEN,
    create_meeting,
    load_client,
    peak_rss_mb,
    percentile,
    registration_body,
)
from bench.lag import LagSamples, relay_counters, relay_figures, sample_lags
from devstack import processes
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from tilmeld_shared.db import migrate

SERVICES = ("registration", "notification", "reporting")
SENT_EMAILS = "SELECT count(*) FROM notification.notifications WHERE status = 'sent'"
SEEN_IN_REPORTING = "SELECT id::text FROM reporting.registrations WHERE id = ANY($1::uuid[])"
ARTIFACTS = Path("artifacts")


@dataclass
class Posted:
    """What the load generator knows of each registration it sent."""

    due: dict[str, float] = field(default_factory=dict)  # email -> unix time its POST was due
    registration_of: dict[str, str] = field(default_factory=dict)  # registration id -> email
    errors: int = 0
    finished: bool = False
    last_due: float = 0.0


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    ports: dict[str, int]
    metrics_ports: dict[str, int]
    relay_process: bool = False
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def start(self, name: str) -> None:
        env = {
            **self.env,
            f"{name.upper()}_PORT": str(self.ports[name]),
            f"{name.upper()}_METRICS_PORT": str(self.metrics_ports[name]),
        }
        if name == "registration" and self.relay_process:
            # As the Kubernetes deployment runs it: the API without the relay, the relay alone.
            env["RUN_RELAY"] = "false"
            self.children["relay"] = processes.spawn(
                [sys.executable, "-m", "registration", "relay"],
                env={**env, "REGISTRATION_METRICS_PORT": str(self.metrics_ports["relay"])},
                log_file=self.logs / "relay.log",
            )
        self.children[name] = processes.spawn(
            [sys.executable, "-m", name, "serve"], env=env, log_file=self.logs / f"{name}.log"
        )
        pinning.pin_if_requested()

    @property
    def relay_metrics_port(self) -> int:
        return self.metrics_ports["relay" if self.relay_process else "registration"]

    def stop(self, name: str) -> None:
        child = self.children.pop(name)
        self.note_rss(name, child)
        child.send_signal(signal.SIGTERM)
        processes.stop(child)

    def note_rss(self, name: str, child: subprocess.Popen[bytes] | None = None) -> None:
        child = child or self.children[name]
        self.peak_rss_mb[name] = max(self.peak_rss_mb.get(name, 0.0), peak_rss_mb(child.pid))

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each service has used so far."""
        return {name: cpu.process_seconds(child.pid) for name, child in self.children.items()}

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        for name in self.ports:
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
    """Open loop at `rate` per second, each POST sent when due whatever the answers before it;
    with no rate, 32 at a time as fast as they go."""
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
            posted.last_due = max(posted.last_due, due)
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
        "max_ms": round(max(values), 1) if values else None,
    }


def span_rate(times: list[float]) -> float | None:
    """Items per second from the first to the last; None when the span is too short to time."""
    span = max(times) - min(times) if times else 0.0
    return round((len(times) - 1) / span) if span >= 0.1 else None


async def live(
    session: aiohttp.ClientSession,
    base: str,
    meetings: list[str],
    stack: Stack,
    *,
    database_url: str,
    servers: str,
    rate: int,
    seconds: float,
) -> tuple[Posted, dict[str, float], LagSamples, dict[str, Any]]:
    """The open loop at `rate`, the reporting watcher and the lag sampler beside it; returns when
    every fact is seen and every lag has been 0 for a second after the last POST (or after
    60 s)."""
    posted = Posted()
    seen: dict[str, float] = {}
    lags = LagSamples()
    relay_before = await relay_counters(stack.relay_metrics_port)
    cpu_before, started = (
        {
            **stack.cpu_seconds(),
            "load_generator": time.process_time(),
            "machine": cpu.machine_busy_seconds(),
        },
        time.time(),
    )
    sampler = asyncio.create_task(
        sample_lags(
            lags, database_url=database_url, servers=servers, metrics_ports=stack.metrics_ports
        )
    )
    watcher = asyncio.create_task(
        watch_reporting(database_url, posted, seen, until=time.time() + seconds + 60)
    )
    await post_registrations(session, base, meetings, posted, count=int(rate * seconds), rate=rate)
    elapsed = time.time() - started
    used = {
        name: (spent - cpu_before[name]) / elapsed
        for name, spent in {
            **stack.cpu_seconds(),
            "load_generator": time.process_time(),
            "machine": cpu.machine_busy_seconds(),
        }.items()
    }
    machine = used.pop("machine")
    # The rest is PostgreSQL, Tansu and the SMTP server (and anything else on the machine).
    cores = {
        **{name: round(share, 2) for name, share in used.items()},
        "rest": round(machine - sum(used.values()), 2),
        "idle": round((os.cpu_count() or 1) - machine, 2),
    }
    await watcher
    deadline = time.time() + 60
    while not lags.settled(after=posted.last_due, for_s=1.0) and time.time() < deadline:
        await asyncio.sleep(0.2)
    lags.stop.set()
    await sampler
    relay = relay_figures(relay_before, await relay_counters(stack.relay_metrics_port))
    return posted, seen, lags, {"cpu": cores, "relay": relay}


# Long on purpose: one benchmark read top to bottom (infrastructure, services, load, backlog,
# profile, figures); the order of the phases is what a reader checks.
async def run(
    rate: int, seconds: float, backlog: int, flame_seconds: int, *, relay_process: bool
) -> dict[str, Any]:
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
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_ADDRESS": "",  # one load generator, one address: limits off
            "RATE_LIMIT_PER_EMAIL": "",
        }
        # Metrics on free ports too, so a running `make run` is no obstacle.
        stack = Stack(
            env=env,
            logs=tmp,
            ports=ports,
            metrics_ports={name: free_port() for name in (*SERVICES, "relay")},
            relay_process=relay_process,
        )
        flame_graphs: dict[str, str] = {}
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

                measured, measured_seen, lags, figures = await live(
                    session,
                    base,
                    meetings,
                    stack,
                    database_url=postgres.url,
                    servers=broker.bootstrap_servers,
                    rate=rate,
                    seconds=seconds,
                )
                await asyncio.sleep(3)  # let the last confirmations leave
                for name in SERVICES:
                    stack.note_rss(name)

                queued = Posted()
                queued_seen: dict[str, float] = {}
                if backlog:
                    stack.stop("notification")
                    stack.stop("reporting")
                    await post_registrations(
                        session, base, meetings, queued, count=backlog, rate=None
                    )
                    stack.start("notification")
                    stack.start("reporting")
                    await watch_reporting(
                        postgres.url, queued, queued_seen, until=time.time() + 180
                    )
                expected = len(warm.registration_of) + len(measured.registration_of) + backlog
                for _ in range(600):  # the mail may still be leaving after reporting is done
                    stack.note_rss("notification")
                    if await _sent_count(postgres.url) >= expected:
                        break
                    await asyncio.sleep(0.5)
                for name in SERVICES:
                    stack.note_rss(name)

                if flame_seconds:
                    recordings = profiling.start_flame_graphs(
                        {name: child.pid for name, child in stack.children.items()},
                        seconds=flame_seconds,
                        folder=ARTIFACTS,
                        name="end-to-end",
                    )
                    pinning.pin_if_requested()
                    await post_registrations(
                        session,
                        base,
                        meetings,
                        Posted(),
                        count=int(rate * (flame_seconds + 1)),
                        rate=rate,
                    )
                    flame_graphs = profiling.finish(recordings)
                    for name in SERVICES:
                        stack.note_rss(name)
        finally:
            for name in list(stack.children):
                stack.stop(name)
            smtp.send_signal(signal.SIGTERM)
            smtp.wait(timeout=30)
            broker.stop()
            postgres.stop()
        arrivals = read_arrivals(arrivals_file)
    backlog_mail = [arrivals[e] for e in queued.registration_of.values() if e in arrivals]
    measured_mail = [arrivals[e] for e in measured.registration_of.values() if e in arrivals]
    load_stopped_at = measured.last_due
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "registrations_accepted": len(measured.registration_of),
        "post_errors": measured.errors + queued.errors,
        "post_to_report": latencies(measured, measured_seen, by_email=False),
        "post_to_email": latencies(measured, arrivals, by_email=True),
        # After the last POST was due: when each lag was back to 0 for good, in seconds.
        "back_to_zero_after_load_s": lags.back_to_zero(load_stopped_at),
        "last_fact_after_load_s": _after(measured_seen.values(), load_stopped_at),
        "last_email_after_load_s": _after(measured_mail, load_stopped_at),
        "peak_lag_under_load": lags.peak(),
        "committed_behind_at_last_sample": lags.behind,
        "lag_sample_interval_s": lags.interval_s,
        "backlog": backlog,
        "reporting_catch_up_per_s": span_rate(list(queued_seen.values())),
        "notification_catch_up_emails_per_s": span_rate(backlog_mail),
        "backlog_emails_arrived": len(backlog_mail),
        "peak_rss_mb": stack.peak_rss_mb,
        # CPU used while the load was offered, in cores (1.0 = one core all the time).
        "cpu_cores_under_load": figures["cpu"],
        # The relay's batches while the load was offered (its metrics; times from claim to commit).
        "relay": figures["relay"],
        "flame_graphs": flame_graphs,
        "flame_graph_pass": f"{flame_seconds} s at {rate}/s after the measured phases",
        "pinned": pinning.description(),
        "cpus": os.cpu_count(),
        "relay_runs": "in its own process" if relay_process else "inside the API process",
    }


def _after(times: Any, moment: float) -> float | None:
    times = list(times)
    return round(max(times) - moment, 2) if times else None


async def _sent_count(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(SENT_EMAILS))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backlog", type=int, default=4000, help="0: no catch-up phase")
    parser.add_argument(
        "--flame-seconds",
        type=int,
        default=10,
        help="py-spy flame graph of each service under load, in artifacts/ (0: none)",
    )
    parser.add_argument(
        "--relay-process",
        action="store_true",
        help="the outbox relay as a process of its own (python -m registration relay), as the "
        "Kubernetes deployment runs it, instead of inside the API process",
    )
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "bench-end-to-end.json")
    args = parser.parse_args()
    pinning.pin_if_requested()
    result = asyncio.run(
        run(
            args.rate,
            args.seconds,
            args.backlog,
            args.flame_seconds,
            relay_process=args.relay_process,
        )
    )
    for key, value in result.items():
        print(f"{key:>36}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
