"""Use cases of networks: create, change, read."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import asyncpg

from registration.outbox import record_event
from registration.pagination import Cursor
from registration.repository import networks as network_rows
from registration.repository import organisations as organisation_rows
from registration.service.commands import NetworkIn, NetworkPatch
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated, NetworkUpdated
from tilmeld_shared.problems import Forbidden, NotFound

R = TypeVar("R")


def _event_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "network_id": row["id"],
        "title": row["title"],
        "language": row["language"],
        "max_companions": row["max_companions"],
        "status": row["status"],
        "organisation_id": row["organisation_id"],
        "auto_register": row["auto_register"],
        "term_ends_at": row["term_ends_at"],
        "waitlist": row["waitlist"],
        "offer_hours": row["offer_hours"],
        "proposals": row["proposals"],
        # Public on the network's page: the emails sent on its behalf name them.
        "organisers": list(row["organisers"] or []),
        "contact_name": (row["contact"] or {}).get("name"),
        "contact_email": (row["contact"] or {}).get("email"),
    }


async def create_network_within(
    conn: Connection, command: NetworkIn, *, organisation_id: uuid.UUID | None = None
) -> asyncpg.Record:
    """Create a network (of the organisation, or the platform's own) and announce it."""
    if organisation_id and await organisation_rows.get(conn, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}.")
    row = await network_rows.insert(
        conn,
        network_id=uuid.uuid4(),
        title=command.title,
        description=command.description,
        purpose=command.purpose,
        target_group=command.target_group,
        organisers=command.organisers,
        language=command.language,
        max_companions=command.max_companions,
        contact=command.contact.model_dump(mode="json") if command.contact else None,
        period=command.period,
        organisation_id=organisation_id,
        membership=command.membership,
        admission=command.admission,
        applications_close_at=command.applications_close_at,
        auto_register=command.auto_register,
        term_ends_at=command.term_ends_at,
        waitlist=command.waitlist,
        offer_hours=command.offer_hours,
        proposals=command.proposals,
    )
    await record_event(
        conn,
        NetworkCreated(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return row


async def update_network_within(
    conn: Connection, network_id: uuid.UUID, command: NetworkPatch
) -> asyncpg.Record:
    """Change the fields given; nothing else moves."""
    current = await network_rows.lock(conn, network_id)
    if current is None:
        raise NotFound(f"No network {network_id}.")
    changes = command.model_dump(mode="json", exclude_unset=True)
    if not changes:
        return current
    row = await network_rows.update(conn, network_id, changes=changes)
    await record_event(
        conn,
        NetworkUpdated(**_event_fields(row)),
        aggregate_id=row["id"],
        aggregate_version=row["version"],
        key=row["id"],
    )
    return row


async def network_within(conn: Connection, network_id: uuid.UUID) -> asyncpg.Record:
    """The network; NotFound if there is none."""
    row = await network_rows.get(conn, network_id)
    if row is None:
        raise NotFound(f"No network {network_id}.")
    return row


async def networks_within(
    conn: Connection, *, status: str | None, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    rows = await network_rows.page(
        conn,
        status=status,
        after_time=cursor.after_time if cursor else None,
        after_id=cursor.after_id if cursor else None,
        limit=limit + 1,
    )
    return Cursor.page(rows, limit, time_column="created_at")


# --- use cases: each runs in one transaction of its own -----------------------------------------


async def create_network(
    tx: Transactions,
    command: NetworkIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organisation's organiser creates networks of that organisation; the platform
    administrator may name any organisation (or none: the platform's own)."""
    owner = command.organisation_id if organiser.platform else organiser.organisation_id
    if not organiser.platform and command.organisation_id not in (None, owner):
        raise Forbidden("Networks can be created for your own organisation only.")
    return await tx.once(
        once, lambda conn: create_network_within(conn, command, organisation_id=owner)
    )


async def update_network(
    tx: Transactions, network_id: uuid.UUID, command: NetworkPatch, *, organiser: Principal
) -> asyncpg.Record:
    """Change the fields given, on a network of the organiser's own."""

    async def update(conn: Connection) -> asyncpg.Record:
        await require_in_scope(conn, organiser, "network", network_id)
        return await update_network_within(conn, network_id, command)

    return await tx.run(update)


async def get_network(tx: Transactions, network_id: uuid.UUID) -> asyncpg.Record:
    return await tx.read(lambda conn: network_within(conn, network_id))


async def list_networks(
    tx: Transactions, *, status: str | None, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """A page of networks (with `status`, only those)."""
    return await tx.read(
        lambda conn: networks_within(conn, status=status, limit=limit, cursor=cursor)
    )
