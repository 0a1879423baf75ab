"""The member dialogue's clock: consultations open and close by their window.

Every registration process runs it (`keep_running_dialogue_clock`) beside the held-meeting
scheduler: each run opens the consultations whose `opens_at` has come and closes those whose
`closes_at` has, in batches, one transaction per batch, claimed with FOR UPDATE SKIP LOCKED so
several processes at once open and close each consultation once."""

from __future__ import annotations

from registration.unit_of_work import ServiceContext, Transactions

BATCH_SIZE = 20


async def open_due_consultations(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Open every scheduled consultation whose window has begun: ConsultationOpened and an
    invitation per person of its audience. How many were opened."""
    raise NotImplementedError


async def close_due_consultations(
    tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE
) -> int:
    """Close every open (or never opened) consultation whose window has ended. How many."""
    raise NotImplementedError


async def keep_running_dialogue_clock(tx: Transactions, ctx: ServiceContext) -> None:
    """Open and close consultations every `dialogue_clock_interval_s` seconds, for ever."""
    raise NotImplementedError
