"""Operator endpoints: the retained event log (for rebuilds and replays), the outbox's state,
and the counts reporting reconciles against."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from registration.api.deps import PlatformAdmin, PlatformReader, TransactionsDep
from registration.service import operations
from tilmeld_shared.validation import Rfc3339

router = APIRouter(tags=["operations"])
# The event log and the counts span every organisation: the platform's own tokens only.
Organiser = PlatformAdmin
Reader = PlatformReader


@router.get("/events")
async def event_log(
    tx: TransactionsDep,
    _: Organiser,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="outbox position to read after")
    ] = 0,
    since: Annotated[Rfc3339 | None, Query(description="only events written since")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """The outbox, in order: every event ever published (personal parts removed on erasure)."""
    items = await tx.read(
        lambda conn: operations.events_after(conn, after=after, since=since, limit=limit)
    )
    return {"items": items, "next_after": items[-1]["position"] if items else after}


@router.get("/outbox/status")
async def outbox_status(tx: TransactionsDep, _: Reader) -> Any:
    return await tx.read(operations.outbox_status)


@router.get("/stats")
async def stats(tx: TransactionsDep, _: Reader) -> Any:
    """Counts from the source of truth, for reporting's reconcile."""
    return await tx.read(operations.truth)
