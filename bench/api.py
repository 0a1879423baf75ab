"""Registration API under load, with the machine's limits measured in the same run.

    .venv/bin/python -m bench.api

A real PostgreSQL 18 (durable settings: fsync and synchronous commit on), Tansu and the
registration service, all on loopback. The service runs as two replicas (`--replicas`), each its
own process with one uvicorn worker and the requests spread over them as a Kubernetes Service
would: one Python process uses at most one core, and at saturation a single one left a third of
this machine's two cores idle while PostgreSQL waited for it. The first replica runs the outbox
relay, the others only wake it (RUN_RELAY=false). The load generator is Python on the same two
cores: it takes a share of the CPU it measures.

- saturation: closed loop, 32 requests in flight, for 10 s, over every replica, and before it
  the same against one replica alone;
- latency: open loop at 250, 500 and 1,000 offered registrations per second for 8 s each,
  each request timed from when it was due, so queueing shows in p99; each starts once the relay
  has published what came before (the saturation leaves thousands of events to publish), so it
  measures the offered rate and not the previous phase's tail;
- the HTTP floor: the same closed loop against the service's liveness check, which goes through
  the same server and middleware but touches neither Postgres nor a request body: no
  registration can be answered faster than that on this machine;
- footprint: the service's peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

from bench import cpu, pinning, profiling
from bench.limits import measure as machine_limits
from devstack import processes
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from registration.main import MIGRATIONS
from tilmeld_shared.db import migrate

TOKEN = "bench-organiser"  # noqa: S105
SATURATION_S = 10.0

# For --statements: the server's per-statement statistics, nested statements included.
STATEMENT_STATISTICS = (
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.track=all",
)
TOP_STATEMENTS = """
SELECT calls, total_exec_time AS exec_ms, toplevel,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25
"""
WAL_WRITTEN = "SELECT wal_records, wal_bytes FROM pg_stat_wal"


def registration_body() -> dict[str, Any]:
    return {
        "member": {
            "name": "Bench Person",
            "email": f"{uuid.uuid4().hex}@bench.example",
            "municipality": "Roskilde",
            "role": "Kulturkonsulent",
        },
        "companions": [],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


async def create_meeting(session: aiohttp.ClientSession, base: str, capacity: int) -> str:
    """A network and an open meeting of the given capacity; returns the meeting's id."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    network_body = {
        "title": "Bench",
        "description": "bench",
        "organisers": ["bench"],
        "language": "da",
        "max_companions": 1,
    }
    async with session.post(f"{base}/networks", headers=headers, json=network_body) as answer:
        network = await answer.json()
    start = time.time() + 30 * 86400
    meeting_body = {
        "title": "Bench",
        "capacity": capacity,
        "open_to_public": True,
        "starts_at": time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(start)),
        "ends_at": time.strftime("%Y-%m-%dT12:00:00Z", time.gmtime(start)),
    }
    async with session.post(
        f"{base}/networks/{network['network_id']}/meetings", headers=headers, json=meeting_body
    ) as answer:
        meeting = await answer.json()
    return str(meeting["meeting_id"])


def load_client(connections: int) -> aiohttp.ClientSession:
    # aiohttp rather than httpx: httpx spent ~1 core on 240 requests/s here, so the load
    # generator, not the service, was what the first runs measured.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def saturation(
    bases: list[str],
    service_pids: list[int],
    *,
    postgres_pid: int,
    broker_pid: int,
    seconds: float = SATURATION_S,
    in_flight: int = 32,
) -> dict[str, Any]:
    async with load_client(in_flight) as session:
        # Many meetings, so the per-meeting row lock is not what is measured.
        meetings = [await create_meeting(session, bases[0], 100_000) for _ in range(in_flight)]
        deadline = time.perf_counter() + seconds
        done, errors = 0, 0

        async def loop(lane: int) -> None:
            nonlocal done, errors
            url = f"{bases[lane % len(bases)]}/meetings/{meetings[lane]}/registrations"
            while time.perf_counter() < deadline:
                async with session.post(url, json=registration_body()) as answer:
                    await answer.read()
                    if answer.status == 201:
                        done += 1
                    else:
                        errors += 1

        started = time.perf_counter()

        def used() -> dict[str, float]:
            return {
                "service": sum(cpu.process_seconds(pid) for pid in service_pids),
                "load_generator": time.process_time(),
                "postgres": cpu.server_seconds(postgres_pid),
                "broker": cpu.process_seconds(broker_pid),
                "machine": cpu.machine_busy_seconds(),
            }

        before = used()
        await asyncio.gather(*(loop(lane) for lane in range(in_flight)))
        after = used()
        elapsed = time.perf_counter() - started
        spent = {part: after[part] - before[part] for part in before}
        machine = spent.pop("machine")
        # Where the two cores went, and per registration the CPU each part spent on one; the
        # rest is whatever else ran on the machine (the kernel's own threads, other processes).
        spent["rest"] = machine - sum(spent.values())
        return {
            "registrations_per_s": round(done / elapsed),
            "errors": errors,
            "replicas": len(bases),
            "cpu_cores": {
                **{part: round(seconds / elapsed, 2) for part, seconds in spent.items()},
                "idle": round((os.cpu_count() or 1) - machine / elapsed, 2),
            },
            "cpu_ms_per_registration": {
                part: round(1000 * seconds / done, 3) if done else None
                for part, seconds in spent.items()
                if part != "load_generator"
            },
        }


