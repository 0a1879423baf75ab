"""Notification benchmark: the service catching up on a backlog of queued emails, beside the raw
rate at which the same SMTP client sends prebuilt messages to the same server, in the same run.

    .venv/bin/python -m bench.notification [--emails 10000] [--flame-graph PATH]

The backlog is the delivery ledger's rows as the consumer writes them (a confirmation in each of
the four languages, rendered by the service's own templates, with its calendar invitation, sent
on a network's behalf). The service then runs as its own process (`python -m notification
serve`, with its shipped settings and JSON logs), so its peak RSS and its flame graph are its
own; catch-up is counted from the first email marked `sent` to the last (the ledger's `sent_at`).
The crash window (SMTP acceptance to `sent` committed) is read from the service's histogram.

Real PostgreSQL 18 (embedded), Tansu and an SMTP server (aiosmtpd, in its own process) on
loopback; the database, SMTP server, broker and service share this machine's two cores.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import asyncpg

from bench import profiling
from bench.api import peak_rss_mb
from devstack import processes
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.tansu import TansuBroker
from notification import rendering
from notification.main import MIGRATIONS
from notification.mime import build_message
from notification.settings import Settings
from tilmeld_shared import calendar
from tilmeld_shared.db import create_pool, migrate

LANGUAGES = ("da", "nb", "de", "en")
SENDER_NAME = "Kulturchefnetværket"
CONTACT = "kontakt@kultur.example"

INSERT = """
INSERT INTO notifications (id, event_id, dedupe_key, member_id, registration_id, recipient,
                           template, language, subject, body_text, body_html, calendar,
                           sender_name, reply_to)
VALUES ($1, $2, $3, $4, $5, $6, 'registration_confirmed', $7, $8, $9, $10, $11, $12, $13)
"""

SENT = "SELECT count(*) FROM notifications WHERE status = 'sent'"
SENT_SPAN = """
SELECT count(*) AS sent, extract(epoch FROM max(sent_at) - min(sent_at)) AS seconds
FROM notifications WHERE status = 'sent'
"""


def confirmation(language: str, number: int) -> dict[str, Any]:
    """The ledger row the consumer would write for registration `number`'s confirmation."""
    registration_id = uuid.uuid4()
    name = f"Deltager {number}"
    email = f"person{number}@bench.example"
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    ends_at = starts_at + timedelta(hours=2)
    cancel_url = f"http://127.0.0.1:8001/cancel/{uuid.uuid4().hex}{uuid.uuid4().hex}"
    rendered = rendering.render(
        "registration_confirmed",
        language,
        {
            "name": name,
            "meeting": {
                "title": "Årsmøde om kultur og fællesskab",
                "when": rendering.format_when(starts_at, ends_at, "Europe/Copenhagen", language),
                "location": "Rådhuset, Torvet 1, Køge",
                "online_url": "https://meet.example/kultur-2026",
            },
            "calendar": True,
            "cancel_url": cancel_url,
            "seats": 2,
            "companions": 1,
            "companion_names": ["Ledsager"],
            "organiser": {
                "name": SENDER_NAME,
                "signature": SENDER_NAME,
                "contact_name": "Sekretariatet",
                "contact_email": CONTACT,
                "replies": True,
            },
        },
    )
    return {
        "id": uuid.uuid4(),
        "registration_id": registration_id,
        "recipient": email,
        "language": language,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "calendar": calendar.invitation(
            registration_id=registration_id,
            title="Årsmøde om kultur og fællesskab",
            starts_at=starts_at,
            ends_at=ends_at,
            location="Rådhuset, Torvet 1, Køge",
            online_url="https://meet.example/kultur-2026",
            attendee_email=email,
            attendee_name=name,
            organiser_email="no-reply@tilmeld.example",
        ),
        "sender_name": SENDER_NAME,
        "reply_to": CONTACT,
    }


def backlog(emails: int) -> list[dict[str, Any]]:
    """`emails` confirmations; one in each language is rendered, the rest are it with another
    person's name, address and links (rendering 10,000 would time the benchmark's setup)."""
    models = [confirmation(language, 0) for language in LANGUAGES]
    return [personalised(models[number % len(models)], number) for number in range(emails)]


def personalised(model: dict[str, Any], number: int) -> dict[str, Any]:
    """The model confirmation as person `number`'s."""

    def personal(text: str) -> str:
        return text.replace("Deltager 0", f"Deltager {number}").replace(
            "person0@", f"person{number}@"
        )

    return {
        **model,
        "id": uuid.uuid4(),
        "registration_id": uuid.uuid4(),
        "recipient": f"person{number}@bench.example",
        "body_text": personal(model["body_text"]),
        "body_html": personal(model["body_html"]),
        "calendar": personal(model["calendar"]),
    }


async def queue(pool: asyncpg.Pool, rows: list[dict[str, Any]]) -> None:
    await pool.executemany(
        INSERT,
        [
            (
                row["id"],
                uuid.uuid4(),
                f"bench:{row['id']}",
                uuid.uuid4(),
                row["registration_id"],
                row["recipient"],
                row["language"],
                row["subject"],
                row["body_text"],
                row["body_html"],
                row["calendar"],
                row["sender_name"],
                row["reply_to"],
            )
            for row in rows
        ],
    )


