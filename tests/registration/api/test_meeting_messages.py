"""An organiser writes to a meeting's participants: stored, announced once with the
registrations addressed at that moment, refused for a cancelled meeting or another's."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from tests.builders import ORGANISER, companion, meeting_body, network_body
from tests.registration.api.conftest import Api

MESSAGE = {"subject": "Nyt lokale", "body": "Vi mødes i sal 2.\n\nVenlig hilsen\nKL", "to": "all"}


async def _meeting_with_people(api: Api) -> tuple[str, dict[str, str]]:
    """A meeting of two seats: one confirmed with a companion (an email), one waitlisted."""
    network = await api.network()
    meeting = await api.meeting(network["network_id"], capacity=2)
    ids = {}
    for status, companions in (
        ("confirmed", [companion(email="ole@hansen.example")]),
        ("waitlisted", []),
    ):
        person = await api.enrolled(network["network_id"])
        answer = await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": companions},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == status
        ids[status] = answer.json()["registration_id"]
    return meeting["meeting_id"], ids


async def _message_events(database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT envelope FROM registration.outbox "
            "WHERE event_type = 'MeetingMessageSent' ORDER BY id"
        )
    finally:
        await conn.close()
    return [
        json.loads(row["envelope"]) if isinstance(row["envelope"], str) else row["envelope"]
        for row in rows
    ]


@pytest.mark.parametrize(
    ("to", "addressed", "people"),
    [
        ("confirmed", ["confirmed"], 2),
        ("waitlisted", ["waitlisted"], 1),
        ("all", ["confirmed", "waitlisted"], 3),
    ],
)
async def test_a_message_is_announced_once_with_the_registrations_it_addresses(
    api: Api, database_url: str, to: str, addressed: list[str], people: int
) -> None:
    meeting_id, ids = await _meeting_with_people(api)

    answer = await api.client.post(
        f"/meetings/{meeting_id}/messages", json={**MESSAGE, "to": to}, headers=ORGANISER
    )

    assert answer.status_code == 202, answer.text
    assert answer.json()["recipients"] == people
    [event] = await _message_events(database_url)
    payload = event["payload"]
    assert payload["message_id"] == answer.json()["message_id"]
    assert payload["meeting_id"] == meeting_id
    assert payload["to"] == to
    assert payload["body"] == MESSAGE["body"]
    assert sorted(payload["registration_ids"]) == sorted(ids[s] for s in addressed)


async def test_a_retry_with_the_same_key_sends_nothing_more(api: Api, database_url: str) -> None:
    meeting_id, _ = await _meeting_with_people(api)
    headers = {**ORGANISER, "Idempotency-Key": "message-1"}

    first = await api.client.post(f"/meetings/{meeting_id}/messages", json=MESSAGE, headers=headers)
    again = await api.client.post(f"/meetings/{meeting_id}/messages", json=MESSAGE, headers=headers)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert len(await _message_events(database_url)) == 1


async def test_a_cancelled_meeting_takes_no_message(api: Api, database_url: str) -> None:
    meeting_id, _ = await _meeting_with_people(api)
    await api.client.post(f"/meetings/{meeting_id}/cancel", headers=ORGANISER)

    answer = await api.client.post(
        f"/meetings/{meeting_id}/messages", json=MESSAGE, headers=ORGANISER
    )

    assert answer.status_code == 409
    assert await _message_events(database_url) == []


@pytest.mark.parametrize(
    "body",
    [
        {**MESSAGE, "to": "everyone"},
        {**MESSAGE, "subject": "Nyt lokale\nBcc: alle"},
        {**MESSAGE, "subject": "Nyt \u202elokale"},
        {**MESSAGE, "body": "x" * 5001},
        {**MESSAGE, "body": "bip\u0007"},
        {"subject": "Nyt lokale", "body": "Hej"},
    ],
)
async def test_a_bad_message_is_refused(api: Api, body: dict[str, Any]) -> None:
    meeting_id, _ = await _meeting_with_people(api)

    answer = await api.client.post(f"/meetings/{meeting_id}/messages", json=body, headers=ORGANISER)

    assert answer.status_code == 422, answer.text


async def test_another_organisations_organiser_cannot_write_to_its_participants(
    api: Api, database_url: str
) -> None:
    keys = {}
    for name in ("KL", "KS"):
        org = (
            await api.client.post("/organisations", json={"name": name}, headers=ORGANISER)
        ).json()
        issued = await api.client.post(
            f"/organisations/{org['organisation_id']}/api-keys", json={"name": "api"},
            headers=ORGANISER,
        )  # fmt: skip
        keys[name] = {"Authorization": f"Bearer {issued.json()['key']}"}
    network = (await api.client.post("/networks", json=network_body(), headers=keys["KL"])).json()
    meeting = (
        await api.client.post(
            f"/networks/{network['network_id']}/meetings",
            json=meeting_body(),
            headers=keys["KL"],
        )
    ).json()
    person = await api.enrolled(network["network_id"])
    await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
    )

    theirs = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/messages", json=MESSAGE, headers=keys["KS"]
    )
    own = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/messages", json=MESSAGE, headers=keys["KL"]
    )

    assert theirs.status_code == 404, theirs.text  # as elsewhere: not shown to exist
    assert own.status_code == 202 and own.json()["recipients"] == 1
    assert len(await _message_events(database_url)) == 1
