"""A meeting that was held, recorded afterwards (an organisation's archive, the demo's German
series): who registered and who came keep their own dates, in the roster and in every event,
and the pages show it as held, not as coming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.builders import ORGANISER, ORGANISER_TOKEN, member
from tests.registration.api.conftest import Api

ROOT = "http://registration"
HELD_AT = datetime(2024, 5, 17, 8, tzinfo=UTC)


def held_meeting(people: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """The first series meeting of seeds/004, registered for in the three weeks before it."""
    return {
        "title": "Personal und Aufgabenverständnis",
        "starts_at": HELD_AT.isoformat(),
        "ends_at": (HELD_AT + timedelta(hours=3)).isoformat(),
        "timezone": "Europe/Berlin",
        "location": "Münster",
        "capacity": 20,
        "registrations": [
            {
                "member": person,
                "registered_at": (HELD_AT - timedelta(days=21 - 7 * i)).isoformat(),
                "attended": i < 2,
            }
            for i, person in enumerate(people)
        ],
        **overrides,
    }


async def record(api: Api, network_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await api.client.post(
        f"/networks/{network_id}/held-meetings", json=body, headers=ORGANISER
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_a_held_meeting_keeps_its_own_dates_in_the_roster_and_every_event(
    api: Api, database_url: str
) -> None:
    network = await api.network(language="de")
    people = [member(municipality=m) for m in ("Münster", "Bielefeld", "Hamm")]

    meeting = await record(api, network["network_id"], held_meeting(people))

    roster = await api.client.get(
        f"/meetings/{meeting['meeting_id']}/registrations", headers=ORGANISER
    )
    dates = [(item["registered_at"], item["checked_in_at"]) for item in roster.json()["items"]]
    came = HELD_AT.isoformat().replace("+00:00", "Z")
    assert dates == [
        ("2024-04-26T08:00:00Z", came),
        ("2024-05-03T08:00:00Z", came),
        ("2024-05-10T08:00:00Z", None),
    ]
    assert meeting["seats_taken"] == 3
    conn = await asyncpg.connect(database_url)
    try:
        events = await conn.fetch(
            "SELECT event_type, (envelope->>'occurred_at')::timestamptz AS occurred_at "
            "FROM registration.outbox ORDER BY id"
        )
    finally:
        await conn.close()
    when = {}
    for event in events:
        when.setdefault(event["event_type"], []).append(event["occurred_at"])
    registered = [HELD_AT - timedelta(days=d) for d in (21, 14, 7)]
    assert when["MeetingScheduled"] == [registered[0]]
    assert when["MemberEnrolled"] == registered
    assert when["RegistrationConfirmed"] == registered
    assert when["AttendanceRecorded"] == [HELD_AT, HELD_AT]


async def test_a_member_of_an_earlier_held_meeting_is_enrolled_once(api: Api) -> None:
    network = await api.network(language="de")
    person = member(municipality="Münster")
    await record(api, network["network_id"], held_meeting([person]))
    later = HELD_AT + timedelta(days=187)

    await record(
        api,
        network["network_id"],
        held_meeting(
            [],
            title="Lokale Vernetzung und Netzwerke",
            starts_at=later.isoformat(),
            ends_at=(later + timedelta(hours=3)).isoformat(),
            registrations=[{"member": person, "registered_at": HELD_AT.isoformat()}],
        ),
    )

    enrolments = await api.client.get(
        f"/networks/{network['network_id']}/enrolments", headers=ORGANISER
    )
    assert [e["enrolled_at"] for e in enrolments.json()["items"]] == ["2024-04-26T08:00:00Z"]


async def test_a_meeting_not_yet_over_is_not_recorded_as_held(api: Api) -> None:
    network = await api.network()
    soon = datetime.now(UTC) + timedelta(days=3)

    answer = await api.client.post(
        f"/networks/{network['network_id']}/held-meetings",
        json=held_meeting(
            [], starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=2)).isoformat()
        ),
        headers=ORGANISER,
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "ends_at"
    listed = await api.client.get(f"/networks/{network['network_id']}/meetings")
    assert listed.json()["items"] == []


async def test_a_registration_dated_after_the_meeting_began_is_refused(api: Api) -> None:
    network = await api.network()
    body = held_meeting([member()])
    body["registrations"][0]["registered_at"] = (HELD_AT + timedelta(hours=1)).isoformat()

    answer = await api.client.post(
        f"/networks/{network['network_id']}/held-meetings", json=body, headers=ORGANISER
    )

    assert answer.status_code == 422


async def test_the_pages_show_a_held_meeting_as_held_not_as_coming(api: Api) -> None:
    network = await api.network(language="en")
    coming = await api.meeting(network["network_id"], title="Klima og kultur")
    held = await record(api, network["network_id"], held_meeting([member()]))

    network_page = await api.client.get(
        f"{ROOT}/networks/{network['network_id']}", params={"lang": "en"}
    )
    meeting_page = await api.client.get(
        f"{ROOT}/meetings/{held['meeting_id']}", params={"lang": "en"}
    )

    coming_part, past_part = network_page.text.split("Past meetings")
    assert coming["title"] in coming_part and held["title"] not in coming_part
    assert held["title"] in past_part and "The meeting has taken place." in past_part
    assert "The meeting has taken place." in meeting_page.text
    assert "seats left" not in meeting_page.text
    assert 'action="/meetings/' not in meeting_page.text


async def test_the_console_marks_a_held_meeting_as_held(api: Api) -> None:
    network = await api.network(language="en")
    await api.meeting(network["network_id"], title="Klima og kultur")
    await record(api, network["network_id"], held_meeting([member()]))
    console = httpx.AsyncClient(transport=api.client._transport, base_url=ROOT)
    assert (await console.post("/console/login", data={"token": ORGANISER_TOKEN})).is_redirect

    page = await console.get(f"/console/networks/{network['network_id']}")
    await console.aclose()

    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in page.text.split("<tr>")[2:]}
    assert "Held" in rows["Personal und Aufgabenverständnis"]
    assert "Held" not in rows["Klima og kultur"]
