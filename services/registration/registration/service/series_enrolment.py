"""Series enrolment and the network's term.

An `auto_register` network's members are registered for each upcoming members' meeting it
hosts or co-hosts: a new member for every such meeting, every member for a meeting scheduled
later. Each registration is the person's own (confirmed while seats last, else waitlisted, in
the order they enrolled), marked `automatic`, and can be cancelled on its own.

Durable without a queue: the work left is whatever the ledger (`series_registrations`) lacks,
so `register_owed` reconciles. It runs right after an enrolment or a scheduling commits, and
every `series_check_interval_s` in every process (`keep_up_the_series`), so a process that
stopped halfway loses nothing. Each run claims one meeting at a time with FOR UPDATE SKIP
LOCKED and registers everyone it owes in that one transaction, ledger rows included: two
processes never register a person twice, and a person who cancels their automatic
registration, or had cancelled one of their own, is never registered again.

When a network's `term_ends_at` passes, its active enrolments end (status "ended",
EnrolmentEnded, cancelled_by "term_ended") with a link to enrol again for the next term. The
automatic registrations an ended enrolment made for meetings from the term's end on are
cancelled with it: those meetings are the next term's, which the person has not chosen yet
(renewing registers them again). Everything within the term stays as it is, and so does every
registration the person made by hand.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

import asyncpg

from registration import tokens
from registration.outbox import record_event
from registration.repository import meetings as meeting_rows
from registration.repository import members as member_rows
from registration.repository import networks as network_rows
from registration.repository import series as series_rows
from registration.service.registrations import (
    CancelledBy,
    cancel_registration_within,
    place_registration,
)
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.events import EnrolmentEnded, PersonalData

log = logging.getLogger(__name__)

RENEW_PURPOSE = "renew-enrolment"
BATCH_SIZE = 100


# --- registering the series --------------------------------------------------------------------


async def register_owed(
    tx: Transactions,
    ctx: ServiceContext,
    *,
    meeting_id: uuid.UUID | None = None,
    network_id: uuid.UUID | None = None,
) -> int:
    """Register everyone owed a series registration (for one meeting, or the meetings of one
    network, if named), a meeting per transaction; how many registrations were made."""
    made = 0
    while True:
        done = await tx.run(
            lambda conn: _one_meeting(conn, ctx, meeting_id=meeting_id, network_id=network_id)
        )
        if done is None:  # nothing owed, or what is owed is another process's to do
            return made
        made += done


async def _one_meeting(
    conn: Connection,
    ctx: ServiceContext,
    *,
    meeting_id: uuid.UUID | None,
    network_id: uuid.UUID | None,
) -> int | None:
    """Claim one meeting owing registrations and register everyone it owes; None if none."""
    now = ctx.clock.now()
    meeting = await series_rows.claim_meeting(
        conn, now=now, meeting_id=meeting_id, network_id=network_id
    )
    if meeting is None:
        return None
    host = await network_rows.get(conn, meeting["network_id"])
    assert host is not None
    made = 0
    for owed in await series_rows.owed(conn, meeting["id"]):
        member = await member_rows.get(conn, owed["member_id"])
        assert member is not None
        outcome, registration_id = await _register(conn, ctx, meeting["id"], host, member, now)
        made += outcome == "registered"
        await series_rows.record(
            conn,
            meeting_id=meeting["id"],
            member_id=owed["member_id"],
            enrolment_id=owed["enrolment_id"],
            registration_id=registration_id,
            outcome=outcome,
            at=now,
        )
    return made


async def _register(
    conn: Connection,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    host: asyncpg.Record,
    member: asyncpg.Record,
    now: datetime,
) -> tuple[str, uuid.UUID | None]:
    """Register the member without companions (one who brings someone cancels this one and
    registers with them by hand), unless they hold a registration already or cancelled one of
    their own; the outcome and the registration."""
    latest = await series_rows.latest_of_member(conn, meeting_id, member["id"])
    if latest is not None and latest["status"] in ("confirmed", "waitlisted"):
        return "already_registered", latest["id"]
    # A cancelled one of their own is their choice; an automatic one owed again was cancelled
    # with its enrolment, not by them (one they cancelled keeps its ledger row, so is not owed).
    if latest is not None and not latest["automatic"]:
        return "cancelled_before", latest["id"]
    # Read again under the lock this transaction holds: the seats taken move with each one.
    meeting = await meeting_rows.get(conn, meeting_id)
    assert meeting is not None
    registered = await place_registration(
        conn, ctx, meeting, host, member, companions=[], now=now, automatic=True
    )
    return "registered", registered.registration["id"]


# --- the term's end ----------------------------------------------------------------------------


def renew_token(ctx: ServiceContext, enrolment_id: uuid.UUID) -> str:
    """The link to enrol again for the next term: it names the ended enrolment (whose member's
    details it fills in) and does nothing by itself, so it does not expire."""
    return tokens.issue(
        ctx.settings.effective_token_secret, RENEW_PURPOSE, enrolment_id, expires_at=None
    )


def renew_token_valid(ctx: ServiceContext, enrolment_id: uuid.UUID, token: str) -> bool:
    return bool(token) and tokens.verify(
        ctx.settings.effective_token_secret, RENEW_PURPOSE, enrolment_id, token, now=None
    )


def renew_url(ctx: ServiceContext, network_id: uuid.UUID, enrolment_id: uuid.UUID) -> str:
    """The network's page with its enrol form filled in for the member."""
    token = renew_token(ctx, enrolment_id)
    return (
        f"{ctx.settings.public_base_url}/networks/{network_id}"
        f"?renew={enrolment_id}&token={token}#enrol"
    )


