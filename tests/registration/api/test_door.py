"""The door: members and each companion on lines of their own, counted as the people they are,
found by either name; a tick taken back when it was the wrong line; each change an event."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx

from tests.builders import ORGANISER, ORGANISER_TOKEN, companion, member
from tests.registration.api.conftest import Api


async def _console(api: Api) -> httpx.AsyncClient:
    console = httpx.AsyncClient(transport=api.client._transport, base_url="http://registration")
    signed_in = await console.post("/console/login", data={"token": ORGANISER_TOKEN})
    assert signed_in.status_code == 303, signed_in.text
    return console


async def _events(database_url: str, *types: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope FROM registration.outbox WHERE event_type = ANY($1) ORDER BY id",
            list(types),
        )
    finally:
        await conn.close()
    return [
        json.loads(row["envelope"]) if isinstance(row["envelope"], str) else row["envelope"]
        for row in rows
    ]


async def _booked(api: Api) -> tuple[str, str]:
    network = await api.network(max_companions=2)
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    answer = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={
            "member": member(name="Lars Konsulent"),
            "companions": [companion("Ole Ledsager"), companion("Pia Klimarådgiver")],
        },
    )
    assert answer.status_code == 201, answer.text
    other = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": member(name="Ingrid Nordmann")},
    )
    assert other.status_code == 201
    return str(meeting["meeting_id"]), str(answer.json()["registration_id"])


async def test_the_door_lists_each_companion_and_counts_people(api: Api) -> None:
    meeting_id, _ = await _booked(api)
    console = await _console(api)

    door = await console.get(f"/console/meetings/{meeting_id}/check-in?lang=en")

    assert '<span id="expected">4</span>' in door.text  # 2 members and 2 companions
    assert door.text.count('<li id="r-') == 4
    assert "Companion of Lars Konsulent" in door.text
    found = await console.get(f"/console/meetings/{meeting_id}/check-in?q=pia&lang=en")
    assert found.text.count('<li id="r-') == 1 and "Pia Klimarådgiver" in found.text
    by_member = await console.get(f"/console/meetings/{meeting_id}/check-in?q=lars&lang=en")
    assert by_member.text.count('<li id="r-') == 3  # Lars and both his companions
    nobody = await console.get(f"/console/meetings/{meeting_id}/check-in?q=zzz&lang=en")
    assert "Nobody on the list matches that name." in nobody.text
    assert 'id="no-matches" class="no-matches" role="status"' in nobody.text


async def test_a_companion_is_ticked_on_their_own_and_a_mistake_taken_back(
    api: Api, database_url: str
) -> None:
    meeting_id, registration_id = await _booked(api)
    console = await _console(api)

    ticked = await console.post(
        f"/console/registrations/{registration_id}/check-in",
        data={"companion": "1"},
        headers={"Accept": "application/json"},
    )
    again = await console.post(
        f"/console/registrations/{registration_id}/check-in?companion=1",
        headers={"Accept": "application/json"},
    )

    assert ticked.json()["companions_arrived"] == [1] == again.json()["companions_arrived"]
    assert ticked.json()["checked_in_at"] is None  # Lars himself has not come
    door = await console.get(f"/console/meetings/{meeting_id}/check-in?lang=en")
    assert 'Arrived: <strong id="arrived">1</strong>' in door.text

    member_in = await api.client.post(
        f"/registrations/{registration_id}/check-in", headers=ORGANISER
    )
    assert member_in.status_code == 200 and member_in.json()["checked_in_at"]
    undone = await api.client.delete(
        f"/registrations/{registration_id}/check-in", headers=ORGANISER
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["checked_in_at"] is None
    assert undone.json()["companions_arrived"] == [1]
    plain = await console.post(
        f"/console/registrations/{registration_id}/check-in/undo", data={"companion": "1"}
    )
    assert plain.status_code == 303 and plain.headers["location"].endswith(
        f"#r-{registration_id}-c1"
    )
    door = await console.get(f"/console/meetings/{meeting_id}/check-in?lang=en")
    assert 'Arrived: <strong id="arrived">0</strong>' in door.text

    events = await _events(
        database_url, "CompanionCheckedIn", "AttendanceRecorded", "AttendanceUndone"
    )
    assert [(e["event_type"], e["payload"].get("companion_index")) for e in events] == [
        ("CompanionCheckedIn", 1),
        ("AttendanceRecorded", None),
        ("AttendanceUndone", None),
        ("AttendanceUndone", 1),
    ]


async def test_a_companion_who_does_not_exist_is_a_clear_error(api: Api) -> None:
    _, registration_id = await _booked(api)

    answer = await api.client.post(
        f"/registrations/{registration_id}/check-in?companion=5", headers=ORGANISER
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "companion" in answer.text


async def test_a_cancelled_meeting_has_no_check_in_to_tap(api: Api) -> None:
    meeting_id, _ = await _booked(api)
    cancelled = await api.client.post(
        f"/meetings/{meeting_id}/cancel", json={"reason": "Sygdom"}, headers=ORGANISER
    )
    assert cancelled.status_code == 200, cancelled.text
    console = await _console(api)

    door = await console.get(f"/console/meetings/{meeting_id}/check-in?lang=en")

    assert "The meeting is cancelled: there is no check-in." in door.text
    assert '/check-in"' not in door.text.split("<main", 1)[1]
    assert "check-in.js" not in door.text
