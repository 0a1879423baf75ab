"""Use cases of networks: create, change, read."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from registration import repository as repo
from registration.api.schemas import NetworkIn, NetworkPatch
from registration.outbox import record_event
from registration.pagination import Cursor
from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated, NetworkUpdated
from tilmeld_shared.problems import NotFound


def _event_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "network_id": row["id"],
        "title": row["title"],
        "language": row["language"],
        "max_companions": row["max_companions"],
        "status": row["status"],
        "organisation_id": row["organisation_id"],
    }


async def create_network(
    conn: Connection, command: NetworkIn, *, organisation_id: uuid.UUID | None = None
) -> asyncpg.Record:
    """Create a network (of the organisation, or the platform's own) and announce it."""
    if organisation_id and await conn.fetchrow(repo.ORGANISATION, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}.")
    contact = command.contact.model_dump(mode="json") if command.contact else None
    row = await conn.fetchrow(
        repo.INSERT_NETWORK,
        uuid.uuid4(),
        command.title,
        command.description,
        command.purpose,
        command.target_group,
        command.organisers,
        command.language,
        command.max_companions,
        contact,
        command.period,
        organisation_id,
    )
    assert row is not None
    await record_event(
        conn,
        NetworkCreated(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return row


async def update_network(
    conn: Connection, network_id: uuid.UUID, command: NetworkPatch
) -> asyncpg.Record:
    """Change the fields given; nothing else moves."""
    current = await conn.fetchrow(repo.NETWORK_FOR_UPDATE, network_id)
    if current is None:
        raise NotFound(f"No network {network_id}.")
    changes = command.model_dump(mode="json", exclude_unset=True)
    if not changes:
        return current
    # Column names come from the request model's own fields, never from input text.
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    row = await conn.fetchrow(
        f"UPDATE networks SET {assignments}, version = version + 1, updated_at = now() "
        "WHERE id = $1 RETURNING *",
        network_id,
        *changes.values(),
    )
    assert row is not None
    await record_event(
        conn,
        NetworkUpdated(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return row


async def get_network(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(repo.NETWORK, network_id)
    if row is None:
        raise NotFound(f"No network {network_id}.")
    return row


async def list_networks(
    conn: Connection, *, status: str | None, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    rows = await conn.fetch(
        repo.NETWORKS_PAGE,
        status,
        cursor.after_time if cursor else None,
        cursor.after_id if cursor else None,
        limit + 1,
    )
    return Cursor.page(rows, limit, time_column="created_at")
