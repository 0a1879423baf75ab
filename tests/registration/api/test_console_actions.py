"""Irreversible console actions ask first and say what happened: cancelling a meeting says how
many people will be emailed and needs a second yes; a change says who is being told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.builders import ORGANISER_TOKEN, companion, member
from tests.registration.api.conftest import Api


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def _meeting_with_people(api: Api) -> dict[str, str]:
    network = await api.network(max_companions=1)
    meeting = await api.meeting(network["network_id"], capacity=2, open_to_public=True)
    bodies = [
        {"member": member(), "companions": [companion("Ole", email="ole@roskilde.example")]},
        {"member": member()},  # waitlisted: told too
    ]
    for body in bodies:
        answer = await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations", json=body
        )
        assert answer.status_code == 201, answer.text
    return meeting


async def test_cancelling_asks_first_and_says_how_many_are_emailed(api: Api) -> None:
    meeting = await _meeting_with_people(api)
    console = await _console(api)
    path = f"/console/meetings/{meeting['meeting_id']}"

    asked = await console.post(f"{path}/cancel?lang=en", data={"reason": "Sygdom"})

    assert asked.status_code == 200
    assert "3 people registered or waiting will be emailed" in asked.text
    assert "Sygdom" in asked.text
    still = await api.client.get(f"/meetings/{meeting['meeting_id']}")
    assert still.json()["status"] == "scheduled"  # nothing happened yet

    done = await console.post(
        f"{path}/cancel", data={"reason": "Sygdom", "confirmed": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?cancelled=3")
    shown = await console.get(done.headers["location"] + "&lang=en")
    assert "This meeting is cancelled." in shown.text
    assert "3 people are being emailed about it." in shown.text
    assert f"{path}/check-in" not in shown.text
    cancelled = await api.client.get(f"/meetings/{meeting['meeting_id']}")
    assert cancelled.json()["status"] == "cancelled"


async def test_a_change_says_who_is_being_told_and_a_change_nobody_sees_says_so(
    api: Api,
) -> None:
    meeting = await _meeting_with_people(api)
    console = await _console(api)
    path = f"/console/meetings/{meeting['meeting_id']}"
    form = await console.get(f"{path}?lang=en")
    starts = datetime.fromisoformat(meeting["starts_at"]).astimezone(UTC)
    values = {
        "title": meeting["title"],
        "starts_at": (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "UTC",
        "capacity": "2",
        "open_to_public": "on",
    }
    assert form.status_code == 200

    moved = await console.post(path, data=values, follow_redirects=False)
    assert moved.headers["location"].endswith("saved=1&told=3"), moved.headers["location"]
    told = await console.get(moved.headers["location"] + "&lang=en")
    assert "The 3 people registered are being told of the change." in told.text

    resized = await console.post(path, data={**values, "capacity": "5"}, follow_redirects=False)
    assert resized.headers["location"].endswith("saved=1&told=0")
    quiet = await console.get(resized.headers["location"] + "&lang=en")
    assert "Nobody needs to be told: nothing they see changed." in quiet.text
