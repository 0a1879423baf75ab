"""Joint meetings: a meeting held by its network together with co-hosts of the same
organisation. Members of any host may register for it; it is listed under each host, and
reporting counts it for each (once in any total across networks)."""

from __future__ import annotations

import uuid

import asyncpg

from registration.repository import co_hosts as co_host_rows
from registration.unit_of_work import Transactions
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Forbidden, Invalid


def hosts(meeting: asyncpg.Record) -> list[uuid.UUID]:
    """The meeting's network first, then its co-hosts."""
    return [meeting["network_id"], *meeting["co_hosts"]]


async def require_own(
    conn: Connection, network: asyncpg.Record, co_hosts: list[uuid.UUID] | None
) -> None:
    """Refuse co-hosts that are not networks of the meeting's own organisation (403: an unknown
    id is refused alike, so another organisation's networks are not confirmed to exist), and
    the meeting's own network named as its co-host (422)."""
    if not co_hosts:
        return
    if network["id"] in co_hosts:
        raise Invalid(
            "A meeting's own network is its host, not a co-host.",
            errors=[{"field": "co_hosts", "in": "body", "message": "names the meeting's network"}],
        )
    found = {row["id"]: row for row in await co_host_rows.networks(conn, co_hosts)}
    foreign = [
        network_id
        for network_id in co_hosts
        if network_id not in found
        or found[network_id]["organisation_id"] != network["organisation_id"]
    ]
    if foreign:
        raise Forbidden(
            "Co-hosts must be networks of the meeting's own organisation.",
            errors=[
                {
                    "field": "co_hosts",
                    "in": "body",
                    "message": f"not a network of this organisation: {network_id}",
                }
                for network_id in foreign
            ],
        )


async def co_host_titles(tx: Transactions, meeting: asyncpg.Record) -> list[str]:
    """The titles of the meeting's co-hosts, in the order it names them (for its page)."""
    if not meeting["co_hosts"]:
        return []
    rows = await tx.read(lambda conn: co_host_rows.networks(conn, list(meeting["co_hosts"])))
    titles = {row["id"]: row["title"] for row in rows}
    return [titles[network_id] for network_id in meeting["co_hosts"] if network_id in titles]
