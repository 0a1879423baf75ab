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

# DELETE, not TRUNCATE: the service runs as its app role, which may change rows, not tables.
RESET = """
DELETE FROM inbox; DELETE FROM networks; DELETE FROM meetings; DELETE FROM enrolments;
DELETE FROM registrations; DELETE FROM erased_members;
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
            params: dict[str, str | int] = {"limit": page_size}
            while True:
                response = await client.get("/events", params=params)
                response.raise_for_status()
                page = response.json()
                events = _readable(page["items"])
                async with pool.acquire() as conn, conn.transaction():
                    applied += await apply_batch(conn, events)
                if page["next_cursor"] is None:
                    break
                params["cursor"] = page["next_cursor"]
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
    meetings, _ = await queries.meeting_reports(
        conn, network_id=None, since=None, until=None, limit=1_000_000
    )
    networks, _ = await queries.network_reports(conn)
    return [
        *_compare("meeting", truth["meetings"], meetings, MEETING_FIELDS),
        *_compare("network", truth["networks"], networks, NETWORK_FIELDS),
    ]


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
