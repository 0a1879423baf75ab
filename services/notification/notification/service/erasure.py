"""A member erased: every name, address and link held here about them goes, dead letters too;
what was not sent yet never will be. Ids and delivery facts stay."""

from __future__ import annotations

from notification.repository import (
    dead_letters,
    dialogue,
    feedback,
    notifications,
    registrations,
    reminders,
)
from notification.service.recipients import Outgoing
from notification.settings import Settings
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MemberErased


async def member_erased(
    conn: Connection, settings: Settings, payload: MemberErased, version: int
) -> list[Outgoing]:
    # Dead letters first, while the person's address and names are still known here.
    needles = {str(payload.member_id)}
    needles |= await registrations.person_strings(conn, payload.member_id)
    needles |= await dialogue.person_strings(conn, payload.member_id)
    await dead_letters.forget_dead_letters(conn, needles)
    await notifications.erase_notifications(conn, payload.member_id)
    for registration_id in await registrations.erase_registrations(conn, payload.member_id):
        await reminders.drop_reminder(conn, registration_id)
    await dialogue.erase_member(conn, payload.member_id)  # invitations, so reminders, go too
    await feedback.erase_member(conn, payload.member_id)  # their feedback link
    return []
