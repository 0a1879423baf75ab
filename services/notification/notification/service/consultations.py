"""Consultations: the audience invited when one opens, reminded before it closes if they have
not answered, and a receipt for each counted response (and a short one for each change of it).

The reminder goes `CONSULTATION_REMINDER_LEAD` before the consultation closes, once, to each
invited person who has no response to it (pending or counted: either is an answer). It is
decided when the invitation arrives: a consultation that closes within the lead by then gets
none, as the invitation, just sent, already says when it closes. Nothing is reminded of a
closed consultation, or after its closing time.

A pending response has no receipt: the email asking to confirm the address is its receipt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from notification.repository import dialogue
from notification.service.dialogue import digest, format_moment, network_title
from notification.service.queueing import queue
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    ConsultationClosed,
    ConsultationInvitation,
    ConsultationState,
    ResponseSubmitted,
)


async def consultation_changed(
    conn: Connection, settings: Settings, payload: ConsultationState, version: int
) -> list[Outgoing]:
    """Opened or closed: kept; a closed one reminds nobody. The invitations are events of
    their own, one per person."""
    await dialogue.store_consultation(conn, payload)
    if isinstance(payload, ConsultationClosed):
        await dialogue.drop_reminders(conn, payload.consultation_id)
    return []


async def consultation_invitation(
    conn: Connection, settings: Settings, payload: ConsultationInvitation, version: int
) -> list[Outgoing]:
    """The person's invitation with the link to the form, once per consultation and address;
    kept, to remind them."""
    personal = payload.personal
    if personal is None:
        return []  # an erased member's sealed data no longer opens: nobody to write to
    now = datetime.now(UTC)
    consultation = await dialogue.get_consultation(conn, payload.consultation_id)
    closes_at = consultation["closes_at"] if consultation else payload.closes_at
    if (consultation is not None and consultation["status"] == "closed") or closes_at <= now:
        return []  # closed before the invitation came: nothing left to answer
    remind_at = closes_at - settings.consultation_reminder_lead_delta
    await dialogue.store_invitation(conn, payload, remind_at=remind_at if remind_at > now else None)
    network = await network_title(
        conn, payload.network_id, consultation["network_title"] if consultation else ""
    )
    return [
        _email(
            "consultation_invitation",
            payload.consultation_id,
            member_id=payload.member_id,
            name=personal.name,
            address=personal.email,
            language=payload.language,
            title=payload.title,
            network=network,
            closes_at=closes_at,
            action_url=personal.action_url,
            network_id=payload.network_id,
        )
    ]


async def response_submitted(
    conn: Connection, settings: Settings, payload: ResponseSubmitted, version: int
) -> list[Outgoing]:
    """Noted as an answer (no reminder for them); a counted one gets its author a receipt,
    and each later version of it a short one saying the answers were updated."""
    row = await dialogue.store_response(
        conn,
        response_id=payload.response_id,
        consultation_id=payload.consultation_id,
        member_id=payload.member_id,
        status=payload.status,
    )
    if payload.status != "counted":
        return []
    first = row["receipt_for"] is None
    version_at = payload.amended_at or payload.submitted_at
    if not await dialogue.mark_receipt(conn, payload.response_id, version_at):
        return []  # this version (or a later one) had its receipt
    personal = payload.personal
    if personal is None:
        return []
    consultation = await dialogue.get_consultation(conn, payload.consultation_id)
    template = "response_receipt" if first else "response_updated"
    outgoing = _email(
        template,
        payload.consultation_id,
        member_id=payload.member_id,
        name=personal.name,
        address=personal.email,
        language=payload.language,
        title=consultation["title"] if consultation else "",
        network=await network_title(
            conn, payload.network_id, consultation["network_title"] if consultation else ""
        ),
        closes_at=consultation["closes_at"] if consultation else None,
        action_url=personal.action_url,
        network_id=payload.network_id,
    )
    outgoing.context["dedupe_key"] = (
        f"{template}:{payload.response_id}"
        if first
        else f"{template}:{payload.response_id}:{version_at.isoformat()}"
    )
    return [outgoing]


async def queue_due_consultation_reminders(
    pool: asyncpg.Pool, settings: Settings, *, limit: int = 100
) -> list[uuid.UUID]:
    """Claim due consultation reminders and queue the emails of those still to send, in one
    transaction; returns the ids of notifications to send. SKIP LOCKED: processes running it
    at once never take the same invitation."""
    async with pool.acquire() as conn, conn.transaction():
        now = datetime.now(UTC)
        outgoing = [
            _email(
                "consultation_reminder",
                due["consultation_id"],
                member_id=due["member_id"],
                name=due["name"],
                address=due["email"],
                language=due["language"],
                title=due["title"],
                network=await network_title(conn, due["network_id"], due["network_title"]),
                closes_at=due["closing"],
                action_url=due["action_url"],
                network_id=due["network_id"],
            )
            for due in await dialogue.claim_due_reminders(conn, limit=limit)
            if not due["answered"] and not due["closed"] and due["closing"] > now
        ]
        return await queue(conn, settings, outgoing, dedupe_prefix=None, event_id=None)


def _email(
    template: str,
    consultation_id: uuid.UUID,
    *,
    member_id: uuid.UUID,
    name: str,
    address: str,
    language: str,
    title: str,
    network: str,
    closes_at: datetime | None,
    action_url: str | None,
    network_id: uuid.UUID | None = None,
) -> Outgoing:
    """One email about a consultation; keyed by the consultation and the address (so the same
    person is invited, or reminded, once whatever is redelivered)."""
    return Outgoing(
        Recipient(name, address),
        template,
        language,
        member_id,  # so the member's erasure blanks these rows too
        None,
        {
            "title": title,
            "network_title": network,
            "closes": format_moment(closes_at, language) if closes_at else None,
            "action_url": action_url,
            "dedupe_key": f"{template}:{consultation_id}:{digest(address)}",
        },
        network_id=network_id,
    )
