"""The expiry of seat offers: every registration process runs it (`keep_expiring_offers`); each
run cancels the registrations whose offer has lapsed (SeatOfferExpired, then
RegistrationCancelled by "offer_expired") and offers their seats to the next in line. See
service/offers.py for what an offer holds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

import asyncpg

from registration.repository import networks as network_rows
from registration.repository import offers as offer_rows
from registration.service.offers import offer_state
from registration.service.registration_events import announce
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import RegistrationCancelled, SeatOfferExpired

log = logging.getLogger(__name__)

BATCH_SIZE = 100


async def expire_lapsed_offers(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Expire every open offer lapsed by the context's clock and offer the seats on; how many
    expired. One transaction per batch of meetings, each meeting claimed with FOR UPDATE SKIP
    LOCKED: several processes at once expire each offer once, and a meeting an accept or a
    cancellation holds is left to the next run."""
    lapsed_by = ctx.clock.now()

    async def batch(conn: Connection) -> tuple[int, int]:
        meetings = await offer_rows.lock_meetings_with_lapsed_offers(
            conn, lapsed_by=lapsed_by, limit=batch_size
        )
        expired = 0
        for meeting in meetings:
            network = await network_rows.get(conn, meeting["network_id"])
            assert network is not None
            for row in await offer_rows.lapsed_of_meeting(conn, meeting["id"], lapsed_by=lapsed_by):
                await _expire(conn, ctx, row, meeting, network, at=lapsed_by)
                expired += 1
            await _pass_on(conn, ctx, meeting["id"])
        return len(meetings), expired

    total = 0
    while True:
        claimed, expired = await tx.run(batch)
        total += expired
        # A short batch: nothing left, or what is left is another process's (or the next run's).
        if claimed < batch_size:
            return total


async def _expire(
    conn: Connection,
    ctx: ServiceContext,
    registration: asyncpg.Record,
    meeting: asyncpg.Record,
    network: asyncpg.Record,
    *,
    at: datetime,
) -> None:
    row = await offer_rows.expire(conn, registration["id"], at=at)
    state = await offer_state(conn, ctx, row, meeting, network)
    await announce(conn, SeatOfferExpired(**state), meeting_id=meeting["id"])
    await announce(
        conn,
        RegistrationCancelled(
            **state, previous_status="waitlisted", cancelled_at=at, cancelled_by="offer_expired"
        ),
        meeting_id=meeting["id"],
    )


async def _pass_on(conn: Connection, ctx: ServiceContext, meeting_id: uuid.UUID) -> None:
    # Imported here: registrations hands freed seats to this module, and this one hands the
    # seats of lapsed offers back through it (whichever rule the meeting has now).
    from registration.service.registrations import promote_waitlisted

    await promote_waitlisted(conn, ctx, meeting_id)


async def keep_expiring_offers(tx: Transactions, ctx: ServiceContext) -> None:
    """Run `expire_lapsed_offers` every `offer_check_interval_s` seconds, for ever."""
    while True:
        # First a pause: a process starting (or restarting in a loop) adds no burst of its own.
        await asyncio.sleep(ctx.settings.offer_check_interval_s)
        try:
            if expired := await expire_lapsed_offers(tx, ctx):
                log.info("seat offers expired", extra={"count": expired})
        except Exception:  # the database away a while: the next run tries again
            log.exception("expiring seat offers failed")
