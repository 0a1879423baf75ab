"""Member dialogue: what its emails share (the network's name, a moment written the reader's
way, the key that makes each email go once), and the email asking a person to confirm their
address before what they said counts.

The consultations' emails are in `consultations`, the proposals' in `proposals`."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from notification import rendering
from notification.repository import networks
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import AddressConfirmationRequested

# A deadline has no meeting to take a time zone from: it is written in the zone of the
# reader's language (all three are the same zone today), English readers in the Nordic one.
ZONES = {"da": "Europe/Copenhagen", "nb": "Europe/Oslo", "de": "Europe/Berlin"}
DEFAULT_ZONE = "Europe/Copenhagen"


def format_moment(moment: datetime, language: str) -> str:
    """`Tuesday, 8 December 2026, 12:00 (CET)`, in the reader's words."""
    locale = rendering.LOCALES.get(language, language)
    local = moment.astimezone(ZoneInfo(ZONES.get(language, DEFAULT_ZONE)))
    day = format_date(local, "full", locale=locale)
    return f"{day}, {format_time(local, 'short', locale=locale)} ({local.tzname()})"


def digest(address: str) -> str:
    """The address in a dedupe key: a digest, as the key outlives an erasure."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:32]


async def network_title(conn: Connection, network_id: uuid.UUID, given: str = "") -> str:
    """The title the event gives, else the local copy's, else none ("")."""
    if given:
        return given
    network = await networks.get_network(conn, network_id)
    return str(network["title"]) if network else ""


async def address_confirmation_requested(
    conn: Connection, settings: Settings, payload: AddressConfirmationRequested, version: int
) -> list[Outgoing]:
    """The link that makes a response, proposal or vote count; once per confirmation."""
    personal = payload.personal
    if personal is None or not personal.action_url:
        return []  # nobody to write to (erased), or nothing to ask them to open
    return [
        Outgoing(
            Recipient(personal.name, personal.email),
            "address_confirmation",
            payload.language,
            payload.member_id,
            None,
            {
                "what": payload.subject,
                "network_title": await network_title(conn, payload.network_id),
                "action_url": personal.action_url,
                "dedupe_key": f"address_confirmation:{payload.confirmation_id}",
            },
            network_id=payload.network_id,
        )
    ]
