"""Waitlist offers through the HTTP API: the offer shown and accepted with the link's token,
problems for a lapsed, cancelled or unknown offer, nothing changed by a refused request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from registration.main import create_app
from registration.service import offer_expiry, offers
from registration.unit_of_work import Clock, ServiceContext, Transactions
from tests.builders import ORGANISER
from tests.registration.api.conftest import Api, registration_settings


@dataclass(frozen=True)
class MovableClock(Clock):
    """The app's time, which a test moves forward."""

    ahead: list[timedelta] = field(default_factory=lambda: [timedelta()])

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead[0]

    def move_to(self, moment: datetime) -> None:
        self.ahead[0] = moment - datetime.now(UTC)


@dataclass
class OfferApi(Api):
    clock: MovableClock = field(default_factory=MovableClock)
    context: ServiceContext | None = None
    transactions: Transactions | None = None

    def token(self, registration_id: str) -> str:
        assert self.context is not None
        return offers.offer_token(self.context, uuid.UUID(registration_id))

    async def register(self, meeting_id: str, network_id: str) -> dict[str, Any]:
        person = await self.enrolled(network_id)
        response = await self.client.post(
            f"/meetings/{meeting_id}/registrations", json={"member": person}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def cancel(self, registration: dict[str, Any]) -> None:
        response = await self.client.post(
            f"/registrations/{registration['registration_id']}/cancel",
            json={"token": registration["cancel_token"]},
        )
        assert response.status_code == 200, response.text

    async def offer(self, registration_id: str, token: str | None = None) -> httpx.Response:
        return await self.client.get(
            f"/registrations/{registration_id}/offer",
            params={"token": self.token(registration_id) if token is None else token},
        )

    async def accept(
        self, registration_id: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/registrations/{registration_id}/offer/accept",
            json={"token": self.token(registration_id) if token is None else token},
            **kwargs,
        )


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[OfferApi]:
    clock = MovableClock()
    app = create_app(registration_settings(database_url), run_relay=False, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registration/api/v1"
        ) as client:
            yield OfferApi(client, transport, clock, app.state.context, app.state.transactions)


async def full_meeting_with_an_offer(
    api: OfferApi, **meeting: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A meeting of one seat under the offer rule: its seat freed and offered to `offered`;
    `behind` waits next."""
    network = await api.network(waitlist="offer", offer_hours=12)
    network_id = network["network_id"]
    meeting_id = (await api.meeting(network_id, capacity=1, **meeting))["meeting_id"]
    seated = await api.register(meeting_id, network_id)
    offered = await api.register(meeting_id, network_id)
    behind = await api.register(meeting_id, network_id)
    await api.cancel(seated)
    return meeting_id, offered, behind


async def test_the_link_shows_the_offer_and_until_when_it_holds(api: OfferApi) -> None:
    meeting_id, offered, behind = await full_meeting_with_an_offer(api)

    shown = await api.offer(offered["registration_id"])
    not_offered = await api.offer(behind["registration_id"])

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["offer"], body["status"], body["meeting_id"]) == ("open", "waitlisted", meeting_id)
    expires = datetime.fromisoformat(body["offer_expires_at"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
    assert "name" not in body and "email" not in body
    assert not_offered.json()["offer"] == "none"
    # The seat is held: not taken, and not available to anyone else either.
    seen = (await api.client.get(f"/meetings/{meeting_id}")).json()
    assert (seen["seats_taken"], seen["seats_available"], seen["waitlist_length"]) == (0, 0, 2)


async def test_a_missing_or_wrong_token_is_a_403_problem(api: OfferApi) -> None:
    _, offered, _ = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]

    missing = await api.client.get(f"/registrations/{registration_id}/offer")
    wrong = await api.accept(registration_id, token=offered["cancel_token"])
    unknown = await api.offer(str(uuid.uuid4()), token="0.abc")

    assert (missing.status_code, wrong.status_code, unknown.status_code) == (403, 403, 404)
    assert wrong.headers["content-type"] == "application/problem+json"
    assert (await api.offer(registration_id)).json()["offer"] == "open"


async def test_accepting_confirms_and_again_answers_alike(api: OfferApi) -> None:
    meeting_id, offered, _ = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]

    first = await api.accept(registration_id)
    again = await api.accept(registration_id)

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "confirmed"
    assert again.status_code == 200 and again.json() == first.json()
    assert (await api.offer(registration_id)).json()["offer"] == "accepted"
    seen = (await api.client.get(f"/meetings/{meeting_id}")).json()
    assert (seen["seats_taken"], seen["waitlist_length"]) == (1, 1)


async def test_the_token_may_come_as_a_query_parameter(api: OfferApi) -> None:
    _, offered, _ = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]

    response = await api.client.post(
        f"/registrations/{registration_id}/offer/accept",
        params={"token": api.token(registration_id)},
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"


async def test_an_idempotency_key_replays_the_acceptance(api: OfferApi) -> None:
    _, offered, _ = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = await api.accept(registration_id, headers=key)
    replay = await api.accept(registration_id, headers=key)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json() == first.json()


async def test_accepting_after_the_offer_lapsed_is_a_409_problem(api: OfferApi) -> None:
    _, offered, behind = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]
    expires = datetime.fromisoformat((await api.offer(registration_id)).json()["offer_expires_at"])
    api.clock.move_to(expires + timedelta(minutes=1))

    shown = await api.offer(registration_id)
    refused = await api.accept(registration_id)

    assert shown.json()["offer"] == "expired"
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "offer-expired" in refused.json()["type"]
    # Nothing changed by the refusal: still waiting for the scheduler to pass the seat on.
    assert shown.json()["status"] == "waitlisted"
    assert (await api.offer(behind["registration_id"])).json()["offer"] == "none"

    # The scheduler then expires it (by the same clock) and offers the seat to the next person.
    assert api.context is not None and api.transactions is not None
    assert await offer_expiry.expire_lapsed_offers(api.transactions, api.context) == 1
    assert (await api.offer(registration_id)).json()["status"] == "cancelled"
    assert (await api.offer(behind["registration_id"])).json()["offer"] == "open"
    assert (await api.accept(registration_id)).status_code == 409


async def test_a_cancelled_registration_cannot_accept(api: OfferApi) -> None:
    _, offered, behind = await full_meeting_with_an_offer(api)
    await api.cancel(offered)

    refused = await api.accept(offered["registration_id"])

    assert refused.status_code == 409
    assert "already-cancelled" in refused.json()["type"]
    assert (await api.offer(offered["registration_id"])).json()["offer"] == "declined"
    assert (await api.offer(behind["registration_id"])).json()["offer"] == "open"


async def test_a_newcomer_waits_behind_the_seat_on_offer(api: OfferApi) -> None:
    meeting_id, _, _ = await full_meeting_with_an_offer(api)
    network_id = (await api.client.get(f"/meetings/{meeting_id}")).json()["network_id"]

    response = await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={"member": await api.enrolled(network_id)},
    )

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["waitlist_position"]) == ("waitlisted", 3)


async def test_a_meeting_set_to_offer_in_an_automatic_network_offers(api: OfferApi) -> None:
    network_id = (await api.network())["network_id"]
    meeting_id = (await api.meeting(network_id, capacity=1))["meeting_id"]
    patched = await api.client.patch(
        f"/meetings/{meeting_id}", json={"waitlist": "offer", "offer_hours": 3}, headers=ORGANISER
    )
    assert patched.status_code == 200, patched.text
    seated = await api.register(meeting_id, network_id)
    waiting = await api.register(meeting_id, network_id)

    await api.cancel(seated)

    body = (await api.offer(waiting["registration_id"])).json()
    assert body["offer"] == "open"
    expires = datetime.fromisoformat(body["offer_expires_at"])
    assert expires - datetime.now(UTC) <= timedelta(hours=3)


async def test_the_offer_page_asks_and_only_its_button_takes_the_seat(api: OfferApi) -> None:
    _, offered, _ = await full_meeting_with_an_offer(api)
    registration_id = offered["registration_id"]
    token = api.token(registration_id)
    site = httpx.AsyncClient(transport=api.transport, base_url="http://registration")

    shown = await site.get(f"/offer/registrations/{registration_id}", params={"token": token})
    still = (await api.offer(registration_id)).json()
    taken = await site.post(f"/offer/registrations/{registration_id}", data={"token": token})
    wrong = await site.post(f"/offer/registrations/{registration_id}", data={"token": "0.x"})

    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert f'value="{token}"' in shown.text and "<button" in shown.text
    assert still["offer"] == "open"  # showing the page took nothing
    assert taken.status_code == 200 and "<button" not in taken.text
    assert (await api.offer(registration_id)).json()["offer"] == "accepted"
    assert wrong.status_code == 403
