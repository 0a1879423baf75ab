"""Meeting registrations through the HTTP API, against a real Postgres."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.builders import ORGANISER, companion, member
from tests.registration.api.conftest import Api


async def register(
    api: Api, meeting_id: str, person: dict[str, Any], companions: int = 0, **kwargs: Any
) -> Any:
    return await api.client.post(
        f"/meetings/{meeting_id}/registrations",
        json={
            "member": person,
            "companions": [companion(f"Ledsager {i}") for i in range(companions)],
        },
        **kwargs,
    )


async def test_a_registration_with_a_companion_takes_two_seats(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=10)
    person = await api.enrolled(network["network_id"])

    response = await register(api, meeting["meeting_id"], person, companions=1)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert response.json()["seats"] == 2
    seen = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    assert (seen["seats_taken"], seen["seats_available"]) == (2, 8)


async def test_a_full_meeting_waitlists_the_next_registration(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=2)
    first = await api.enrolled(network["network_id"])
    second = await api.enrolled(network["network_id"])
    await register(api, meeting["meeting_id"], first, companions=1)

    response = await register(api, meeting["meeting_id"], second)

    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted"
    assert response.json()["waitlist_position"] == 1
    seen = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    assert seen["waitlist_length"] == 1


async def test_cancelling_promotes_the_waitlist_in_order_each_one_that_fits(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=2)
    holder, other, big_party, single = [await api.enrolled(network["network_id"]) for _ in range(4)]
    held = (await register(api, meeting["meeting_id"], holder)).json()
    await register(api, meeting["meeting_id"], other)
    party = (await register(api, meeting["meeting_id"], big_party, companions=1)).json()
    one = (await register(api, meeting["meeting_id"], single)).json()
    assert (party["status"], one["status"]) == ("waitlisted", "waitlisted")

    # One seat frees: the two-seat party waiting first does not fit, the single behind it does.
    cancelled = await api.client.post(
        f"/registrations/{held['registration_id']}/cancel", json={"token": held["cancel_token"]}
    )

    assert cancelled.status_code == 200
    roster = (
        await api.client.get(f"/meetings/{meeting['meeting_id']}/registrations", headers=ORGANISER)
    ).json()["items"]
    status = {r["registration_id"]: r["status"] for r in roster}
    assert status[one["registration_id"]] == "confirmed"
    assert status[party["registration_id"]] == "waitlisted"


async def test_more_capacity_promotes_the_waitlist(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=1)
    await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))
    waiting = (
        await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))
    ).json()

    response = await api.client.patch(
        f"/meetings/{meeting['meeting_id']}", json={"capacity": 2}, headers=ORGANISER
    )

    assert response.status_code == 200
    assert response.json()["seats_taken"] == 2
    assert response.json()["waitlist_length"] == 0
    promoted = await api.client.get(
        f"/registrations/{waiting['registration_id']}", headers=ORGANISER
    )
    assert promoted.json()["status"] == "confirmed"


async def test_capacity_below_the_confirmed_seats_is_refused(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=3)
    await register(
        api, meeting["meeting_id"], await api.enrolled(network["network_id"]), companions=1
    )

    response = await api.client.patch(
        f"/meetings/{meeting['meeting_id']}", json={"capacity": 1}, headers=ORGANISER
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()["capacity"] == 3


async def test_more_companions_than_the_network_allows_is_invalid(api: Api) -> None:
    network = await api.network(max_companions=1)
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])

    response = await register(api, meeting["meeting_id"], person, companions=2)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "companions"


async def test_only_members_may_register_unless_the_meeting_is_open_to_public(api: Api) -> None:
    network = await api.network()
    members_only = await api.meeting(network["network_id"])
    conference = await api.meeting(network["network_id"], open_to_public=True)
    outsider = member(name="Public Person")

    refused = await register(api, members_only["meeting_id"], outsider)
    accepted = await register(api, conference["meeting_id"], outsider)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("not-enrolled")
    assert accepted.status_code == 201


async def test_a_second_active_registration_of_the_same_person_is_a_conflict(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])
    first = (await register(api, meeting["meeting_id"], person)).json()

    again = await register(api, meeting["meeting_id"], {**person, "email": person["email"].upper()})

    assert again.status_code == 409
    assert again.json()["type"].endswith("already-registered")
    assert first["registration_id"] not in again.text


async def test_registration_after_the_deadline_is_a_conflict(api: Api) -> None:
    network = await api.network()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    meeting = await api.meeting(network["network_id"], registration_deadline=past)

    response = await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))

    assert response.status_code == 409
    assert response.json()["type"].endswith("deadline-passed")


async def test_a_cancelled_meeting_takes_no_registrations(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    await api.client.post(f"/meetings/{meeting['meeting_id']}/cancel", headers=ORGANISER)

    response = await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))

    assert response.status_code == 409
    assert response.json()["type"].endswith("meeting-cancelled")


async def test_a_wrong_cancel_token_changes_nothing(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    booked = (
        await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))
    ).json()

    response = await api.client.post(
        f"/registrations/{booked['registration_id']}/cancel", json={"token": "0.forged"}
    )

    assert response.status_code == 403
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()["seats_taken"] == 1


async def test_check_in_records_attendance_once(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    booked = (
        await register(api, meeting["meeting_id"], await api.enrolled(network["network_id"]))
    ).json()

    first = await api.client.post(
        f"/registrations/{booked['registration_id']}/check-in", headers=ORGANISER
    )
    second = await api.client.post(
        f"/registrations/{booked['registration_id']}/check-in", headers=ORGANISER
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["checked_in_at"] == second.json()["checked_in_at"] is not None


async def test_a_hundred_concurrent_registrations_never_overbook_twenty_seats(
    api: Api, database_url: str
) -> None:
    network = await api.network(max_companions=1)
    meeting = await api.meeting(network["network_id"], capacity=20)
    people = [await api.enrolled(network["network_id"]) for _ in range(100)]

    responses = await asyncio.gather(
        *(
            register(api, meeting["meeting_id"], person, companions=i % 3 == 0)
            for i, person in enumerate(people)
        )
    )

    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    confirmed = [r.json() for r in responses if r.json()["status"] == "confirmed"]
    waitlisted = [r.json() for r in responses if r.json()["status"] == "waitlisted"]
    seats = sum(r["seats"] for r in confirmed)
    assert seats <= 20
    # Exactly full whenever a waiting registration could still have fitted.
    smallest_waiting = min(r["seats"] for r in waitlisted)
    assert seats == 20 or 20 - seats < smallest_waiting
    assert len(confirmed) + len(waitlisted) == 100

    # Cancelling confirmed registrations promotes from the waitlist, still never overbooking.
    for booked in confirmed[:5]:
        await api.client.post(
            f"/registrations/{booked['registration_id']}/cancel", headers=ORGANISER
        )
    conn = await asyncpg.connect(database_url)
    try:
        taken, capacity, counted = await conn.fetchrow(
            "SELECT m.seats_taken, m.capacity, (SELECT sum(seats) FROM registration.registrations"
            " r WHERE r.meeting_id = m.id AND r.status = 'confirmed')"
            " FROM registration.meetings m WHERE m.id = $1",
            meeting["meeting_id"],
        )
    finally:
        await conn.close()
    assert taken == counted <= capacity
    assert taken >= capacity - 1  # promotion refilled the freed seats (a 2-seat party may wait)
