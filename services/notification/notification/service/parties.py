"""Party events: a municipality's application, admission, decline and withdrawal are news for
its contact, in the contact's language; a new application is news for the organiser too, at the
network's public contact address and in the network's language.

The organiser's email names the municipality and the network, never the contact (the organiser
sees contacts in the console) and never a link: the contact's withdraw link is theirs alone."""

from __future__ import annotations

import asyncpg

from notification.repository import networks
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    PartyApplied,
    PartyDeclined,
    PartyJoined,
    PartyState,
    PartyWithdrew,
)


async def party_applied(
    conn: Connection, settings: Settings, payload: PartyApplied, version: int
) -> list[Outgoing]:
    """The contact gets a receipt; the organiser hears of the application."""
    network = await networks.get_network(conn, payload.network_id)
    return [*_to_contact(payload, "party_applied", network), *_to_organiser(payload, network)]


async def party_joined(
    conn: Connection, settings: Settings, payload: PartyJoined, version: int
) -> list[Outgoing]:
    """Welcomed at once in an open network, or told their application was accepted."""
    network = await networks.get_network(conn, payload.network_id)
    accepted = payload.previous_status == "applied"  # else an open network let it in at once
    return _to_contact(payload, "party_accepted" if accepted else "party_joined", network)


async def party_declined(
    conn: Connection, settings: Settings, payload: PartyDeclined, version: int
) -> list[Outgoing]:
    """The contact hears the decision, with the organiser's reason when one was given."""
    network = await networks.get_network(conn, payload.network_id)
    return _to_contact(payload, "party_declined", network)


async def party_withdrew(
    conn: Connection, settings: Settings, payload: PartyWithdrew, version: int
) -> list[Outgoing]:
    """A confirmation when the contact withdrew; a notice when an organiser did."""
    network = await networks.get_network(conn, payload.network_id)
    template = (
        "party_withdrawn" if payload.withdrawn_by == "contact" else "party_withdrawn_by_organiser"
    )
    return _to_contact(payload, template, network)


def _to_contact(
    payload: PartyState, template: str, network: asyncpg.Record | None
) -> list[Outgoing]:
    if payload.personal is None:
        return []  # nobody to write to (an erased contact's sealed data no longer opens)
    return [
        Outgoing(
            Recipient(payload.personal.name, payload.personal.email),
            template,
            payload.language,
            payload.contact_member_id,  # so the contact's erasure blanks these rows too
            None,
            {
                **_about(payload, network),
                "reason": payload.reason,
                "network_contact_email": payload.network_contact_email,
                "cancel_url": payload.personal.cancel_url,
            },
            network_id=payload.network_id,
        )
    ]


def _to_organiser(payload: PartyState, network: asyncpg.Record | None) -> list[Outgoing]:
    if not payload.network_contact_email:
        return []
    return [
        Outgoing(
            Recipient("", payload.network_contact_email),
            "organiser_party_applied",
            # A network created before this service kept networks: the event's language.
            network["language"] if network else payload.language,
            None,
            None,
            _about(payload, network),
        )
    ]


def _about(payload: PartyState, network: asyncpg.Record | None) -> dict[str, str]:
    title = payload.network_title or (network["title"] if network else "") or "Tilmeld"
    return {"municipality": payload.municipality, "network_title": title}
