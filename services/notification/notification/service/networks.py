"""Network events: keep the local copy (title, language, organisers, contact); nobody is
written to. The copy makes the emails sent on a network's behalf its organisers' own: their
name as the sender's and in the signature, their contact in the footer and as Reply-To."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from notification.repository import networks
from notification.service.recipients import Outgoing
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import NetworkCreated

# A sender name longer than this is cut: mail clients show only the start of it anyway.
SENDER_NAME_MAX = 78
# The organisers are named beside the title only while the name stays readable at a glance.
ORGANISERS_MAX = 40


async def network_changed(
    conn: Connection, settings: Settings, payload: NetworkCreated, version: int
) -> list[Outgoing]:
    """Created or updated: only kept, for the emails sent on the network's behalf."""
    await networks.store_network(conn, payload, version=version)
    return []


@dataclass(frozen=True)
class Organiser:
    """Who an email is from, as people know them.

    `name` is the sender name and the footer's heading ("KL – Kulturchefnetværket"), `signature`
    signs the email (the organisers, or the network when it names none); the contact is the
    network's public one."""

    name: str
    signature: str
    contact_name: str | None
    contact_email: str | None

    def context(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "signature": self.signature,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
        }


def organiser_of(
    network: asyncpg.Record | None, *, contact_email: str | None = None
) -> Organiser | None:
    """The network's organiser as its emails show them; None for a network this service has
    not heard of (its emails are signed by Tilmeld, as before networks were kept).
    `contact_email` stands in for a network kept before its contact was."""
    if network is None:
        return None
    title = str(network["title"]).strip()
    organisers = ", ".join(name.strip() for name in network["organisers"] or [] if name.strip())
    if organisers and organisers != title and len(organisers) <= ORGANISERS_MAX:
        name = f"{organisers} – {title}"
    else:
        name = title
    if len(name) > SENDER_NAME_MAX:
        name = name[: SENDER_NAME_MAX - 1].rstrip() + "…"
    return Organiser(
        name=name or "Tilmeld",
        signature=organisers or title or "Tilmeld",
        contact_name=network["contact_name"],
        contact_email=network["contact_email"] or contact_email,
    )
