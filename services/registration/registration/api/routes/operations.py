"""Operator endpoints: the retained event log (for rebuilds and replays), the outbox's state,
and the counts reporting reconciles against."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from registration.api.deps import CursorDep, PlatformAdmin, PlatformReader, TransactionsDep
from registration.api.schemas import Page
from registration.pagination import Cursor
from registration.service import operations
from tilmeld_shared.problems import Invalid
from tilmeld_shared.validation import Rfc3339

router = APIRouter(tags=["operations"])
# The event log and the counts span every organisation: the platform's own tokens only.
Organiser = PlatformAdmin
Reader = PlatformReader


@router.get("/events")
async def list_events(
    tx: TransactionsDep,
    _: Organiser,
    cursor: CursorDep,
    since: Annotated[Rfc3339 | None, Query(description="only events written since")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Page[dict[str, Any]]:
    """The outbox, in order: every event ever published (personal parts removed on erasure),
    each with its `position`; a page at a time like every list (`next_cursor` is null at the
    end). Pass `since` again with the cursor."""
    after = _position(cursor)
    rows = await operations.events_after(tx, after=after, since=since, limit=limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    return Page(
        items=items,
        next_cursor=Cursor(after_position=items[-1]["position"]).encode() if more else None,
    )


def _position(cursor: Cursor | None) -> int:
    """The outbox position an event log cursor reads after (0: from the start)."""
    if cursor is None:
        return 0
    if cursor.after_position is None or not 0 <= cursor.after_position < 2**63:
        raise Invalid(
            "The cursor is not one this list issued.",
            errors=[{"field": "cursor", "in": "query", "message": "not an event log cursor"}],
        )
    return cursor.after_position


@router.get("/outbox/status")
async def outbox_status(tx: TransactionsDep, _: Reader) -> Any:
    return await operations.outbox_status(tx)


@router.get("/stats")
async def stats(tx: TransactionsDep, _: Reader) -> Any:
    """Counts from the source of truth, for reporting's reconcile."""
    return await operations.truth(tx)
