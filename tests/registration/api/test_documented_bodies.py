"""Request bodies are answered as the OpenAPI document describes them: what it calls valid is
taken, what it leaves out is refused."""

from __future__ import annotations

from typing import Any

from tests.builders import ORGANISER, meeting_body, network_body
from tests.registration.api.conftest import Api


async def test_whole_number_floats_count_as_integers_and_fractions_are_refused(api: Api) -> None:
    network = await api.client.post(
        "/networks", json=network_body(max_companions=2.0), headers=ORGANISER
    )
    assert network.status_code == 201, network.text
    assert network.json()["max_companions"] == 2
    network_id = network.json()["network_id"]
    meeting = await api.client.post(
        f"/networks/{network_id}/meetings", json=meeting_body(capacity=5.0), headers=ORGANISER
    )
    assert meeting.status_code == 201, meeting.text
    assert meeting.json()["capacity"] == 5
    meeting_id = meeting.json()["meeting_id"]

    more = await api.client.patch(
        f"/meetings/{meeting_id}", json={"capacity": 6.0}, headers=ORGANISER
    )
    fewer = await api.client.patch(
        f"/networks/{network_id}", json={"max_companions": 1.0}, headers=ORGANISER
    )

    assert (more.status_code, more.json()["capacity"]) == (200, 6)
    assert (fewer.status_code, fewer.json()["max_companions"]) == (200, 1)
    for not_an_integer in (5.5, "5", True, 1e300):
        refused = await api.client.patch(
            f"/meetings/{meeting_id}", json={"capacity": not_an_integer}, headers=ORGANISER
        )
        assert refused.status_code == 422, not_an_integer
        assert refused.json()["errors"][0]["field"] == "capacity"


def _allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(map(_allows_null, schema.get("anyOf", [])))


async def test_a_patch_takes_null_exactly_where_the_document_offers_it(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()["components"]["schemas"]
    network = await api.network()
    meeting = await api.meeting(network["network_id"])
    targets = {
        "NetworkPatch": f"/networks/{network['network_id']}",
        "MeetingPatch": f"/meetings/{meeting['meeting_id']}",
    }

    answers = {}
    for schema, path in targets.items():
        for field, field_schema in document[schema]["properties"].items():
            answer = await api.client.patch(path, json={field: None}, headers=ORGANISER)
            answers[f"{schema}.{field}"] = (_allows_null(field_schema), answer.status_code)

    wrong = {
        name: seen for name, seen in answers.items() if seen not in {(True, 200), (False, 422)}
    }
    assert wrong == {}
    assert answers["NetworkPatch.language"] == (False, 422)
    assert answers["MeetingPatch.registration_deadline"] == (True, 200)
