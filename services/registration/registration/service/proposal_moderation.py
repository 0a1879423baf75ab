"""Use cases of moderating topic proposals: an organiser of the network's own publishes a
submitted proposal (in a `moderated` network), rejects one with a reason or takes a published
one down, and puts a published one on the agenda of a meeting the network hosts or co-hosts.
Each writes the proposal's new state to the outbox (see proposals); putting it on an agenda
changes the meeting too (MeetingUpdated).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import asyncpg

from registration.outbox import record_event
from registration.repository import meetings as meeting_rows
from registration.repository import proposals as proposal_rows
from registration.service.meetings import _event_fields
from registration.service.organisations import require_in_scope
from registration.service.proposals import announce_proposal, publish_now_within
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    MeetingUpdated,
    ProposalRejected,
    ProposalScheduled,
)
from tilmeld_shared.problems import Conflict, NotFound

R = TypeVar("R")
# A meeting that takes new agenda items: one still to be held.
AGENDA_OPEN = ("scheduled",)


async def _locked(conn: Connection, proposal_id: uuid.UUID) -> asyncpg.Record:
    if await proposal_rows.lock(conn, proposal_id) is None:
        raise NotFound(f"No proposal {proposal_id}.")
    proposal = await proposal_rows.get(conn, proposal_id)
    assert proposal is not None
    return proposal


async def publish_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID
) -> asyncpg.Record:
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] != "submitted":
        raise Conflict(
            f"The proposal is {proposal['status']}: only a submitted one can be published.",
            slug="not-awaiting-review",
            proposal_status=proposal["status"],
        )
    if not proposal["counted"]:
        raise Conflict(
            "The proposal's author has not confirmed their address yet.",
            slug="awaiting-confirmation",
        )
    return await publish_now_within(conn, ctx, proposal_id)


async def reject_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, *, reason: str | None
) -> asyncpg.Record:
    """Reject a submitted proposal, or take a published one down (not one on an agenda)."""
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] not in ("submitted", "published"):
        raise Conflict(
            f"The proposal is {proposal['status']}: only a submitted or published one can be "
            "rejected.",
            slug="not-rejectable",
            proposal_status=proposal["status"],
        )
    await proposal_rows.move(
        conn, proposal_id, status="rejected", decided_at=ctx.clock.now(), reason=reason
    )
    return await announce_proposal(conn, ctx, proposal_id, ProposalRejected)


async def schedule_within(
    conn: Connection, ctx: ServiceContext, proposal_id: uuid.UUID, meeting_id: uuid.UUID
) -> asyncpg.Record:
    """Put a published proposal on the agenda of a meeting the network hosts or co-hosts: an
    agenda item with the proposal's title, MeetingUpdated (changed agenda) and
    ProposalScheduled, together."""
    proposal = await _locked(conn, proposal_id)
    if proposal["status"] != "published":
        raise Conflict(
            f"The proposal is {proposal['status']}: only a published one can be put on an agenda.",
            slug="not-published",
            proposal_status=proposal["status"],
        )
    meeting = await meeting_rows.lock(conn, meeting_id)
    network_id = proposal["network_id"]
    if meeting is None or (
        meeting["network_id"] != network_id and network_id not in (meeting["co_hosts"] or [])
    ):
        raise NotFound(f"No meeting {meeting_id} of this proposal's network.")
    if meeting["status"] not in AGENDA_OPEN:
        raise Conflict(
            f"The meeting is {meeting['status']}: its agenda is closed.",
            slug="meeting-" + meeting["status"],
        )
    item: dict[str, Any] = {
        "starts_at": None,
        "title": proposal["title"],
        "speakers": [],
        "proposal_id": str(proposal_id),
    }
    agenda = [*(meeting["agenda"] or []), item]
    updated = await meeting_rows.update(conn, meeting_id, changes={"agenda": agenda})
    await record_event(
        conn,
        MeetingUpdated(**_event_fields(updated), changed=["agenda"]),
        aggregate_id=meeting_id,
        aggregate_version=updated["version"],
        key=meeting_id,
    )
    await proposal_rows.move(
        conn, proposal_id, status="scheduled", decided_at=ctx.clock.now(), meeting_id=meeting_id
    )
    return await announce_proposal(conn, ctx, proposal_id, ProposalScheduled)


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def _organising(conn: Connection, organiser: Principal, proposal_id: uuid.UUID) -> None:
    owner = await proposal_rows.organisation_of(conn, proposal_id)
    if owner is None:
        raise NotFound(f"No proposal {proposal_id}.")
    await require_in_scope(conn, organiser, "network", owner["network_id"])


async def publish_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own publishes a submitted proposal."""

    async def publish(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await publish_within(conn, ctx, proposal_id)

    return await tx.once(once, publish)


async def reject_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    *,
    reason: str | None,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own rejects a submitted proposal, with a reason."""

    async def reject(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await reject_within(conn, ctx, proposal_id, reason=reason)

    return await tx.once(once, reject)


async def schedule_proposal(
    tx: Transactions,
    ctx: ServiceContext,
    proposal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser puts a published proposal on the agenda of a meeting of the network."""

    async def schedule(conn: Connection) -> asyncpg.Record:
        await _organising(conn, organiser, proposal_id)
        return await schedule_within(conn, ctx, proposal_id, meeting_id)

    return await tx.once(once, schedule)
