"""A registration as its events carry it, and the self-service link that travels with it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import registrations as registration_rows
from registration.unit_of_work import ServiceContext
from tilmeld_shared.db import Connection
from tilmeld_shared.events import Companion, PersonalData, RegistrationState

CANCEL_PURPOSE = "cancel-registration"


def cancel_token(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    # No expiry inside the token: a meeting can be postponed after the link was mailed, so
    # the link's life is judged against the meeting's current end (cancel_token_valid).
    return tokens.issue(
        ctx.settings.effective_token_secret, CANCEL_PURPOSE, registration_id, expires_at=None
    )


def cancel_token_valid(
    ctx: ServiceContext, registration_id: uuid.UUID, token: str, *, meeting_ends_at: datetime
) -> bool:
    """The person's cancel link works until the meeting's current end.

    Links mailed before the end could move carry the old end as their expiry; the signature
    still proves them ours, so that embedded expiry is not what decides."""
    return (
        bool(token)
        and ctx.clock.now() <= meeting_ends_at
        and tokens.verify(
            ctx.settings.effective_token_secret, CANCEL_PURPOSE, registration_id, token, now=None
        )
    )


def cancel_url(ctx: ServiceContext, registration_id: uuid.UUID) -> str:
    token = cancel_token(ctx, registration_id)
    return f"{ctx.settings.public_base_url}/cancel/registrations/{registration_id}?token={token}"


async def event_state(
    conn: Connection,
    ctx: ServiceContext,
    registration: asyncpg.Record,
    meeting: asyncpg.Record,
    *,
    with_personal: bool = True,
    member: asyncpg.Record | None = None,
    network: asyncpg.Record | None = None,
    action_url: str | None = None,
) -> dict[str, Any]:
    """The registration's full state as events carry it (see RegistrationState); `action_url`
    is the link for what the event's email asks of the person (sealed with them).

    A caller that already read the member or the network passes them in: each saved read is a
    round trip less."""
    if member is None:
        member = await member_rows.get(conn, registration["member_id"])
    if network is None:
        network = await network_rows.get(conn, meeting["network_id"])
    assert member is not None and network is not None
    return state_of(
        ctx,
        registration,
        meeting,
        member,
        network,
        waitlist_position=await registration_rows.waitlist_position(conn, registration),
        with_personal=with_personal,
        action_url=action_url,
    )


def state_of(
    ctx: ServiceContext,
    registration: asyncpg.Record | Mapping[str, Any],
    meeting: asyncpg.Record,
    member: asyncpg.Record,
    network: asyncpg.Record,
    *,
    waitlist_position: int | None,
    with_personal: bool = True,
    action_url: str | None = None,
) -> dict[str, Any]:
    """event_state from what the caller has read: the registration may be one about to be
    written (registering writes it and its event in one statement)."""
    personal = None
    if with_personal and member["email"] is not None and member["data_key"] is not None:
        # The cancel link travels sealed with the person: a topic reader is not the person.
        personal = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                companions=[Companion(**c) for c in registration["companions"] if c.get("name")],
                cancel_url=cancel_url(ctx, registration["id"]),
                action_url=action_url,
            ),
        )
    return {
        "registration_id": registration["id"],
        "meeting_id": meeting["id"],
        "network_id": meeting["network_id"],
        "member_id": registration["member_id"],
        "municipality": member["municipality"],
        "municipality_id": member["municipality_id"],
        "country": member["country"],
        "language": member["language"] or network["language"],
        "status": registration["status"],
        "seats": registration["seats"],
        "companions": registration["seats"] - 1,
        "registered_at": registration["created_at"],
        "waitlist_position": waitlist_position,
        "personal_sealed": personal,
        "automatic": registration["automatic"],
    }


async def announce(
    conn: Connection,
    event: RegistrationState,
    *,
    meeting_id: uuid.UUID,
    seats_delta: int = 0,
) -> None:
    """Record a registration event as the meeting's next version, moving its seat count."""
    version = await meeting_rows.bump(conn, meeting_id, seats_delta=seats_delta)
    await record_event(
        conn, event, aggregate_id=meeting_id, aggregate_version=version, key=meeting_id
    )
