"""Through the real processes and broker: a person's name and address never cross Kafka in
clear, notification still writes to them, and once they are erased every sealed copy the topics
retain opens to nothing, so a consumer re-reading the topics learns nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, companion, meeting_body, member, network_body
from tests.e2e.conftest import Services
from tests.infrastructure import Kafka
from tilmeld_shared.events import ALL_TOPICS

PERSONAL_DATA_TOKEN = "dev-only-personal-data:test-organiser-token"


async def _everything_on_the_topics(bootstrap_servers: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        *ALL_TOPICS, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        while batch := await consumer.getmany(timeout_ms=2000):
            values += [record.value for records in batch.values() for record in records]
        return values
    finally:
        await consumer.stop()


def test_personal_data_crosses_kafka_sealed_and_erasure_shreds_every_copy(
    services: Services, smtp: MailCatcher, kafka: Kafka
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(open_to_public=True),
        headers=ORGANISER,
    ).json()
    person = member(name="Astrid Kanarie")
    guest = companion("Bjørn Kanarie", email="bjorn.kanarie@roskilde.example")
    registered = client.post(
        f"{api}/meetings/{meeting['meeting_id']}/registrations",
        json={"member": person, "companions": [guest]},
    )
    assert registered.status_code == 201
    # Notification had the seal opened: the person and the companion are written to.
    smtp.wait_for(lambda m: m.is_to(person["email"]), timeout_s=20)
    smtp.wait_for(lambda m: m.is_to(guest["email"]), timeout_s=20)

    messages = asyncio.run(_everything_on_the_topics(kafka.bootstrap_servers))
    secrets = [person["name"], person["email"], guest["name"], guest["email"]]
    assert messages and not [s for s in secrets if any(s.encode() in m for m in messages)]
    member_id = registered.json()["member_id"]
    sealed: list[dict[str, Any]] = [
        payload["personal_sealed"]
        for payload in (json.loads(m)["payload"] for m in messages)
        if (payload.get("personal_sealed") or {}).get("member_id") == member_id
    ]
    assert sealed, "events for the person carry their data sealed"
    token = {"Authorization": f"Bearer {PERSONAL_DATA_TOKEN}"}
    before = client.post(f"{api}/personal-data/open", json={"items": sealed}, headers=token)
    assert {item["email"] for item in before.json()["items"]} == {person["email"]}

    assert client.delete(f"{api}/members/{member_id}", headers=ORGANISER).status_code == 204
    after = client.post(f"{api}/personal-data/open", json={"items": sealed}, headers=token)
    assert after.json()["items"] == [None] * len(sealed)
    print(
        f"crypto-shredding: {len(messages)} messages on the topics, 0 with the person in clear; "
        f"{len(sealed)} sealed copies opened before erasure, 0 after"
    )
