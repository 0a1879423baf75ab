"""Bad input and missing credentials: clear problem details, and nothing changes."""

from __future__ import annotations

import re
import uuid

import asyncpg
import httpx

from registration.main import create_app
from tests.builders import ORGANISER, REPORTING, companion, meeting_body, member, network_body
from tests.registration.api.conftest import Api, registration_settings


async def test_unknown_fields_are_rejected_naming_the_field(api: Api) -> None:
    response = await api.client.post(
        "/networks", json={**network_body(), "colour": "green"}, headers=ORGANISER
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
    assert problem["errors"][0]["field"] == "colour"


async def test_a_meeting_that_ends_before_it_starts_is_invalid(api: Api) -> None:
    network = await api.network()
    body = meeting_body()
    body["ends_at"] = body["starts_at"]

    response = await api.client.post(
        f"/networks/{network['network_id']}/meetings", json=body, headers=ORGANISER
    )

    assert response.status_code == 422


async def test_enrolment_needs_consent_and_a_valid_email(api: Api) -> None:
    network = await api.network()
    no_consent = await api.client.post(
        f"/networks/{network['network_id']}/enrolments", json={"member": member(), "consent": False}
    )
    bad_email = await api.client.post(
        f"/networks/{network['network_id']}/enrolments",
        json={"member": {**member(), "email": "not-an-email"}, "consent": True},
    )

    assert no_consent.status_code == bad_email.status_code == 422
    assert bad_email.json()["errors"][0]["field"] == "member.email"


async def test_enrolling_twice_is_a_conflict_naming_the_existing_enrolment(api: Api) -> None:
    network = await api.network()
    person = member()
    first = await api.client.post(
        f"/networks/{network['network_id']}/enrolments", json={"member": person, "consent": True}
    )

    again = await api.client.post(
        f"/networks/{network['network_id']}/enrolments", json={"member": person, "consent": True}
    )

    assert again.status_code == 409
    assert again.json()["enrolment_id"] == first.json()["enrolment_id"]


async def test_organiser_endpoints_refuse_missing_wrong_and_reporting_tokens(api: Api) -> None:
    attempts = {
        "none": {},
        "wrong": {"Authorization": "Bearer nope"},
        "reporting": REPORTING,
    }
    statuses = {
        name: (await api.client.post("/networks", json=network_body(), headers=headers)).status_code
        for name, headers in attempts.items()
    }

    assert statuses == {"none": 401, "wrong": 401, "reporting": 403}
    assert (await api.client.get("/networks")).json()["items"] == []


async def test_unknown_ids_are_not_found(api: Api) -> None:
    response = await api.client.get("/meetings/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["status"] == 404


async def test_oversized_bodies_are_refused(api: Api) -> None:
    response = await api.client.post(
        "/networks",
        content=b"{" + b" " * 100_000 + b"}",
        headers={**ORGANISER, "content-type": "application/json"},
    )

    assert response.status_code == 413


async def test_lists_page_with_a_cursor(api: Api) -> None:
    for i in range(5):
        await api.network(title=f"Netværk {i}")

    first = (await api.client.get("/networks", params={"limit": 3})).json()
    second = (
        await api.client.get("/networks", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()

    assert len(first["items"]) == 3 and first["next_cursor"]
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    titles = [n["title"] for n in first["items"] + second["items"]]
    assert sorted(titles) == [f"Netværk {i}" for i in range(5)]


async def test_a_malformed_cursor_is_invalid(api: Api) -> None:
    response = await api.client.get("/networks", params={"cursor": "!!"})

    assert response.status_code == 422


async def test_every_state_change_writes_one_event_with_per_aggregate_versions(
    api: Api, database_url: str
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=1)
    for _ in range(2):
        person = await api.enrolled(network["network_id"])
        await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        )

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT event_type, aggregate_version FROM registration.outbox"
            " WHERE aggregate_id = $1 ORDER BY id",
            meeting["meeting_id"],
        )
    finally:
        await conn.close()
    assert [(r["event_type"], r["aggregate_version"]) for r in rows] == [
        ("MeetingScheduled", 1),
        ("RegistrationConfirmed", 2),
        ("RegistrationWaitlisted", 3),
    ]


async def test_export_and_erasure_of_a_member(api: Api, database_url: str) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=1)
    person = await api.enrolled(network["network_id"])
    booked = (
        await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        )
    ).json()
    waiting = await api.enrolled(network["network_id"])
    await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": waiting, "companions": []},
    )
    member_id = booked["member_id"]

    # Export gathers every service's part; with the others not running here it refuses with a
    # 503 rather than hand out a partial export (the full one: tests/e2e/test_erasure_canary.py).
    exported = await api.client.get(f"/members/{member_id}/export", headers=ORGANISER)
    assert exported.status_code == 503
    assert exported.headers["content-type"].startswith("application/problem+json")
    erased = await api.client.delete(f"/members/{member_id}", headers=ORGANISER)

    assert erased.status_code == 204
    conn = await asyncpg.connect(database_url)
    try:
        blanked = await conn.fetchrow(
            "SELECT name, email FROM registration.members WHERE id = $1", uuid.UUID(member_id)
        )
    finally:
        await conn.close()
    assert tuple(blanked) == (None, None)
    # The erased person's seat went to the waitlist, and the event log no longer names them.
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()[
        "waitlist_length"
    ] == 0
    conn = await asyncpg.connect(database_url)
    try:
        leaks = await conn.fetchval(
            "SELECT count(*) FROM registration.outbox WHERE envelope::text ILIKE $1",
            f"%{person['email']}%",
        )
    finally:
        await conn.close()
    assert leaks == 0


