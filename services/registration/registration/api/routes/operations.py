"""Operator endpoints: the retained event log (for rebuilds and replays), the outbox's state,
and the counts reporting reconciles against."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from registration.api.deps import TransactionsDep
from registration.service import operations
from tilmeld_shared.auth import Role, require_role

router = APIRouter(tags=["operations"])


async def _reader(request: Request) -> Role:
    settings = request.app.state.settings
    check = require_role(
        Role.ORGANISER,
        Role.REPORTING,
        organiser_token=lambda: settings.organiser_token,
        reporting_token=lambda: settings.reporting_token,
    )
    return await check(request)


async def _organiser(request: Request) -> Role:
    settings = request.app.state.settings
    check = require_role(
        Role.ORGANISER,
        organiser_token=lambda: settings.organiser_token,
        reporting_token=lambda: settings.reporting_token,
    )
    return await check(request)


@router.get("/events")
async def event_log(
    tx: TransactionsDep,
    _: Annotated[Role, Depends(_organiser)],
    after: Annotated[int, Query(ge=0, description="outbox position to read after")] = 0,
    since: Annotated[datetime | None, Query(description="only events written since")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """The outbox, in order: every event ever published (personal parts removed on erasure)."""
    items = await tx.read(
        lambda conn: operations.events_after(conn, after=after, since=since, limit=limit)
    )
    return {"items": items, "next_after": items[-1]["position"] if items else after}


@router.get("/outbox/status")
async def outbox_status(tx: TransactionsDep, _: Annotated[Role, Depends(_reader)]) -> Any:
    return await tx.read(operations.outbox_status)


@router.get("/stats")
async def stats(tx: TransactionsDep, _: Annotated[Role, Depends(_reader)]) -> Any:
    """Counts from the source of truth, for reporting's reconcile."""
    return await tx.read(operations.truth)
