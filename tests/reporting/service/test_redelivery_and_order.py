"""Consumers' effects against real Postgres: redelivery and reordering change nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from reporting import projection, queries
from tilmeld_shared.db import init_connection
from tilmeld_shared.events import (
    Envelope,
    MeetingScheduled,
    MemberEnrolled,
    Payload,
    PersonalData,
    RegistrationCancelled,
    RegistrationConfirmed,
    new_envelope,
)

NOW = datetime.now(UTC)


async def _connect(database_url: str, schema: str) -> asyncpg.Connection:
    connection = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    await init_connection(connection)
    return connection


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A reporting connection, as the reporting service has."""
    connection = await _connect(database_url, "reporting")
    yield connection
    await connection.close()


def event(payload: Payload, aggregate: uuid.UUID, version: int) -> tuple[Envelope, Payload]:
    return new_envelope(
        payload, aggregate_id=aggregate, aggregate_version=version, correlation_id="test"
    ), payload


def meeting_events(meeting: uuid.UUID, network: uuid.UUID) -> list[tuple[Envelope, Payload]]:
    registration, member = uuid.uuid4(), uuid.uuid4()
    state = dict(
        registration_id=registration,
        meeting_id=meeting,
        network_id=network,
        member_id=member,
        municipality="Køge",
        language="da",
        seats=2,
        companions=1,
        registered_at=NOW,
    )
    return [
        event(
            MeetingScheduled(
                meeting_id=meeting,
                network_id=network,
                title="Møde",
                starts_at=NOW + timedelta(days=3),
                ends_at=NOW + timedelta(days=3, hours=2),
                timezone="Europe/Copenhagen",
                capacity=10,
            ),
            meeting,
            1,
        ),
        event(RegistrationConfirmed(**state, status="confirmed"), meeting, 2),
        event(
            RegistrationCancelled(
                **state,
                status="cancelled",
                previous_status="confirmed",
                cancelled_at=NOW,
                cancelled_by="member",
            ),
            meeting,
            3,
        ),
    ]


async def test_reporting_counts_a_redelivered_event_once(conn: asyncpg.Connection) -> None:
    meeting, network = uuid.uuid4(), uuid.uuid4()
    events = meeting_events(meeting, network)[:2]

    async with conn.transaction():
        # the same batch twice over: each event counts once
        assert await projection.apply_batch(conn, events + events) == 2
    async with conn.transaction():
        assert await projection.apply_batch(conn, events) == 0  # every one seen before

    report = await queries.meeting_report(conn, meeting)
    assert (report["registrations_confirmed"], report["seats_confirmed"]) == (1, 2)


async def test_reporting_ends_right_whatever_order_the_events_arrive_in(
    conn: asyncpg.Connection,
) -> None:
    meeting, network = uuid.uuid4(), uuid.uuid4()
    scheduled, confirmed, cancelled = meeting_events(meeting, network)

    for batch in ([cancelled], [confirmed], [scheduled]):  # newest first
        async with conn.transaction():
            await projection.apply_batch(conn, batch)

    report = await queries.meeting_report(conn, meeting)
    assert (report["registrations_confirmed"], report["cancelled"], report["capacity"]) == (
        0,
        1,
        10,
    )


async def test_reporting_keeps_no_names_or_emails(conn: asyncpg.Connection) -> None:
    enrolment, network = uuid.uuid4(), uuid.uuid4()
    enrolled = MemberEnrolled(
        enrolment_id=enrolment,
        network_id=network,
        member_id=uuid.uuid4(),
        municipality="Køge",
        role="Kulturchef",
        language="da",
        enrolled_at=NOW,
        personal=PersonalData(name="Secret Person", email="secret@koege.example"),
    )
    async with conn.transaction():
        await projection.apply_batch(conn, [event(enrolled, enrolment, 1)])

    dump = await conn.fetchval(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM reporting.enrolments) t"
    )
    assert "Secret" not in dump and "secret@" not in dump
