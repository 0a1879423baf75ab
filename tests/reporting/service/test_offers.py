"""Waitlist offers in reporting: an offered registration still counts as waitlisted; a lapsed
offer ends as a cancellation; an accepted one as a confirmed seat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from reporting import projection
from tilmeld_shared.db import init_connection
from tilmeld_shared.events import (
    Payload,
    RegistrationCancelled,
    RegistrationPromoted,
    RegistrationWaitlisted,
    SeatOffered,
    SeatOfferExpired,
    new_envelope,
)

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    await init_connection(connection)
    yield connection
    await connection.close()


class Registration:
    def __init__(self) -> None:
        self.meeting_id = uuid.uuid4()
        self.fields: dict[str, Any] = {
            "registration_id": uuid.uuid4(),
            "meeting_id": self.meeting_id,
            "network_id": uuid.uuid4(),
            "member_id": uuid.uuid4(),
            "municipality": "Ishøj",
            "language": "da",
            "seats": 1,
            "companions": 0,
            "registered_at": NOW,
        }
        self.version = 0

    def event(self, cls: type[Payload], **changes: Any) -> Any:
        self.version += 1
        payload = cls(**self.fields, **changes)
        envelope = new_envelope(
            payload,
            aggregate_id=self.meeting_id,
            aggregate_version=self.version,
            correlation_id="t",
        )
        return envelope, payload


async def apply(conn: asyncpg.Connection, *events: Any) -> None:
    async with conn.transaction():
        await projection.apply_batch(conn, list(events))


async def state(conn: asyncpg.Connection, registration: Registration) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT status, cancelled_at FROM registrations WHERE id = $1",
        registration.fields["registration_id"],
    )
    assert row is not None
    return row


async def test_an_offered_registration_counts_as_waitlisted(conn: asyncpg.Connection) -> None:
    registration = Registration()
    expires = NOW + timedelta(hours=24)

    await apply(
        conn,
        registration.event(RegistrationWaitlisted, status="waitlisted", waitlist_position=1),
        registration.event(
            SeatOffered, status="waitlisted", waitlist_position=1, offer_expires_at=expires
        ),
    )

    assert (await state(conn, registration))["status"] == "waitlisted"


async def test_a_lapsed_offer_ends_as_a_cancellation(conn: asyncpg.Connection) -> None:
    registration = Registration()
    expires = NOW + timedelta(hours=24)
    await apply(
        conn,
        registration.event(RegistrationWaitlisted, status="waitlisted", waitlist_position=1),
        registration.event(SeatOffered, status="waitlisted", offer_expires_at=expires),
    )

    await apply(
        conn,
        registration.event(SeatOfferExpired, status="cancelled", offer_expires_at=expires),
        registration.event(
            RegistrationCancelled,
            status="cancelled",
            offer_expires_at=expires,
            previous_status="waitlisted",
            cancelled_at=expires,
            cancelled_by="offer_expired",
        ),
    )

    row = await state(conn, registration)
    assert (row["status"], row["cancelled_at"]) == ("cancelled", expires)


async def test_an_accepted_offer_is_a_confirmed_seat(conn: asyncpg.Connection) -> None:
    registration = Registration()

    await apply(
        conn,
        registration.event(RegistrationWaitlisted, status="waitlisted", waitlist_position=1),
        registration.event(
            SeatOffered, status="waitlisted", offer_expires_at=NOW + timedelta(hours=2)
        ),
        registration.event(RegistrationPromoted, status="confirmed"),
    )

    assert (await state(conn, registration))["status"] == "confirmed"
