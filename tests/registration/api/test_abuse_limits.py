"""One client over the limit gets 429 with Retry-After while others still get through; one
email cannot be used to flood sign-ups; nobody holds more registrations than the cap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx

from registration.main import create_app
from tests.builders import ORGANISER, member
from tests.registration.api.conftest import Api, registration_settings

ClientAt = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def _service(database_url: str, **settings: Any) -> AsyncIterator[ClientAt]:
    """The API in-process, and a way to talk to it from any client address."""
    app = create_app(registration_settings(database_url, **settings), run_relay=False)
    async with app.router.lifespan_context(app):

        def client_at(address: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://registration/api/v1")

        yield client_at


async def _open_meeting(client: httpx.AsyncClient) -> str:
    api = Api(client)
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=100, open_to_public=True)
    return str(meeting["meeting_id"])


async def _register(
    client: httpx.AsyncClient, meeting: str, person: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        f"/meetings/{meeting}/registrations", json={"member": person}, headers=headers
    )


async def test_one_address_over_the_limit_gets_429_while_others_get_through(
    database_url: str,
) -> None:
    limited = _service(database_url, rate_limit_per_address="5/minute")
    async with limited as client_at, client_at("198.51.100.7") as flooder:
        meeting = await _open_meeting(flooder)
        answers = [await _register(flooder, meeting, member()) for _ in range(8)]
        assert [a.status_code for a in answers] == [201] * 5 + [429] * 3
        refused = answers[-1]
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["status"] == 429

        async with client_at("203.0.113.9") as neighbour:
            assert (await _register(neighbour, meeting, member())).status_code == 201
        # Organisers entering people themselves are not limited.
        assert (await _register(flooder, meeting, member(), **ORGANISER)).status_code == 201
        roster = await flooder.get(f"/meetings/{meeting}/registrations", headers=ORGANISER)
        assert len(roster.json()["items"]) == 7  # the refused ones changed nothing


async def test_one_email_cannot_be_used_to_flood_sign_ups(database_url: str) -> None:
    limited = _service(database_url, rate_limit_per_email="2/hour")
    async with (
        limited as client_at,
        client_at("192.0.2.1") as first,
        client_at("192.0.2.2") as second,
    ):
        meetings = [await _open_meeting(first) for _ in range(3)]
        person = member()
        assert (await _register(first, meetings[0], person)).status_code == 201
        assert (await _register(second, meetings[1], person)).status_code == 201
        third = await _register(second, meetings[2], person)  # another address, same email
        assert third.status_code == 429
        assert "email" in third.json()["detail"]


async def test_retrying_one_request_with_its_key_never_counts_against_the_limits(
    database_url: str,
) -> None:
    limited = _service(database_url, rate_limit_per_email="1/hour", rate_limit_per_address="2/hour")
    async with limited as client_at, client_at("192.0.2.4") as client:
        meeting = await _open_meeting(client)
        person = member()
        key = {"Idempotency-Key": "flaky-network-1"}
        first = await _register(client, meeting, person, **key)
        retries = [await _register(client, meeting, person, **key) for _ in range(4)]

        assert first.status_code == 201
        assert [r.status_code for r in retries] == [201] * 4
        assert all(r.json() == first.json() for r in retries)
        # A new request still counts: this address has one left, this email none.
        assert (await _register(client, meeting, person)).status_code == 429


async def test_nobody_holds_more_active_registrations_than_the_cap(database_url: str) -> None:
    capped = _service(database_url, max_active_registrations_per_email=2)
    async with capped as client_at, client_at("192.0.2.3") as client:
        meetings = [await _open_meeting(client) for _ in range(3)]
        person = member()
        for meeting in meetings[:2]:
            assert (await _register(client, meeting, person)).status_code == 201
        over = await _register(client, meetings[2], person)
        assert over.status_code == 409
        assert over.json()["type"].endswith("registration-cap")

        # Cancelling one frees a place under the cap.
        roster = await client.get(f"/meetings/{meetings[0]}/registrations", headers=ORGANISER)
        first = roster.json()["items"][0]["registration_id"]
        cancelled = await client.post(f"/registrations/{first}/cancel", headers=ORGANISER)
        assert cancelled.status_code == 200
        assert (await _register(client, meetings[2], person)).status_code == 201
