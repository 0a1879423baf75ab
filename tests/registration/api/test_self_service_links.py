"""A person's self-service links: the token is theirs alone (never in an event or the event log),
it works until the meeting's current end however often the meeting moves, and what anyone can
type (an address) never rewrites what is stored about that person."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from registration.main import create_app
from registration.unit_of_work import Clock
from tests.builders import ORGANISER, member
from tests.registration.api.conftest import Api, registration_settings

TOKEN_IN_LINK = re.compile(r"token=([A-Za-z0-9._~%-]+)")


@dataclasses.dataclass(frozen=True)
class PinnedClock(Clock):
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(registration_settings(database_url), run_relay=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registration/api/v1"
    ) as client:
        yield client


def pin_clock(app: FastAPI, moment: datetime) -> None:
    app.state.context = dataclasses.replace(app.state.context, clock=PinnedClock(moment))


async def _event_log(client: httpx.AsyncClient) -> str:
    pages, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/events", params=params, headers=ORGANISER)
        assert page.status_code == 200, page.text
        pages.append(page.text)
        body = page.json()
        cursor = body["next_cursor"]
        if not cursor or not body["items"]:
            return "\n".join(pages)


async def test_no_cancel_token_reaches_the_event_log(client: httpx.AsyncClient) -> None:
    api = Api(client)
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=1)
    person = member()
    enrolled = await client.post(
        f"/networks/{network['network_id']}/enrolments", json={"member": person, "consent": True}
    )
    first = await client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
    )
    waiting = await client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": await api.enrolled(network["network_id"])},
    )
    await client.post(
        f"/registrations/{first.json()['registration_id']}/cancel",
        json={"token": first.json()["cancel_token"]},
    )
    handed_out = [enrolled.json()["cancel_token"], waiting.json()["cancel_token"]]

    log = await _event_log(client)

    assert "RegistrationPromoted" in log and "MemberEnrolled" in log
    assert not TOKEN_IN_LINK.findall(log)
    assert not [token for token in handed_out if token in log]


async def test_a_cancel_link_works_until_the_postponed_meeting_ends(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    api = Api(client)
    network = await api.network()
    meeting = await api.meeting(network["network_id"], days_ahead=2, open_to_public=True)
    stays, too_late = [
        (
            await client.post(
                f"/meetings/{meeting['meeting_id']}/registrations", json={"member": member()}
            )
        ).json()
        for _ in range(2)
    ]
    old_end = datetime.fromisoformat(meeting["ends_at"])
    moved = await client.patch(
        f"/meetings/{meeting['meeting_id']}",
        json={
            "starts_at": (old_end + timedelta(days=10)).isoformat(),
            "ends_at": (old_end + timedelta(days=10, hours=3)).isoformat(),
        },
        headers=ORGANISER,
    )
    assert moved.status_code == 200, moved.text

    pin_clock(app, old_end + timedelta(days=1))  # after the old end, before the new one
    cancelled = await client.post(
        f"/registrations/{stays['registration_id']}/cancel", json={"token": stays["cancel_token"]}
    )
    pin_clock(app, old_end + timedelta(days=11))  # after the new end
    refused = await client.post(
        f"/registrations/{too_late['registration_id']}/cancel",
        json={"token": too_late["cancel_token"]},
    )

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert refused.status_code == 403


async def test_a_sign_up_never_rewrites_what_is_stored_about_a_person(
    client: httpx.AsyncClient,
) -> None:
    api = Api(client)
    theirs = await api.network()
    meeting = await api.meeting(theirs["network_id"], open_to_public=True)
    person = member(name="Karen Blixen", municipality="Rungsted")
    registered = await client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
    )
    assert registered.status_code == 201
    elsewhere = await api.network(title="Et andet netværk")
    impostor = {**person, "name": "Mallory Forfalsker", "municipality": "Ondsted"}

    signed_up = await client.post(
        f"/networks/{elsewhere['network_id']}/enrolments",
        json={"member": impostor, "consent": True},
    )
    again = await client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": impostor}
    )
    roster = await client.get(f"/meetings/{meeting['meeting_id']}/registrations", headers=ORGANISER)

    assert signed_up.status_code == 201
    [row] = roster.json()["items"]
    assert (row["name"], row["municipality"]) == ("Karen Blixen", "Rungsted")
    assert again.status_code == 409
    assert registered.json()["registration_id"] not in again.text


def _body(person: dict[str, Any]) -> dict[str, Any]:
    return {"member": person, "companions": []}


async def test_a_stored_answer_goes_back_only_to_the_caller_that_made_it(
    client: httpx.AsyncClient,
) -> None:
    api = Api(client)
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    path = f"/meetings/{meeting['meeting_id']}/registrations"
    person = member()
    key = {"Idempotency-Key": "shared-key-1"}

    by_organiser = await client.post(path, json=_body(person), headers={**key, **ORGANISER})
    by_stranger = await client.post(path, json=_body(person), headers=key)
    someone_else = await client.post(path, json=_body(member()), headers=key)

    assert by_organiser.status_code == 201
    assert by_stranger.status_code == 409  # acted afresh: the person is registered already
    assert by_organiser.json()["cancel_token"] not in by_stranger.text
    assert someone_else.status_code == 201  # the same key from another person is not a replay
    assert someone_else.json()["registration_id"] != by_organiser.json()["registration_id"]


def test_tokens_are_found_by_the_pattern_this_file_looks_for() -> None:
    # The event-log test is only as good as its pattern: it must see a real link's token.
    link = "https://tilmeld.example/cancel/registrations/1?token=1767225600.Ab-_9x"
    assert TOKEN_IN_LINK.findall(link) == ["1767225600.Ab-_9x"]
