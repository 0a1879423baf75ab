"""The municipality register and members' municipalities through HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.builders import ORGANISER, REPORTING, member
from tests.registration.api.conftest import Api

RODOVRE = str(uuid.uuid5(uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30"), "DK:175"))
KASSEL = {"name": "Landkreis Kassel", "country": "DE", "code": "06633", "kind": "district"}


async def test_the_register_is_public_filtered_by_country_and_a_name_and_paged(api: Api) -> None:
    found = await api.client.get("/municipalities", params={"country": "dk", "q": "Rødovre"})
    assert found.status_code == 200
    assert found.json() == {
        "items": [
            {
                "municipality_id": RODOVRE,
                "name": "Rødovre",
                "country": "DK",
                "code": "175",
                "kind": "municipality",
            }
        ],
        "next_cursor": None,
    }
    names: list[str] = []
    params: dict[str, Any] = {"country": "NO", "limit": 100}
    while True:
        page = (await api.client.get("/municipalities", params=params)).json()
        names += [item["name"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert len(names) == 357 + 15
    one = await api.client.get(f"/municipalities/{RODOVRE}")
    assert one.status_code == 200 and one.json()["code"] == "175"
    assert (await api.client.get(f"/municipalities/{uuid.uuid4()}")).status_code == 404
    bad = await api.client.get("/municipalities", params={"country": "Denmark"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_an_organiser_adds_a_district_once(api: Api) -> None:
    added = await api.client.post("/municipalities", json=KASSEL, headers=ORGANISER)
    assert added.status_code == 201, added.text
    body = added.json()
    assert set(body) == {"municipality_id", "name", "country", "code", "kind"}
    assert (body["name"], body["country"], body["code"], body["kind"]) == (
        "Landkreis Kassel",
        "DE",
        "06633",
        "district",
    )
    listed = await api.client.get("/municipalities", params={"country": "DE", "q": "kassel"})
    assert [item["municipality_id"] for item in listed.json()["items"]] == [body["municipality_id"]]

    again = await api.client.post(
        "/municipalities", json={**KASSEL, "code": None, "name": "Kreis Kassel"}, headers=ORGANISER
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    same_number = await api.client.post(
        "/municipalities", json={**KASSEL, "name": "Anders"}, headers=ORGANISER
    )
    assert same_number.status_code == 409


async def test_a_bad_country_or_kind_is_invalid_and_only_organisers_add(api: Api) -> None:
    for wrong, field in (({"country": "XY"}, "country"), ({"kind": "canton"}, "kind")):
        answer = await api.client.post(
            "/municipalities", json={**KASSEL, **wrong}, headers=ORGANISER
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert (await api.client.post("/municipalities", json=KASSEL)).status_code == 401
    reporting = await api.client.post("/municipalities", json=KASSEL, headers=REPORTING)
    assert reporting.status_code == 403
    assert (await api.client.get("/unresolved-municipalities")).status_code == 401
    assert (
        await api.client.get("/unresolved-municipalities", headers=REPORTING)
    ).status_code == 403


async def test_a_member_may_name_the_register_id_and_unresolved_names_are_reported(
    api: Api,
) -> None:
    network = await api.network()
    person = member()
    del person["municipality"]
    by_id = await api.client.post(
        f"/networks/{network['network_id']}/enrolments",
        json={"member": {**person, "municipality_id": RODOVRE}, "consent": True},
    )
    assert by_id.status_code == 201, by_id.text
    unknown = await api.client.post(
        f"/networks/{network['network_id']}/enrolments",
        json={"member": {**member(), "municipality_id": str(uuid.uuid4())}, "consent": True},
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["member.municipality_id"]
    neither = await api.client.post(
        f"/networks/{network['network_id']}/enrolments",
        json={"member": member() | {"municipality": None}, "consent": True},
    )
    assert neither.status_code == 422
    await api.enrolled(network["network_id"], municipality="Atlantis")

    report = await api.client.get("/unresolved-municipalities", headers=ORGANISER)
    assert report.status_code == 200
    assert report.json() == {
        "items": [{"name": "Atlantis", "spellings": ["Atlantis"], "members": 1}],
        "next_cursor": None,
    }


async def test_fifty_concurrent_registrations_from_one_municipality_confirm_exactly_its_share(
    api: Api,
) -> None:
    network = await api.network()
    meeting = await api.meeting(
        network["network_id"], capacity=40, open_to_public=True, seats_per_municipality=1
    )
    assert meeting["seats_per_municipality"] == 1
    spellings = ["Rødovre", "Rødovre Kommune", "RODOVRE", "rødovre kommune", "Roedovre"]
    people = [member(municipality=spellings[i % len(spellings)]) for i in range(50)]

    answers = await asyncio.gather(
        *(
            api.client.post(
                f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
            )
            for person in people
        )
    )

    assert all(a.status_code == 201 for a in answers), {a.status_code for a in answers}
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("confirmed") == 1 and statuses.count("waitlisted") == 49
    shown = (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()
    assert (shown["seats_taken"], shown["waitlist_length"]) == (1, 49)


async def test_adding_with_an_idempotency_key_adds_once_and_answers_alike(api: Api) -> None:
    headers = {**ORGANISER, "Idempotency-Key": "kreis-kassel-1"}
    first = await api.client.post("/municipalities", json=KASSEL, headers=headers)
    again = await api.client.post("/municipalities", json=KASSEL, headers=headers)
    other_body = await api.client.post(
        "/municipalities", json={**KASSEL, "code": "06634"}, headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert other_body.status_code == 422


async def test_a_registration_by_register_id_counts_against_that_municipalitys_share(
    api: Api,
) -> None:
    network = await api.network()
    meeting = await api.meeting(
        network["network_id"], open_to_public=True, seats_per_municipality=1
    )
    by_name = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": member(municipality="Rødovre Kommune")},
    )
    person = member()
    del person["municipality"]
    by_id = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": {**person, "municipality_id": RODOVRE}},
    )
    assert (by_name.json()["status"], by_id.json()["status"]) == ("confirmed", "waitlisted")
    assert by_id.json()["waitlist_position"] == 1


async def test_rosters_show_the_resolved_municipality_beside_the_typed_one(api: Api) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    for typed in ("Rødovre Kommune", "Atlantis"):
        person = await api.enrolled(network["network_id"], municipality=typed)
        answer = await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
        )
        assert answer.status_code == 201
    for path in (
        f"/networks/{network['network_id']}/enrolments",
        f"/meetings/{meeting['meeting_id']}/registrations",
    ):
        items = (await api.client.get(path, headers=ORGANISER)).json()["items"]
        assert [(i["municipality"], i["municipality_id"]) for i in items] == [
            ("Rødovre Kommune", RODOVRE),
            ("Atlantis", None),
        ]
