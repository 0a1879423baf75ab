"""Use case: an organiser writes to a meeting's participants (MeetingMessageSent)."""

from __future__ import annotations

import uuid
from typing import NamedTuple, TypeVar

from registration.outbox import record_event
from registration.repository import meetings as meeting_rows
from registration.repository import messages as message_rows
from registration.service.commands import MessageIn
from registration.service.organisations import require_in_scope
from registration.unit_of_work import Once, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.events import MeetingMessageSent
from tilmeld_shared.problems import Conflict, NotFound

R = TypeVar("R")

STATUSES = {
    "confirmed": ["confirmed"],
    "waitlisted": ["waitlisted"],
    "all": ["confirmed", "waitlisted"],
}


class MessageSent(NamedTuple):
    message_id: uuid.UUID
    recipients: int


async def send_message_within(
    conn: Connection, meeting_id: uuid.UUID, command: MessageIn
) -> MessageSent:
    """Store the message with the registrations it addresses now and announce it; a cancelled
    meeting takes none. The meeting's row lock keeps a registration changing meanwhile from
    being half addressed."""
    meeting = await meeting_rows.lock(conn, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    if meeting["status"] == "cancelled":
        raise Conflict("The meeting is cancelled.", slug="meeting-cancelled")
    addressed = await message_rows.addressed(conn, meeting_id, STATUSES[command.to])
    row = await message_rows.insert(
        conn,
        message_id=uuid.uuid4(),
        meeting_id=meeting_id,
        recipients=command.to,
        subject=command.subject,
        body=command.body,
        registration_ids=[r["id"] for r in addressed],
    )
    await record_event(
        conn,
        MeetingMessageSent(
            message_id=row["id"],
            meeting_id=meeting_id,
            network_id=meeting["network_id"],
            to=command.to,
            subject=command.subject,
            body=command.body,
            sent_at=row["sent_at"],
            registration_ids=row["registration_ids"],
        ),
        aggregate_id=row["id"],
        aggregate_version=1,
        key=meeting_id,  # the meeting's partition: after the registrations it addresses
    )
    return MessageSent(row["id"], sum(r["people"] for r in addressed))


async def send_message(
    tx: Transactions,
    meeting_id: uuid.UUID,
    command: MessageIn,
    *,
    organiser: Principal,
    once: Once[MessageSent, R],
) -> R:
    """Write to the participants of a meeting of the organiser's own."""

    async def send(conn: Connection) -> MessageSent:
        await require_in_scope(conn, organiser, "meeting", meeting_id)
        return await send_message_within(conn, meeting_id, command)

    return await tx.once(once, send)
