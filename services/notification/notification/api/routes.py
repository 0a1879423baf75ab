"""`GET /notifications`, `GET /notifications/{id}`, `POST /notifications/{id}/retry`.

The ledger holds addresses. The organiser token reads it whole; the reporting token reads
delivery (templates, states, attempts, times) but no address: least privilege for a role whose
own service holds no personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from notification.repository import notifications, registrations
from tilmeld_shared.auth import Role, app_role
from tilmeld_shared.observability import mask_email_addresses
from tilmeld_shared.problems import Conflict, Forbidden, NotFound
from tilmeld_shared.validation import LINE_BREAKS

Status = Literal["pending", "sent", "failed", "dead", "suppressed"]


class NotificationOut(BaseModel):
    id: uuid.UUID
    recipient: str | None = Field(description="The address; null for the reporting token.")
    template: str
    language: str
    status: Status
    attempts: int
    # The event that caused it; a reminder is caused by the clock, not by an event.
    event_id: uuid.UUID | None
    member_id: uuid.UUID | None
    subject: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None = Field(description="Any address in it is masked for reporting.")


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Reader = Annotated[Role, Depends(app_role(Role.ORGANISER, Role.REPORTING))]
Organiser = Annotated[Role, Depends(app_role(Role.ORGANISER))]

router = APIRouter(tags=["notifications"])


@router.get("/notifications")
async def list_notifications(
    pool: Pool,
    role: Reader,
    # No address holds a control character (and Postgres text cannot hold a NUL).
    recipient: Annotated[str | None, Query(max_length=254, pattern=f"^[^{LINE_BREAKS}]*$")] = None,
    member_id: uuid.UUID | None = None,
    status: Status | None = None,
    event_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$")] = None,
) -> NotificationPage:
    if recipient is not None and role is not Role.ORGANISER:
        # An answer would tell whether that address was written to.
        raise Forbidden("Filtering by recipient needs the organiser token.")
    rows = await notifications.list_notifications(
        pool,
        recipient=recipient,
        member_id=member_id,
        status=status,
        event_id=event_id,
        after=int(cursor) if cursor else None,
        limit=limit + 1,
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = str(int(rows[-1]["created_at"].timestamp() * 1_000_000))
    return NotificationPage(items=[_as_seen_by(role, r) for r in rows], next_cursor=next_cursor)


@router.get("/notifications/{notification_id}")
async def get_notification(notification_id: uuid.UUID, pool: Pool, role: Reader) -> NotificationOut:
    row = await notifications.get_notification(pool, notification_id)
    if row is None:
        raise NotFound(f"No notification {notification_id}.")
    return _as_seen_by(role, row)


def _as_seen_by(role: Role, row: asyncpg.Record) -> NotificationOut:
    """The row whole for the organiser; for reporting without the address, also where an SMTP
    refusal quotes it in the error."""
    notification = NotificationOut(**dict(row))
    if role is Role.ORGANISER:
        return notification
    error = notification.last_error
    return notification.model_copy(
        update={"recipient": None, "last_error": error and mask_email_addresses(error)}
    )


@router.post("/notifications/{notification_id}/retry")
async def retry_notification(
    notification_id: uuid.UUID, request: Request, pool: Pool, _: Organiser
) -> NotificationOut:
    row = await notifications.requeue_dead(pool, notification_id)
    if row is None:
        exists = await notifications.status_of(pool, notification_id)
        if exists is None:
            raise NotFound(f"No notification {notification_id}.")
        raise Conflict(f"Only dead notifications can be retried; this one is {exists}.")
    request.app.state.dispatcher.wakeup.set()
    return NotificationOut(**dict(row))


@router.get("/members/{member_id}/export")
async def export_member(member_id: uuid.UUID, pool: Pool, _: Organiser) -> dict[str, Any]:
    """Everything this service holds on the person: what was sent, and whom it writes to."""
    async with pool.acquire() as conn:
        sent = await notifications.member_notifications(conn, member_id)
        held = await registrations.member_registrations(conn, member_id)
    return {
        "notifications": [dict(row) for row in sent],
        "registrations": [dict(row) for row in held],
    }
