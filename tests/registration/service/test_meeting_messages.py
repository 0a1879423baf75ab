"""An organiser's message addresses the registrations as they are when it is sent."""

from __future__ import annotations

import json

import asyncpg

from registration.service import messages, registrations
from registration.service.commands import MessageIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from tests.registration.service.conftest import PLATFORM, Given


async def test_a_message_keeps_whom_it_addressed_when_sent_not_who_came_later(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id, capacity=1)
    seated = await given.register(meeting_id, await given.member(network_id))
    waiting = await given.register(meeting_id, await given.member(network_id))
    command = MessageIn.model_validate(
        {"subject": "Nyt lokale", "body": "Sal 2", "to": "confirmed"}
    )

    sent = await messages.send_message(tx, meeting_id, command, organiser=PLATFORM, once=as_is())
    # The seated person cancels and the waiting one gets the seat, after the message.
    await registrations.cancel_registration(
        tx, ctx, seated.registration["id"], token=None, organiser=PLATFORM, once=as_is()
    )

    assert sent.recipients == 1
    stored = await pool.fetchrow("SELECT * FROM meeting_messages WHERE id = $1", sent.message_id)
    assert stored["registration_ids"] == [seated.registration["id"]]
    envelope = await pool.fetchval(
        "SELECT envelope FROM outbox WHERE event_type = 'MeetingMessageSent'"
    )
    payload = (json.loads(envelope) if isinstance(envelope, str) else envelope)["payload"]
    assert payload["registration_ids"] == [str(seated.registration["id"])]
    assert waiting.registration["status"] == "waitlisted"
