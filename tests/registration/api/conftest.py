from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from registration.main import create_app
from registration.settings import Settings
from tests.builders import (
    ORGANISER,
    ORGANISER_TOKEN,
    REPORTING_TOKEN,
    meeting_body,
    member,
    network_body,
)


@dataclass
class Api:
    """The registration API in-process (real Postgres; the relay is off, events stay in the
    outbox where tests read them)."""

    client: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport | None = None  # for another service to reach this app

    async def network(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/networks", json=network_body(**overrides), headers=ORGANISER
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def meeting(self, network_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/networks/{network_id}/meetings", json=meeting_body(**overrides), headers=ORGANISER
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def enrolled(self, network_id: str, **member_overrides: Any) -> dict[str, Any]:
        person = member(**member_overrides)
        response = await self.client.post(
            f"/networks/{network_id}/enrolments", json={"member": person, "consent": True}
        )
        assert response.status_code == 201, response.text
        return person


def registration_settings(database_url: str, **overrides: Any) -> Settings:
    """Rate limits off unless a test turns them on: most tests post from one address."""
    chosen: dict[str, Any] = {
        "rate_limit_per_address": "",
        "rate_limit_per_email": "",
        # No other service runs in these tests (and a local `make run` must not answer).
        "notification_url": "http://127.0.0.1:9",
        "reporting_url": "http://127.0.0.1:9",
    }
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        organiser_token=ORGANISER_TOKEN,
        reporting_token=REPORTING_TOKEN,
        token_secret="test-secret",
        **(chosen | overrides),
    )


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    app = create_app(registration_settings(database_url), run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registration/api/v1"
        ) as client:
            yield Api(client, transport)
