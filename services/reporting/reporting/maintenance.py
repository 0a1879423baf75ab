"""Operator commands: rebuild the reporting schema from the registration service's event log,
and reconcile reporting with the registration service's own counts (meetings, networks, and
member dialogue's counted responses and votes)."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from reporting import queries
from reporting.clients import RegistrationClient
from reporting.projection import apply_batch
from reporting.repository import dialogue as dialogue_repository
from reporting.repository import projection as repository
from reporting.settings import Settings
from tilmeld_shared.db import Connection, open_pool
from tilmeld_shared.events import Envelope, Payload, UnreadableEvent, read_envelope

log = logging.getLogger(__name__)

MEETING_FIELDS = (
    "capacity",
    "seats_confirmed",
    "registrations_confirmed",
    "companions_confirmed",
    "waitlisted",
    "cancelled",
    "attended",
)
NETWORK_FIELDS = (
    "members_active",
    "enrolments_total",
    "enrolments_cancelled",
    "meetings_scheduled",
    "meetings_cancelled",
)
# Member dialogue: what the consultation report and the proposal ranking count.
CONSULTATION_FIELDS = ("status", "responses")
PROPOSAL_FIELDS = ("status", "counted", "votes")


async def rebuild(settings: Settings, *, page_size: int = 2000) -> int:
    """Empty the reporting tables and apply the whole event log again, a page per transaction.

    The live consumer may keep running: the inbox and the version guards make anything it
    applies meanwhile count once."""
    pool = await open_pool(settings, schema="reporting")
    applied = 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            await repository.reset(conn)
        async with RegistrationClient(settings) as registration:
            cursor = None
            while True:
                page = await registration.events(limit=page_size, cursor=cursor)
                events = _readable(page["items"])
                async with pool.acquire() as conn, conn.transaction():
                    applied += await apply_batch(conn, events)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
    finally:
        await pool.close()
    return applied


def _readable(items: list[dict[str, Any]]) -> list[tuple[Envelope, Payload | None]]:
    events = []
    for item in items:
        try:
            envelope = Envelope.model_validate(item["envelope"])
            events.append(read_envelope(envelope.model_dump_json().encode()))
        except (UnreadableEvent, ValueError) as error:
            log.error("event at position %s skipped: %s", item["position"], error)
    return events


async def reconcile(settings: Settings) -> list[str]:
    """Every difference between reporting and the registration service's counts."""
    async with RegistrationClient(settings) as registration:
        truth = await registration.stats()
    conn: asyncpg.Connection = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": "reporting"}
    )
    try:
        return await drift(conn, truth)
    finally:
        await conn.close()


async def drift(conn: Connection, truth: dict[str, Any]) -> list[str]:
    """Each difference between reporting's tables and `truth`, as registration's
    `GET /api/v1/stats` gives it (ids as text)."""
    meetings, _ = await queries.meeting_reports(
        conn, network_id=None, since=None, until=None, limit=1_000_000
    )
    networks, _ = await queries.network_reports(conn)
    found = [
        *_compare("meeting", truth["meetings"], meetings, MEETING_FIELDS),
        *_compare("network", truth["networks"], networks, NETWORK_FIELDS),
    ]
    # A registration service older than the member dialogue gives no counts of it: nothing to
    # compare, rather than every consultation "in reporting only".
    if "consultations" in truth:
        consultations = [dict(row) for row in await dialogue_repository.consultation_counts(conn)]
        found += _compare(
            "consultation", truth["consultations"], consultations, CONSULTATION_FIELDS
        )
    if "proposals" in truth:
        proposals = [dict(row) for row in await dialogue_repository.proposal_counts(conn)]
        found += _compare("proposal", truth["proposals"], proposals, PROPOSAL_FIELDS)
    return found


def _compare(
    kind: str,
    expected_rows: list[dict[str, Any]],
    reported_rows: list[dict[str, Any]],
    fields: tuple[str, ...],
) -> list[str]:
    """One line per difference between the truth and reporting, for rows keyed `<kind>_id`."""
    key = f"{kind}_id"
    reported = {str(row[key]): row for row in reported_rows}
    drift = []
    for expected in expected_rows:
        seen = reported.pop(expected[key], None)
        if seen is None:
            drift.append(f"{kind} {expected[key]}: missing from reporting")
            continue
        drift += [
            f"{kind} {expected[key]}: {field} is {seen[field]}, registration says {expected[field]}"
            for field in fields
            if seen[field] != expected[field]
        ]
    return drift + [f"{kind} {identifier}: in reporting only" for identifier in reported]
