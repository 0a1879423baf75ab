"""A meeting's life after it is scheduled: once it has ended it becomes `held` on its own.

Every registration process runs the scheduler (`keep_marking_held`): each run marks the
meetings that ended in batches, one transaction per batch, writing a `MeetingUpdated` with
status "held" to the outbox for each. The batch claims its meetings with FOR UPDATE SKIP
LOCKED, so several processes at once mark each meeting once. A cancelled meeting stays
cancelled; the consumers read `status`, and notification emails no one for it (neither
rescheduled nor resized).
"""

from __future__ import annotations

import asyncio
import logging

from registration.outbox import record_event
from registration.repository import meetings as meeting_rows
from registration.service.meetings import _event_fields
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingUpdated

log = logging.getLogger(__name__)

BATCH_SIZE = 100


async def mark_ended_meetings_held(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Mark every scheduled meeting that has ended (by the context's clock) held; how many."""
    ended_by = ctx.clock.now()

    async def batch(conn: Connection) -> int:
        rows = await meeting_rows.mark_held(conn, ended_by=ended_by, limit=batch_size)
        for row in rows:
            await record_event(
                conn,
                MeetingUpdated(**_event_fields(row), changed=["status"]),
                aggregate_id=row["id"],
                aggregate_version=row["version"],
                key=row["id"],
            )
        return len(rows)

    marked = 0
    while True:
        count = await tx.run(batch)
        marked += count
        # A short batch: nothing left, or what is left is another process's to mark.
        if count < batch_size:
            return marked


async def keep_marking_held(tx: Transactions, ctx: ServiceContext) -> None:
    """Run `mark_ended_meetings_held` every `held_check_interval_s` seconds, for ever."""
    while True:
        # First a pause: a process starting (or restarting in a loop) adds no burst of its own.
        await asyncio.sleep(ctx.settings.held_check_interval_s)
        try:
            if marked := await mark_ended_meetings_held(tx, ctx):
                log.info("meetings held", extra={"count": marked})
        except Exception:  # the database away a while: the next run tries again
            log.exception("marking ended meetings held failed")
