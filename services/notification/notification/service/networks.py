"""Network events: keep the local copy (title, language); nobody is written to."""

from __future__ import annotations

from notification.repository import networks
from notification.service.recipients import Outgoing
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated


async def network_changed(
    conn: Connection, settings: Settings, payload: NetworkCreated, version: int
) -> list[Outgoing]:
    """Created or updated: only kept, for the emails about the network's parties."""
    await networks.store_network(conn, payload, version=version)
    return []
