"""The end of a network's term: the member hears that their enrolment ended with it, and is
invited to the next term through their renew link, in their own language."""

from __future__ import annotations

from babel.dates import format_date

from notification import rendering
from notification.repository import networks
from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import EnrolmentEnded


async def enrolment_ended(
    conn: Connection, settings: Settings, payload: EnrolmentEnded, version: int
) -> list[Outgoing]:
    if payload.personal is None:
        return []  # nobody to write to (an erased member's sealed data no longer opens)
    network = await networks.get_network(conn, payload.network_id)
    language = rendering.language_or_fallback(payload.language)
    locale = rendering.LOCALES.get(language, language)
    return [
        Outgoing(
            Recipient(payload.personal.name, payload.personal.email),
            "term_ended",
            payload.language,
            payload.member_id,
            None,
            {
                "network_title": network["title"] if network else "Tilmeld",
                "ended_on": format_date(payload.cancelled_at, "long", locale=locale),
                "action_url": payload.personal.action_url,
                "cancel_url": None,
            },
            network_id=payload.network_id,
        )
    ]
