"""Operator commands: rebuild the reporting schema from the registration service's event log,
and reconcile reporting with the registration service's own counts."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import httpx

from reporting import queries
from reporting.projection import apply_batch
from reporting.settings import Settings
from tilmeld_shared.db import Connection, create_pool
from tilmeld_shared.events import Envelope, Payload, UnreadableEvent, read_envelope

log = logging.getLogger(__name__)

RESET = """
TRUNCATE inbox, networks, meetings, enrolments, registrations, erased_members;
UPDATE progress SET newest_event_at = NULL;
"""

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


def _registration_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{settings.registration_url}/api/v1",
        timeout=30,
        headers={"Authorization": f"Bearer {settings.organiser_token}"},
    )


async def rebuild(settings: Settings, *, page_size: int = 2000) -> int:
    """Empty the reporting tables and apply the whole event log again, a page per transaction.

    The live consumer may keep running: the inbox and the version guards make anything it
    applies meanwhile count once."""
    pool = await create_pool(settings.database_url, schema="reporting")
    applied = 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(RESET)
        async with _registration_client(settings) as client:
            after = 0
            while True:
                page = (
                    await client.get("/events", params={"after": after, "limit": page_size})
                ).json()
                if not page["items"]:
                    break
                events = _readable(page["items"])
                async with pool.acquire() as conn, conn.transaction():
                    applied += await apply_batch(conn, events)
                after = page["next_after"]
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
    async with _registration_client(settings) as client:
        response = await client.get("/stats")
        response.raise_for_status()
        truth = response.json()
    conn: asyncpg.Connection = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": "reporting"}
    )
    try:
        return await _drift(conn, truth)
    finally:
        await conn.close()


async def _drift(conn: Connection, truth: dict[str, Any]) -> list[str]:
    drift = []
    reported_meetings, _ = await queries.meeting_reports(
        conn, network_id=None, since=None, until=None, limit=1_000_000
    )
    by_meeting = {str(r["meeting_id"]): r for r in reported_meetings}
    for expected in truth["meetings"]:
        seen = by_meeting.pop(expected["meeting_id"], None)
        if seen is None:
            drift.append(f"meeting {expected['meeting_id']}: missing from reporting")
            continue
        drift += [
            f"meeting {expected['meeting_id']}: {field} is {seen[field]}, "
            f"registration says {expected[field]}"
            for field in MEETING_FIELDS
            if seen[field] != expected[field]
        ]
    drift += [f"meeting {meeting_id}: in reporting only" for meeting_id in by_meeting]
    reported_networks, _ = await queries.network_reports(conn)
    by_network = {str(r["network_id"]): r for r in reported_networks}
    for expected in truth["networks"]:
        seen = by_network.pop(expected["network_id"], None)
        if seen is None:
            drift.append(f"network {expected['network_id']}: missing from reporting")
            continue
        drift += [
            f"network {expected['network_id']}: {field} is {seen[field]}, "
            f"registration says {expected[field]}"
            for field in NETWORK_FIELDS
            if seen[field] != expected[field]
        ]
    drift += [f"network {network_id}: in reporting only" for network_id in by_network]
    return drift
