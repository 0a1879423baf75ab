"""Personal data leaves the registration service only sealed with the member's own key; only
the personal-data credential can have it opened; erasure destroys the key, after which even a
copy of an event taken before erasure reveals nothing."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from tests.builders import ORGANISER, companion, member
from tests.registration.api.conftest import Api

DEV_PERSONAL_DATA_TOKEN = "dev-only-personal-data:test-organiser-token"


async def _outbox(database_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT envelope::text AS text FROM registration.outbox")
        return [{"text": row["text"]} for row in rows]
    finally:
        await conn.close()


async def test_events_carry_personal_data_sealed_and_erasure_shreds_it(
    api: Api, database_url: str
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    person = member(name="Sigrid Forseglet")
    guest = companion("Gustav Ledsager")
    registered = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": person, "companions": [guest]},
    )
    assert registered.status_code == 201
    member_id = registered.json()["member_id"]

    events = await _outbox(database_url)
    for secret in (person["name"], person["email"], guest["name"]):
        assert not [e for e in events if secret in e["text"]], f"{secret} in clear in the outbox"
    conn = await asyncpg.connect(database_url)
    try:
        sealed_text = await conn.fetchval(
            "SELECT envelope -> 'payload' -> 'personal_sealed' FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = 'RegistrationConfirmed'"
        )
    finally:
        await conn.close()
    sealed = json.loads(sealed_text)
    assert sealed["member_id"] == member_id and sealed["algorithm"] == "AES-256-GCM"

    # Only the personal-data credential opens it; the organiser's does not.
    body = {"items": [sealed]}
    for headers in ({}, ORGANISER, {"Authorization": "Bearer wrong"}):
        refused = await api.client.post("/personal-data/open", json=body, headers=headers)
        assert refused.status_code == 401
    token = {"Authorization": f"Bearer {DEV_PERSONAL_DATA_TOKEN}"}
    opened = await api.client.post("/personal-data/open", json=body, headers=token)
    assert opened.status_code == 200
    [data] = opened.json()["items"]
    assert (data["name"], data["email"]) == (person["name"], person["email"])
    assert [c["name"] for c in data["companions"]] == [guest["name"]]

    # A tampered seal opens to nothing rather than to garbage.
    first = sealed["ciphertext"][0]
    tampered = {**sealed, "ciphertext": ("B" if first == "A" else "A") + sealed["ciphertext"][1:]}
    answer = await api.client.post("/personal-data/open", json={"items": [tampered]}, headers=token)
    assert answer.json()["items"] == [None]

    erased = await api.client.delete(f"/members/{member_id}", headers=ORGANISER)
    assert erased.status_code == 204
    # The copy taken before erasure (as a Kafka topic or a backup still holds it) is now mute.
    after = await api.client.post("/personal-data/open", json=body, headers=token)
    assert after.json()["items"] == [None]
    for secret in (person["name"], person["email"], guest["name"]):
        assert not [e for e in await _outbox(database_url) if secret in e["text"]]
