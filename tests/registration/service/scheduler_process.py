"""One scheduler run in a process of its own, as each service replica runs it: its own pool,
its own connections. `python -m tests.registration.service.scheduler_process KIND URL MOMENT`
opens the pool, waits at the start line (a shared advisory lock the test holds until every
process is ready), runs the scheduler once to the end and prints how many items it acted on.

KIND: `held` (meetings marked held), `offers` (seat offers expired), `reminders` (reminders
queued as emails, the notification service's scheduler). MOMENT: the clock the registration
schedulers see (ISO 8601); the reminder scheduler reads the database's clock, as it does in
production."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

START_LINE = 7_715_015  # the advisory lock key the processes wait on


async def _start_line(url: str) -> None:
    """Block until the test lets every process go at once."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock_shared($1)", START_LINE)
        await conn.execute("SELECT pg_advisory_unlock_shared($1)", START_LINE)
    finally:
        await conn.close()


async def _registration(kind: str, url: str, moment: datetime) -> int:
    from registration.outbox import OutboxSignal
    from registration.personal_data import PersonalDataVault
    from registration.service import meeting_lifecycle, offer_expiry
    from registration.service.history import PinnedClock
    from registration.settings import Settings
    from registration.unit_of_work import ServiceContext, Transactions
    from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN
    from tilmeld_shared.db import create_pool

    pool = await create_pool(url, schema="registration")
    try:
        signal = OutboxSignal(pool)
        signal.local_relay_is_leader = lambda: True  # type: ignore[method-assign]
        tx = Transactions(pool, signal)
        ctx = ServiceContext(
            settings=Settings(
                database_url=url,
                kafka_bootstrap_servers="127.0.0.1:1",
                organiser_token=ORGANISER_TOKEN,
                reporting_token=REPORTING_TOKEN,
                token_secret="test-secret",
            ),
            clock=PinnedClock(moment),
            vault=PersonalDataVault.from_setting("", development_fallback="test-secret"),
        )
        # Small batches, so the two processes' runs interleave batch by batch.
        await pool.fetchval("SELECT 1")  # connected before the start line
        await _start_line(url)
        if kind == "held":
            return await meeting_lifecycle.mark_ended_meetings_held(tx, ctx, batch_size=3)
        return await offer_expiry.expire_lapsed_offers(tx, ctx, batch_size=2)
    finally:
        await pool.close()


async def _reminders(url: str) -> int:
    from notification.service.reminders import queue_due_reminders
    from notification.settings import Settings
    from tilmeld_shared.db import create_pool

    pool = await create_pool(url, schema="notification")
    try:
        settings = Settings(database_url=url, kafka_bootstrap_servers="127.0.0.1:1")
        await pool.fetchval("SELECT 1")
        await _start_line(url)
        queued = 0
        # As the scheduler loops: another round at once while a round found work.
        while batch := await queue_due_reminders(pool, settings, limit=3):
            queued += len(batch)
        return queued
    finally:
        await pool.close()


async def main(kind: str, url: str, moment: str) -> None:
    if kind == "reminders":
        count = await _reminders(url)
    else:
        count = await _registration(kind, url, datetime.fromisoformat(moment))
    print(json.dumps({"kind": kind, "count": count}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
