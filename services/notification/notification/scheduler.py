"""The reminder scheduler: turns due reminders into notifications, in any number of processes."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from notification.dispatcher import Dispatcher
from notification.service.consultations import queue_due_consultation_reminders
from notification.service.reminders import queue_due_reminders
from notification.settings import Settings

log = logging.getLogger(__name__)


async def run_reminders(
    pool: asyncpg.Pool, settings: Settings, dispatcher: Dispatcher, *, interval_s: float
) -> None:
    while True:
        try:
            queued = await queue_due_reminders(pool, settings)
            queued += await queue_due_consultation_reminders(pool, settings)
            if queued:
                dispatcher.wakeup.set()
                log.info("%d reminder(s) queued", len(queued))
                continue
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reminder round failed")
        await asyncio.sleep(interval_s)