async def raw_send(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    """Messages per second through `connections` aiosmtplib connections, each sending its share
    one after another: the floor under the service (no database, nothing built per message)."""
    mail_from = "no-reply@tilmeld.example"

    async def lane(share: list[tuple[str, bytes]]) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for recipient, message in share:
                await smtp.sendmail(mail_from, [recipient], message)

    started = time.perf_counter()
    await asyncio.gather(*(lane(messages[n::connections]) for n in range(connections)))
    return len(messages) / (time.perf_counter() - started)


def histogram_buckets(metrics: str, name: str) -> dict[float, float]:
    """The cumulative bucket counts of a histogram in Prometheus' text format."""
    buckets = {}
    for line in metrics.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            bound = line.split('le="')[1].split('"')[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def quantile_at_most(buckets: dict[float, float], share: float) -> float:
    """An upper bound on the quantile: the first bucket holding `share` of the samples."""
    total = buckets.get(float("inf"), 0.0)
    for bound, count in sorted(buckets.items()):
        if total and count >= share * total:
            return bound
    return float("nan")


async def catch_up(
    env: dict[str, str], pool: asyncpg.Pool, emails: int, *, flame_graph: Path | None, logs: Path
) -> dict[str, Any]:
    """The service started on the backlog; returns when every email is `sent` (or stalls)."""
    service = processes.spawn(
        [sys.executable, "-m", "notification", "serve"], env=env, log_file=logs
    )
    profiler = None
    try:
        sent = 0
        last_progress = time.monotonic()
        while sent < emails and time.monotonic() - last_progress < 30:
            await asyncio.sleep(0.1)
            now_sent = await pool.fetchval(SENT)
            if now_sent > sent:
                last_progress = time.monotonic()
                if sent == 0 and flame_graph is not None:
                    profiler = profiling.record(service.pid, flame_graph, seconds=6)
            sent = now_sent
            if service.poll() is not None:
                raise SystemExit(f"notification exited; see {logs}")
        span = await pool.fetchrow(SENT_SPAN)
        assert span is not None
        metrics_url = f"http://127.0.0.1:{env['NOTIFICATION_METRICS_PORT']}/metrics"
        async with aiohttp.ClientSession() as session, session.get(metrics_url) as answer:
            metrics = await answer.text()
        return {
            "sent": span["sent"],
            "seconds": float(span["seconds"] or 0),
            "crash_window": histogram_buckets(metrics, "tilmeld_smtp_accept_to_commit_seconds"),
            "peak_rss_mb": peak_rss_mb(service.pid),
        }
    finally:
        processes.stop(service)
        if profiler is not None:
            profiler.wait(timeout=60)


async def run(emails: int, *, flame_graph: Path | None) -> dict[str, Any]:
    connections = Settings.model_fields["smtp_connections"].default
    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pg", port=free_port())
        postgres.start()
        broker = TansuBroker(port=free_port())
        broker.start()
        smtp_port = free_port()
        smtp = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_server", str(smtp_port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert smtp.stdout is not None
        smtp.stdout.readline()  # "ready"
        try:
            await migrate(postgres.url, schema="notification", migrations_dir=MIGRATIONS)
            pool = await create_pool(postgres.url, schema="notification")
            rows = backlog(emails)
            prebuilt = [
                (
                    row["recipient"],
                    build_message(row, mail_from="Tilmeld <no-reply@tilmeld.example>"),
                )
                for row in rows
            ]
            raw = await raw_send(smtp_port, prebuilt, connections)
            await queue(pool, rows)
            env = {
                **os.environ,
                "DATABASE_URL": postgres.url,
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                "KAFKA_ENABLE_IDEMPOTENCE": "false",
                "NOTIFICATION_PORT": str(free_port()),
                "NOTIFICATION_METRICS_PORT": str(free_port()),
                "SMTP_PORT": str(smtp_port),
            }
            caught_up = await catch_up(
                env, pool, emails, flame_graph=None, logs=Path(tmp) / "notification.log"
            )
            if flame_graph is not None:
                # Profiled in a second catch-up of its own: py-spy's sampling shares the two
                # cores and took about a tenth off the rate when it ran in the measured one.
                await pool.execute("TRUNCATE notifications CASCADE")
                await queue(pool, backlog(emails))
                await catch_up(
                    env, pool, emails, flame_graph=flame_graph, logs=Path(tmp) / "profiled.log"
                )
            await pool.close()
        finally:
            smtp.terminate()
            received = int(smtp.communicate(timeout=30)[0].strip() or 0)
            broker.stop()
            postgres.stop()
    rate = caught_up["sent"] / caught_up["seconds"] if caught_up["seconds"] else float("nan")
    window = caught_up["crash_window"]
    return {
        "emails": emails,
        "sent": caught_up["sent"],
        # The server also counted the raw run's messages and the profiled catch-up's.
        "received_by_smtp_from_service": received - emails * (2 if flame_graph else 1),
        "smtp_connections": connections,
        "seconds": round(caught_up["seconds"], 2),
        "emails_per_s": round(rate, 1),
        "raw_emails_per_s": round(raw, 1),
        "share_of_raw": round(rate / raw, 3),
        "crash_window_p50_ms_at_most": quantile_at_most(window, 0.5) * 1000,
        "crash_window_p99_ms_at_most": quantile_at_most(window, 0.99) * 1000,
        "notification_peak_rss_mb": caught_up["peak_rss_mb"],
        "flame_graph": str(flame_graph) if flame_graph else None,
        "run": str(uuid.uuid4())[:8],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-notification.json"))
    parser.add_argument(
        "--flame-graph",
        type=Path,
        default=Path("artifacts/flame-notification.svg"),
        help="py-spy flame graph of the service while it catches up ('' for none)",
    )
    args = parser.parse_args()
    flame_graph = args.flame_graph if str(args.flame_graph) not in ("", ".") else None
    result = asyncio.run(run(args.emails, flame_graph=flame_graph))
    for key, value in result.items():
        print(f"{key:>28}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
