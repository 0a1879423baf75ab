"""Enrolment events: a new member hears they are enrolled (nothing is kept about them here)."""

from __future__ import annotations

from notification.service.recipients import Outgoing, Recipient
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MemberEnrolled


async def member_enrolled(
    conn: Connection, settings: Settings, payload: MemberEnrolled, version: int
) -> list[Outgoing]:
    if payload.personal is None:
        return []  # nobody to write to (an erased member's sealed data no longer opens)
    return [
        Outgoing(
            Recipient(payload.personal.name, payload.personal.email),
            "enrolment_confirmed",
            payload.language,
            payload.member_id,
            None,
            {
                "network_title": payload.network_title or "Tilmeld",
                "cancel_url": payload.personal.cancel_url,
            },
            network_id=payload.network_id,
        )
    ]