async def http_floor(url: str, *, seconds: float = 5, in_flight: int = 32) -> int:
    """Liveness checks answered per second by the service, closed loop as `saturation`."""
    async with load_client(in_flight) as session:
        deadline = time.perf_counter() + seconds
        done = 0

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as answer:
                    await answer.read()
                    done += answer.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(in_flight)))
        return round(done / (time.perf_counter() - started))


async def open_loop(bases: list[str], rate: int, *, seconds: float = 8) -> dict[str, Any]:
    async with load_client(512) as session:
        meetings = [await create_meeting(session, bases[0], 100_000) for _ in range(64)]
        latencies: list[float] = []
        errors = 0

        async def one(due: float, base: str, meeting: str) -> None:
            nonlocal errors
            await asyncio.sleep(max(0, due - time.perf_counter()))
            url = f"{base}/meetings/{meeting}/registrations"
            try:
                async with session.post(url, json=registration_body()) as answer:
                    await answer.read()
                    ok = answer.status == 201
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append((time.perf_counter() - due) * 1000)
            errors += not ok

        start = time.perf_counter() + 0.2
        total = int(rate * seconds)
        await asyncio.gather(
            *(
                one(start + i / rate, bases[i % len(bases)], meetings[i % len(meetings)])
                for i in range(total)
            )
        )
        achieved = total / (time.perf_counter() - start)
        return {
            "offered_per_s": rate,
            "achieved_per_s": round(achieved),
            "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99),
            "errors": errors,
        }


