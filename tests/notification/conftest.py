from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from notification.service.events import handle_event
from notification.settings import Settings
from tests.builders import PERSONAL_DATA
from tilmeld_shared.db import create_pool
from tilmeld_shared.events import (
    Companion,
    Envelope,
    MeetingScheduled,
    NetworkCreated,
    PartyState,
    Payload,
    PersonalData,
    new_envelope,
)

NOW = datetime.now(UTC).replace(microsecond=0)


def notification_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", **overrides)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="notification")
    yield pool
    await pool.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return notification_settings(database_url)


class Meeting:
    """A meeting's event stream as the registration service would write it."""

    def __init__(self, *, days_ahead: float = 7, language: str = "da") -> None:
        self.id = uuid.uuid4()
        self.network_id = uuid.uuid4()
        self.version = 0
        self.language = language
        self.starts_at = NOW + timedelta(days=days_ahead)

    def event(self, payload: Payload) -> tuple[Envelope, Payload]:
        self.version += 1
        return new_envelope(
            payload, aggregate_id=self.id, aggregate_version=self.version, correlation_id="test"
        ), payload

    def scheduled(
        self, cls: type[MeetingScheduled] = MeetingScheduled, **changes: Any
    ) -> tuple[Envelope, Payload]:
        fields: dict[str, Any] = {
            "meeting_id": self.id,
            "network_id": self.network_id,
            "title": "Møde 1: Klima, demokrati og samskabelse",
            "starts_at": self.starts_at,
            "ends_at": self.starts_at + timedelta(hours=5),
            "timezone": "Europe/Copenhagen",
            "location": "Kulturværftet, Helsingør",
            "capacity": 20,
            **changes,
        }
        return self.event(cls(**fields))

    def registration(
        self,
        cls: type[Payload],
        *,
        registration_id: uuid.UUID | None = None,
        member_id: uuid.UUID | None = None,
        email: str = "karen@ishoj.example",
        companion_email: str | None = None,
        **extra: Any,
    ) -> tuple[Envelope, Payload]:
        companions = [Companion(name="Ole", email=companion_email)] if companion_email else []
        fields: dict[str, Any] = {
            "registration_id": registration_id or uuid.uuid4(),
            "meeting_id": self.id,
            "network_id": self.network_id,
            "member_id": member_id or uuid.uuid4(),
            "municipality": "Ishøj",
            "language": self.language,
            "seats": 1 + len(companions),
            "companions": len(companions),
            "registered_at": NOW,
            "personal": PersonalData(name="Karen Hansen", email=email, companions=companions),
            "cancel_url": "http://127.0.0.1:8001/cancel/registrations/x?token=t",
            **extra,
        }
        return self.event(cls(**fields))


class Network:
    """A network's event stream with municipalities as its parties, as registration would
    write it: the contact in `personal` (opened, as the opener leaves it), or None once erased."""

    def __init__(self, *, language: str = "da", title: str = "Kulturmetropolen") -> None:
        self.id = uuid.uuid4()
        self.language = language
        self.title = title
        self.version = 0

    def event(self, payload: Payload, *, aggregate_id: uuid.UUID) -> tuple[Envelope, Payload]:
        self.version += 1
        return new_envelope(
            payload, aggregate_id=aggregate_id, aggregate_version=self.version, correlation_id="t"
        ), payload

    def created(self) -> tuple[Envelope, Payload]:
        created = NetworkCreated(
            network_id=self.id,
            title=self.title,
            language=self.language,
            max_companions=1,
            status="open",
        )
        return self.event(created, aggregate_id=self.id)

    def party(
        self,
        cls: type[PartyState],
        *,
        party_id: uuid.UUID | None = None,
        municipality: str = "Rødovre",
        language: str = "da",
        email: str | None = "mette@rodovre.example",
        **changes: Any,
    ) -> tuple[Envelope, Payload]:
        PERSONAL_DATA.update(("Mette Hansen", *([email] if email else [])))
        personal = (
            PersonalData(
                name="Mette Hansen",
                email=email,
                cancel_url="http://127.0.0.1:8001/parties/p/withdraw?token=secret-token",
            )
            if email
            else None
        )
        fields: dict[str, Any] = {
            "party_id": party_id or uuid.uuid4(),
            "network_id": self.id,
            "network_title": self.title,
            "municipality_id": uuid.uuid4(),
            "municipality": municipality,
            "country": "DK",
            "municipality_code": "175",
            "status": "applied",
            "applied_at": NOW,
            "contact_member_id": uuid.uuid4(),
            "language": language,
            "network_contact_email": "kultur@kl.example",
            "personal": personal,
            **changes,
        }
        party = cls(**fields)
        return self.event(party, aggregate_id=party.party_id)


@pytest.fixture
def handle(pool: asyncpg.Pool, settings: Settings) -> Callable[..., Any]:
    async def apply(*events: tuple[Envelope, Payload]) -> list[uuid.UUID]:
        queued = []
        for envelope, payload in events:
            async with pool.acquire() as conn, conn.transaction():
                queued += await handle_event(conn, settings, envelope, payload)
        return queued

    return apply
