"""From events to notifications: the use case a consumer batch goes through, and the table of
which effect each event type has.

Each effect keeps the local copies it needs and returns the emails the event causes; they are
queued with the event's inbox row in one transaction, and the dispatcher sends after the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notification.clients import PersonalDataOpener
from notification.repository import inbox
from notification.service.consultations import (
    consultation_changed,
    consultation_invitation,
    response_submitted,
)
from notification.service.dialogue import address_confirmation_requested
from notification.service.enrolments import member_enrolled
from notification.service.erasure import member_erased
from notification.service.feedback import (
    attendance_recorded,
    attendance_undone,
    meeting_updated_or_held,
)
from notification.service.meetings import meeting_cancelled, meeting_scheduled
from notification.service.messages import meeting_message_sent
from notification.service.networks import network_changed
from notification.service.offers import seat_offer_expired, seat_offered
from notification.service.parties import (
    party_applied,
    party_declined,
    party_joined,
    party_withdrew,
)
from notification.service.proposals import (
    proposal_published,
    proposal_rejected,
    proposal_scheduled,
)
from notification.service.queueing import Ledger
from notification.service.recipients import Outgoing
from notification.service.registrations import registration_changed, registrations_changed
from notification.service.terms import enrolment_ended
from notification.settings import Settings
from tilmeld_shared.consuming import Event
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    AddressConfirmationRequested,
    AttendanceRecorded,
    AttendanceUndone,
    CompanionCheckedIn,
    ConsultationInvitation,
    ConsultationState,
    EnrolmentEnded,
    Envelope,
    MeetingCancelled,
    MeetingMessageSent,
    MeetingScheduled,
    MeetingUpdated,
    MemberEnrolled,
    MemberErased,
    NetworkCreated,
    PartyApplied,
    PartyDeclined,
    PartyJoined,
    PartyWithdrew,
    Payload,
    ProposalPublished,
    ProposalRejected,
    ProposalScheduled,
    RegistrationState,
    ResponseSubmitted,
    SeatOffered,
    SeatOfferExpired,
)

log = logging.getLogger(__name__)

Effect = Callable[[Connection, Settings, Any, int], Awaitable[list[Outgoing]]]


async def _no_news(
    conn: Connection, settings: Settings, payload: Payload, version: int
) -> list[Outgoing]:
    return []


# Looked up along the payload's class hierarchy, most specific first: MeetingUpdated before
# MeetingScheduled, AttendanceRecorded (kept for the feedback request) before the other
# RegistrationStates.
# A type in none of them is one this service has nothing to say about.
EFFECTS: dict[type[Payload], Effect] = {
    NetworkCreated: network_changed,  # and NetworkUpdated, which extends it
    PartyApplied: party_applied,
    PartyJoined: party_joined,
    PartyDeclined: party_declined,
    PartyWithdrew: party_withdrew,
    MeetingScheduled: meeting_scheduled,
    MeetingUpdated: meeting_updated_or_held,
    MeetingCancelled: meeting_cancelled,
    MeetingMessageSent: meeting_message_sent,
    MemberEnrolled: member_enrolled,
    EnrolmentEnded: enrolment_ended,
    MemberErased: member_erased,
    AttendanceRecorded: attendance_recorded,
    # The door's other ticks are news to nobody (and must not read as a new registration).
    CompanionCheckedIn: _no_news,
    AttendanceUndone: attendance_undone,  # the person did not come: not asked for feedback
    SeatOffered: seat_offered,
    SeatOfferExpired: seat_offer_expired,
    RegistrationState: registration_changed,
    # Member dialogue; the rest of it (proposals submitted, votes, confirmed addresses) is news
    # to nobody here.
    ConsultationState: consultation_changed,  # ConsultationOpened, ConsultationClosed
    ConsultationInvitation: consultation_invitation,
    ResponseSubmitted: response_submitted,
    AddressConfirmationRequested: address_confirmation_requested,
    ProposalPublished: proposal_published,
    ProposalRejected: proposal_rejected,
    ProposalScheduled: proposal_scheduled,
}


def effect_of(payload: Payload) -> Effect:
    """The effect for the payload's type, or for the nearest type it extends."""
    for kind in type(payload).__mro__:
        if kind in EFFECTS:
            return EFFECTS[kind]
    return _no_news