async def outbox_drained(database_url: str, *, timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(timeout_s):
            while await conn.fetchval(
                "SELECT count(*) FROM registration.outbox WHERE published_at IS NULL"
            ):
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def ready(url: str, *, timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                if httpx.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def run(
    *, replicas: int = 2, profile: Path | None = None, statements: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres(
            Path(tmp) / "pg",
            port=free_port(),
            durable=True,
            settings=STATEMENT_STATISTICS if statements else (),
        )
        postgres.start()
        broker = TansuBroker(port=free_port())
        broker.start()
        pinning.pin_if_requested()
        services: list[subprocess.Popen[bytes]] = []
        try:
            limits = await machine_limits(postgres.url, broker.bootstrap_servers)
            await migrate(postgres.url, schema="registration", migrations_dir=MIGRATIONS)
            env = {
                **os.environ,
                "DATABASE_URL": postgres.url,
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                "KAFKA_ENABLE_IDEMPOTENCE": "false",
                "ORGANISER_TOKEN": TOKEN,
                "LOG_LEVEL": "WARNING",
                "RATE_LIMIT_PER_ADDRESS": "",  # one load generator, one address: limits off
                "RATE_LIMIT_PER_EMAIL": "",
            }
            ports = [free_port() for _ in range(replicas)]
            serve = [sys.executable, "-m", "registration", "serve"]
            for replica, port in enumerate(ports):
                replica_env = {
                    **env,
                    "REGISTRATION_PORT": str(port),
                    "REGISTRATION_METRICS_PORT": str(free_port()),
                    "RUN_RELAY": "true" if replica == 0 else "false",
                }
                services.append(processes.spawn(serve, env=replica_env))
            pinning.pin_if_requested()
            bases = [f"http://127.0.0.1:{port}/api/v1" for port in ports]
            for port in ports:
                await ready(f"http://127.0.0.1:{port}/health/ready")
            pids = [service.pid for service in services]
            assert postgres.process is not None and broker.process is not None
            servers = {"postgres_pid": postgres.process.pid, "broker_pid": broker.process.pid}
            alone = None
            if replicas > 1:
                alone = await saturation(bases[:1], pids[:1], **servers)
                await outbox_drained(postgres.url)
            # py-spy samples the first replica from outside, on the same two cores: its figures
            # are then a little lower than a run without it.
            recorder = profiling.record(pids[0], profile, seconds=8) if profile else None
            if statements:
                await _statement_statistics(postgres.url, reset=True)
            saturated = await saturation(bases, pids, **servers)
            if statements:
                table = await _statement_statistics(postgres.url)
                statements.parent.mkdir(parents=True, exist_ok=True)
                statements.write_text(
                    statements_report(table, saturated["registrations_per_s"] * SATURATION_S)
                )
            alone = alone or saturated
            if recorder is not None:
                recorder.wait()
            latency = []
            for rate in (250, 500, 1000):
                await outbox_drained(postgres.url)
                latency.append(await open_loop(bases, rate))
            floor = await http_floor(f"http://127.0.0.1:{ports[0]}/health/live")
            rss = max(peak_rss_mb(pid) for pid in pids)
        finally:
            for service in services:
                processes.stop(service)
            broker.stop()
            postgres.stop()
    return {
        **limits,
        "api_replicas": replicas,
        "api_saturation_registrations_per_s": saturated["registrations_per_s"],
        "api_share_of_raw_transactions": round(
            saturated["registrations_per_s"] / limits["raw_registration_shaped_tps"], 3
        ),
        "api_saturation_errors": saturated["errors"],
        "api_saturation_cpu_cores": saturated["cpu_cores"],
        "api_saturation_cpu_ms_per_registration": saturated["cpu_ms_per_registration"],
        "api_saturation_one_replica_per_s": alone["registrations_per_s"],
        "api_one_replica_share_of_raw_transactions": round(
            alone["registrations_per_s"] / limits["raw_registration_shaped_tps"], 3
        ),
        "api_one_replica_cpu_cores": alone["cpu_cores"],
        "api_one_replica_cpu_ms_per_registration": alone["cpu_ms_per_registration"],
        "http_floor_per_s": floor,
        "http_floor_share_of_raw_transactions": round(
            floor / limits["raw_registration_shaped_tps"], 3
        ),
        "open_loop": latency,
        "registration_peak_rss_mb": rss,
        "pinned": pinning.description(),
    }


async def _statement_statistics(database_url: str, *, reset: bool = False) -> list[Any]:
    conn = await asyncpg.connect(database_url)
    try:
        if reset:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')")
            return []
        return [*await conn.fetch(TOP_STATEMENTS), await conn.fetchrow(WAL_WRITTEN)]
    finally:
        await conn.close()


def statements_report(rows: list[Any], registrations: float) -> str:
    """Each statement's execution time per registration, busiest first, and the WAL written.
    pg_stat_statements does not say which statement ran a nested one, and it times execution
    only: parsing, the executor's start-up and the commit are not in it."""
    *statements, wal = rows
    lines = [
        f"PostgreSQL per registration over {registrations:,.0f} registrations "
        "(pg_stat_statements, track=all; 'top' = sent by a client, else run inside a function)",
        f"WAL: {wal['wal_records'] / registrations:.1f} records and "
        f"{float(wal['wal_bytes']) / registrations / 1024:.1f} KB per registration",
        f"{'us/registration':>15} {'calls/registration':>18}  level  statement",
    ]
    for row in statements:
        lines.append(
            f"{1000 * row['exec_ms'] / registrations:>15.1f} "
            f"{row['calls'] / registrations:>18.2f}  {'top' if row['toplevel'] else '   '}    "
            f"{row['query']}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-api.json"))
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the service with py-spy while it is saturated: an .svg flame graph, or a "
        ".txt of raw stacks",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        help="registration processes the load is spread over (the first runs the relay)",
    )
    parser.add_argument(
        "--statements",
        type=Path,
        help="PostgreSQL with pg_stat_statements (track=all): where its time went per "
        "registration while saturated, written to this text file (a diagnostic run: the "
        "statistics cost PostgreSQL a little, so its figures are not the benchmark's)",
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(replicas=args.replicas, profile=args.profile, statements=args.statements)
    )
    for key, value in result.items():
        if key != "open_loop":
            print(f"{key:>38}  {value}")
    print(f"{'offered/s':>12} {'achieved/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in result["open_loop"]:
        print(
            f"{row['offered_per_s']:>12} {row['achieved_per_s']:>11} {row['p50_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
