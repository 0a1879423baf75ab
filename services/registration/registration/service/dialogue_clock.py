"""The member dialogue's clock: consultations open and close by their window.

Every registration process runs it (`keep_running_dialogue_clock`) beside the held-meeting
scheduler: each run opens the consultations whose `opens_at` has come and closes those whose
`closes_at` has, in batches, one transaction per batch, claimed with FOR UPDATE SKIP LOCKED so
several processes at once open and close each consultation once. One whose whole window passed
while no clock ran is closed without being opened (and invites nobody)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from registration.repository import consultations as consultation_rows
from registration.service import consultation_window
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection

log = logging.getLogger(__name__)

BATCH_SIZE = 20


async def open_due_consultations(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Open every scheduled consultation whose window has begun: ConsultationOpened and an
    invitation per person of its audience. How many were opened."""
    now = ctx.clock.now()

    async def batch(conn: Connection) -> int:
        due = await consultation_rows.due_to_open(conn, at=now, limit=batch_size)
        for consultation_id in due:
            await consultation_window.open_within(conn, ctx, consultation_id)
        return len(due)

    return await _in_batches(tx, batch, batch_size)


async def close_due_consultations(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Close every open (or never opened) consultation whose window has ended. How many."""
    now = ctx.clock.now()

    async def batch(conn: Connection) -> int:
        due = await consultation_rows.due_to_close(conn, at=now, limit=batch_size)
        for consultation_id in due:
            await consultation_window.close_within(conn, consultation_id)
        return len(due)

    return await _in_batches(tx, batch, batch_size)


async def _in_batches(
    tx: Transactions, batch: Callable[[Connection], Awaitable[int]], batch_size: int
) -> int:
    done = 0
    while True:
        count = await tx.run(batch)
        done += count
        # A short batch: nothing left, or what is left is another process's.
        if count < batch_size:
            return done


async def run_dialogue_clock(tx: Transactions, ctx: ServiceContext) -> tuple[int, int]:
    """One run: open what is due, then close what is due. (opened, closed)"""
    opened = await open_due_consultations(tx, ctx)
    closed = await close_due_consultations(tx, ctx)
    return opened, closed


async def keep_running_dialogue_clock(tx: Transactions, ctx: ServiceContext) -> None:
    """Open and close consultations every `dialogue_clock_interval_s` seconds, for ever."""
    while True:
        # First a pause: a process starting (or restarting in a loop) adds no burst of its own.
        await asyncio.sleep(ctx.settings.dialogue_clock_interval_s)
        try:
            opened, closed = await run_dialogue_clock(tx, ctx)
            if opened or closed:
                log.info(
                    "consultations opened and closed", extra={"opened": opened, "closed": closed}
                )
        except Exception:  # the database away a while: the next run tries again
            log.exception("the dialogue clock's run failed")