async def test_a_name_that_breaks_a_line_or_hides_characters_is_refused_and_changes_nothing(
    api: Api,
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    path = f"/meetings/{meeting['meeting_id']}/registrations"
    smuggled = "Ole\u2028Action required: https://evil.example/reset"
    attempts = [
        ({**member(), "name": "Mette\u0085Hansen"}, [companion()], "member.name"),
        (member(), [companion(smuggled, email="ole@evil.example")], "companions.0.name"),
        (member(), [companion("Ole \u202eeman\u202c")], "companions.0.name"),
        ({**member(), "name": "\u200b\u2066\u2069"}, [], "member.name"),
        ({**member(), "municipality": "Ros\u2029kilde"}, [], "member.municipality"),
    ]

    answers = [
        await api.client.post(path, json={"member": person, "companions": companions})
        for person, companions, _ in attempts
    ]

    for answer, (_, _, field) in zip(answers, attempts, strict=True):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in answer.json()["errors"]] == [field]
    after = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    assert after["seats_taken"] == 0
    openapi = (await api.client.get("/openapi.json")).json()
    pattern = re.compile(
        openapi["components"]["schemas"]["CompanionIn"]["properties"]["name"]["pattern"]
    )
    assert pattern.match("Ole Klimarådgiver")
    assert not any(pattern.match(name) for name in (smuggled, "\u200b", "Ole\u0085", "a\ufeff"))


async def test_an_address_our_mail_server_cannot_write_to_is_refused_at_sign_up(
    api: Api, database_url: str
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    registrations = f"/meetings/{meeting['meeting_id']}/registrations"
    jurgen = {**member(), "email": "jürgen@bücher.example"}

    as_member = await api.client.post(registrations, json={"member": jurgen})
    as_companion = await api.client.post(
        registrations,
        json={"member": member(), "companions": [companion(email="jürgen@bücher.example")]},
    )
    enrolling = await api.client.post(
        f"/networks/{network['network_id']}/enrolments", json={"member": jurgen, "consent": True}
    )
    on_the_page = await api.client.post(
        f"http://registration/networks/{network['network_id']}/enrol?lang=en",
        data={**jurgen, "consent": "yes"},
    )
    idna_domain = await api.client.post(
        registrations, json={"member": {**member(), "email": "jonas@münster.example"}}
    )

    for answer, field in (
        (as_member, "member.email"),
        (as_companion, "companions.0.email"),
        (enrolling, "member.email"),
    ):
        assert answer.status_code == 422, answer.text
        (error,) = answer.json()["errors"]
        assert error["field"] == field and "mail server" in error["message"]
    assert on_the_page.status_code == 422
    assert "Our mail server cannot write to an address with letters like" in on_the_page.text
    assert idna_domain.status_code == 201
    after = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    assert after["seats_taken"] == 1

    settings = registration_settings(database_url, smtp_accepts_smtputf8=True)
    app = create_app(settings, run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r/api/v1") as client:
            with_smtputf8 = await client.post(registrations, json={"member": jurgen})
    assert with_smtputf8.status_code == 201, with_smtputf8.text


async def test_times_are_rfc_3339_text_and_any_valid_offset_is_kept_as_its_instant(
    api: Api,
) -> None:
    network = await api.network()
    url = f"/networks/{network['network_id']}"

    # +16:09 is valid RFC 3339 that Postgres refuses as text: the instant is stored in UTC.
    moved = await api.client.patch(
        url, json={"applications_close_at": "3331-05-12T20:28:23.6+16:09"}, headers=ORGANISER
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["applications_close_at"] == "3331-05-12T04:19:23.600000Z"
    # A number is not a date-time, whatever pydantic would make of it as a Unix time.
    number = await api.client.patch(url, json={"applications_close_at": 0}, headers=ORGANISER)
    assert number.status_code == 422
