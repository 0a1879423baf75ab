"""Notification benchmark: emails per second to a local SMTP server (one connection per
dispatch batch), and the crash window between SMTP acceptance and the commit of `sent`.

    .venv/bin/python -m bench.notification [--emails 2000]

Real PostgreSQL 18 (embedded) and a real SMTP server (aiosmtpd) on loopback; the load generator,
database, SMTP server and dispatcher share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from notification.dispatcher import Dispatcher
from notification.main import MIGRATIONS
from notification.metrics import ACCEPT_TO_COMMIT_SECONDS
from notification.settings import Settings
from tilmeld_shared.db import create_pool, migrate

INSERT = """
INSERT INTO notifications (id, dedupe_key, recipient, template, language, subject, body_text,
                           body_html, calendar)
SELECT gen_random_uuid(), 'bench:' || g, 'person' || g || '@bench.example',
       'registration_confirmed', 'da', 'Tilmelding bekræftet', $1, $2, $3
FROM generate_series(1, $4) g
"""


def _quantile(histogram: Any, share: float) -> float:
    """An upper bound on the quantile from the histogram's buckets."""
    samples = {
        s.labels.get("le"): s.value
        for s in histogram.collect()[0].samples
        if s.name.endswith("_bucket")
    }
    total = samples["+Inf"]
    for bound, count in sorted(((float(k), v) for k, v in samples.items() if k != "+Inf")):
        if count >= share * total:
            return bound
    return float("inf")


async def run(emails: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pg", port=free_port())
        postgres.start()
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
            body = "Kære deltager\n\nDu er tilmeldt mødet.\n" * 5
            html = f"<html><body><p>{body}</p></body></html>"
            ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
            await pool.execute(INSERT, body, html, ics, emails)
            settings = Settings(
                database_url=postgres.url,
                kafka_bootstrap_servers="-",
                smtp_port=smtp_port,
                dispatch_batch_size=100,
            )
            dispatcher = Dispatcher(pool, settings)
            started = time.perf_counter()
            while await dispatcher.send_due():
                pass
            elapsed = time.perf_counter() - started
            sent = await pool.fetchval("SELECT count(*) FROM notifications WHERE status='sent'")
            await pool.close()
        finally:
            smtp.terminate()
            received = int(smtp.communicate(timeout=30)[0].strip() or 0)
            postgres.stop()
    return {
        "emails": emails,
        "sent": sent,
        "received_by_smtp": received,
        "seconds": round(elapsed, 2),
        "emails_per_second": round(sent / elapsed, 1),
        "crash_window_p50_ms_at_most": _quantile(ACCEPT_TO_COMMIT_SECONDS, 0.5) * 1000,
        "crash_window_p99_ms_at_most": _quantile(ACCEPT_TO_COMMIT_SECONDS, 0.99) * 1000,
        "run": str(uuid.uuid4())[:8],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench-notification.json"))
    args = parser.parse_args()
    result = asyncio.run(run(args.emails))
    for key, value in result.items():
        print(f"{key:>28}  {value}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