# Effects that read or change the delivery ledger: the emails held for it are written first.
READS_LEDGER: frozenset[Effect] = frozenset({member_erased})


async def handle_batch(
    pool: asyncpg.Pool,
    settings: Settings,
    opener: PersonalDataOpener,
    events: Sequence[Event],
) -> list[uuid.UUID]:
    """Open the batch's sealed personal data, then handle every event in one transaction (the
    use case); returns the ids of notifications to send."""
    opened = await opener.open_all(list(events))
    async with pool.acquire() as conn, conn.transaction():
        queued = await handle_events(conn, settings, opened)
    for envelope, _ in opened:
        log.debug(
            "event handled",
            extra={
                "event_id": str(envelope.event_id),
                "event_type": envelope.event_type,
                "correlation_id": str(envelope.correlation_id),
            },
        )
    log.info("events handled", extra={"events": len(opened), "emails_queued": len(queued)})
    return queued


async def handle_events(
    conn: Connection, settings: Settings, opened: Sequence[tuple[Envelope, Payload | None]]
) -> list[uuid.UUID]:
    """Record the events as handled and apply each in order, in the caller's transaction; a
    duplicate (handled before, or earlier in the batch) has no effect. The batch's emails are
    queued together. Returns the ids of notifications queued for sending."""
    unclaimed = await inbox.claim_events(
        conn, [(envelope.event_id, envelope.event_type) for envelope, _ in opened]
    )
    claimed = []
    for envelope, payload in opened:
        if envelope.event_id in unclaimed:
            unclaimed.discard(envelope.event_id)
            claimed.append((envelope, payload))
    ledger = Ledger(settings)
    queued: list[uuid.UUID] = []
    at = 0
    while at < len(claimed):
        run = _registration_run(claimed, at)
        if run:
            # A run of registration events is applied together: a few round trips, not a few
            # per event.
            news = await registrations_changed(
                conn,
                settings,
                [(payload, envelope.aggregate_version) for envelope, payload in run],
            )
            for (envelope, _), emails in zip(run, news, strict=True):
                await _queue(conn, settings, ledger, envelope, emails)
            at += len(run)
            continue
        envelope, payload = claimed[at]
        at += 1
        outgoing: list[Outgoing] = []
        if payload is not None:
            effect = effect_of(payload)
            if effect in READS_LEDGER:
                queued += await ledger.write(conn)
            outgoing = await effect(conn, settings, payload, envelope.aggregate_version)
            if effect is network_changed:
                ledger.forget_networks()
        await _queue(conn, settings, ledger, envelope, outgoing)
    return queued + await ledger.write(conn)


def _registration_run(
    claimed: Sequence[tuple[Envelope, Payload | None]], start: int
) -> list[tuple[Envelope, RegistrationState]]:
    """The registration events from `start` on, up to the next event of another kind or the
    next about a registration already in the run (which must see the earlier one applied)."""
    run: list[tuple[Envelope, RegistrationState]] = []
    registrations: set[uuid.UUID] = set()
    for envelope, payload in claimed[start:]:
        if (
            not isinstance(payload, RegistrationState)
            or effect_of(payload) is not registration_changed
            or payload.registration_id in registrations
        ):
            break
        registrations.add(payload.registration_id)
        run.append((envelope, payload))
    return run


async def _queue(
    conn: Connection,
    settings: Settings,
    ledger: Ledger,
    envelope: Envelope,
    outgoing: list[Outgoing],
) -> None:
    if envelope.occurred_at < datetime.now(UTC) - settings.mail_events_within_delta:
        outgoing = []  # history, not news: its state is kept, nobody is emailed
    await ledger.add(
        conn, outgoing, dedupe_prefix=str(envelope.event_id), event_id=envelope.event_id
    )


async def handle_event(
    conn: Connection, settings: Settings, envelope: Envelope, payload: Payload | None
) -> list[uuid.UUID]:
    """One event alone: see `handle_events`."""
    return await handle_events(conn, settings, [(envelope, payload)])
