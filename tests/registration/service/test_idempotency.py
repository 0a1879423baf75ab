"""An Idempotency-Key makes a use case act once: a retry gets the first answer back."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from registration.service import registrations
from registration.service.commands import RegistrationIn
from registration.service.registrations import Registered
from registration.unit_of_work import (
    Answer,
    IdempotentRequest,
    ServiceContext,
    Transactions,
    per_key,
)
from tests.registration.service.conftest import Given, outbox
from tilmeld_shared.problems import Invalid


def _keyed(body: str) -> IdempotentRequest:
    return IdempotentRequest.of(
        "retry-me", caller="person:x", method="POST", path="/registrations", canonical_body=body
    )


def _answer(registered: Registered) -> Answer:
    return 201, {"registration_id": str(registered.registration["id"])}


async def test_an_idempotent_replay_returns_the_first_answer_and_writes_one_outbox_row(
    given: Given, tx: Transactions, ctx: ServiceContext, pool: asyncpg.Pool
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    command = RegistrationIn(member=await given.member(network_id))
    admitted: list[uuid.UUID] = []

    async def admit() -> None:
        admitted.append(uuid.uuid4())

    answers = [
        await registrations.register_for_meeting(
            tx,
            ctx,
            meeting_id,
            command,
            once=per_key(_keyed(command.model_dump_json()), _answer, admit=admit),
        )
        for _ in range(3)
    ]

    assert answers[0][0] == 201
    assert answers[1:] == [answers[0], answers[0]]
    assert len(admitted) == 1  # rate limits count the request that acted, not its replays
    assert (await outbox(pool, aggregate_id=meeting_id)).count("RegistrationConfirmed") == 1


async def test_the_same_key_with_another_body_is_invalid_input(
    given: Given, tx: Transactions, ctx: ServiceContext
) -> None:
    network_id = await given.network()
    meeting_id = await given.meeting(network_id)
    command = RegistrationIn(member=await given.member(network_id))
    other = RegistrationIn(member=await given.member(network_id))
    await registrations.register_for_meeting(
        tx, ctx, meeting_id, command, once=per_key(_keyed("first"), _answer)
    )

    with pytest.raises(Invalid):
        await registrations.register_for_meeting(
            tx, ctx, meeting_id, other, once=per_key(_keyed("second"), _answer)
        )
