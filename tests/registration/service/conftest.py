"""The registration service's use cases against a real, freshly migrated Postgres: no HTTP,
no Kafka (events stay in the outbox, where the tests read them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from registration.outbox import OutboxSignal
from registration.personal_data import PersonalDataVault
from registration.service import enrolments, meetings, networks, registrations
from registration.service.commands import (
    CompanionIn,
    EnrolmentIn,
    MeetingIn,
    MemberIn,
    NetworkIn,
    RegistrationIn,
)
from registration.service.enrolments import Enrolled
from registration.service.registrations import Registered
from registration.settings import Settings
from registration.unit_of_work import Clock, ServiceContext, Transactions, as_is
from tests.builders import (
    ORGANISER_TOKEN,
    REPORTING_TOKEN,
    companion,
    meeting_body,
    member,
    network_body,
)
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.db import create_pool

PLATFORM = Principal(Role.ORGANISER)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="registration")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def tx(pool: asyncpg.Pool) -> Transactions:
    signal = OutboxSignal(pool)
    signal.local_relay_is_leader = lambda: True  # no relay elsewhere to wake with a NOTIFY
    return Transactions(pool, signal)


@pytest.fixture
def ctx(database_url: str) -> ServiceContext:
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        organiser_token=ORGANISER_TOKEN,
        reporting_token=REPORTING_TOKEN,
        token_secret="test-secret",
    )
    vault = PersonalDataVault.from_setting("", development_fallback="test-secret")
    return ServiceContext(settings=settings, clock=Clock(), vault=vault)


@dataclass
class Given:
    """What a test needs to exist before the use case it is about: through use cases too."""

    tx: Transactions
    ctx: ServiceContext

    async def network(self, **overrides: Any) -> uuid.UUID:
        command = NetworkIn.model_validate(network_body(**overrides))
        row = await networks.create_network(self.tx, command, organiser=PLATFORM, once=as_is())
        return uuid.UUID(str(row["id"]))

    async def meeting(self, network_id: uuid.UUID, **overrides: Any) -> uuid.UUID:
        command = MeetingIn.model_validate(meeting_body(**overrides))
        row = await meetings.schedule_meeting(
            self.tx, network_id, command, organiser=PLATFORM, once=as_is()
        )
        return uuid.UUID(str(row["id"]))

    async def member(self, network_id: uuid.UUID) -> MemberIn:
        """A person enrolled in the network."""
        person = MemberIn.model_validate(member())
        await self.enrol(network_id, person)
        return person

    async def enrol(self, network_id: uuid.UUID, person: MemberIn) -> Enrolled:
        command = EnrolmentIn(member=person, consent=True)
        return await enrolments.enrol(self.tx, self.ctx, network_id, command, once=as_is())

    async def register(
        self, meeting_id: uuid.UUID, person: MemberIn, *, companions: int = 0
    ) -> Registered:
        command = RegistrationIn(
            member=person,
            companions=[CompanionIn.model_validate(companion()) for _ in range(companions)],
        )
        return await registrations.register_for_meeting(
            self.tx, self.ctx, meeting_id, command, once=as_is()
        )


@pytest.fixture
def given(tx: Transactions, ctx: ServiceContext) -> Given:
    return Given(tx, ctx)


async def outbox(pool: asyncpg.Pool, *, aggregate_id: uuid.UUID | None = None) -> list[str]:
    """The event types written, in order (of one aggregate, if named)."""
    rows = await pool.fetch(
        "SELECT event_type FROM outbox WHERE $1::uuid IS NULL OR aggregate_id = $1 ORDER BY id",
        aggregate_id,
    )
    return [row["event_type"] for row in rows]