async def end_terms(tx: Transactions, ctx: ServiceContext, *, batch_size: int = BATCH_SIZE) -> int:
    """End every active enrolment whose network's term has passed (by the context's clock), a
    batch per transaction; how many."""
    now = ctx.clock.now()

    async def batch(conn: Connection) -> int:
        ended = 0
        for enrolment in await series_rows.claim_ended(conn, now=now, limit=batch_size):
            ended += await _end(conn, ctx, enrolment)
        return ended

    total = 0
    while True:
        count = await tx.run(batch)
        total += count
        # A short batch: nothing left, or what is left is another process's to end.
        if count < batch_size:
            return total


async def _end(conn: Connection, ctx: ServiceContext, enrolment: asyncpg.Record) -> int:
    term_ends_at: datetime = enrolment["term_ends_at"]
    ended = await series_rows.end(conn, enrolment["id"], at=term_ends_at)
    if ended is None:
        return 0
    await cancel_automatic_from(conn, ctx, enrolment["id"], since=term_ends_at, by="term_ended")
    member = await member_rows.get(conn, enrolment["member_id"])
    network = await network_rows.get(conn, enrolment["network_id"])
    assert member is not None and network is not None
    personal = None
    if member["email"] and member["data_key"]:
        # The renew link travels sealed with the person: a topic reader is not the person.
        personal = ctx.vault.seal(
            member["id"],
            member["data_key"],
            PersonalData(
                name=member["name"],
                email=member["email"],
                action_url=renew_url(ctx, network["id"], enrolment["id"]),
            ),
        )
    await record_event(
        conn,
        EnrolmentEnded(
            enrolment_id=enrolment["id"],
            network_id=network["id"],
            member_id=member["id"],
            municipality=member["municipality"],
            municipality_id=member["municipality_id"],
            country=member["country"],
            language=member["language"] or network["language"],
            cancelled_at=term_ends_at,
            personal_sealed=personal,
        ),
        aggregate_id=enrolment["id"],
        aggregate_version=ended["version"],
        key=network["id"],
    )
    return 1


async def cancel_automatic_from(
    conn: Connection,
    ctx: ServiceContext,
    enrolment_id: uuid.UUID,
    *,
    since: datetime,
    by: CancelledBy,
) -> None:
    """Cancel the registrations the enrolment made by series enrolment for meetings starting
    from `since` on (seats to the waitlist); the person's own registrations stay. Nobody chose
    to cancel these, so a later enrolment (renewing, joining again) registers the person anew."""
    cancelled = await series_rows.after_term(conn, enrolment_id, term_ends_at=since)
    for registration_id in cancelled:
        await cancel_registration_within(
            conn, ctx, registration_id, token=None, by_organiser=True, cancelled_by=by
        )
    await series_rows.forget(conn, cancelled)


# --- the scheduler -----------------------------------------------------------------------------


async def keep_up_the_series(tx: Transactions, ctx: ServiceContext) -> None:
    """End passed terms and register what the series owes, every `series_check_interval_s`
    seconds, for ever (in every process: SKIP LOCKED shares the work)."""
    while True:
        # First a pause: a process starting (or restarting in a loop) adds no burst of its own.
        await asyncio.sleep(ctx.settings.series_check_interval_s)
        try:
            ended = await end_terms(tx, ctx)
            registered = await register_owed(tx, ctx)
            if ended or registered:
                log.info("series kept up", extra={"ended": ended, "registered": registered})
        except Exception:  # the database away a while: the next run tries again
            log.exception("keeping up the series failed")


async def register_owed_now(
    tx: Transactions,
    ctx: ServiceContext,
    *,
    meeting_id: uuid.UUID | None = None,
    network_id: uuid.UUID | None = None,
) -> None:
    """`register_owed` right after a commit that owes registrations, so they come at once; a
    failure is left to the scheduler, since what was committed stands."""
    try:
        await register_owed(tx, ctx, meeting_id=meeting_id, network_id=network_id)
    except Exception:
        log.exception("series registration deferred to the scheduler")
