"""Through the real processes and broker: the tokens in people's links reach only the people.

A reader of every topic (a consumer, a DLQ tool, a backup) or of the event log finds no token
that works; the emails carry them, and the link in a reschedule notice still cancels."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, companion, meeting_body, member, network_body
from tests.e2e.conftest import Services
from tests.infrastructure import Kafka
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS

TOKEN = re.compile(r"token=([A-Za-z0-9._~%-]+)")
CANCEL_LINK = re.compile(r"(http://\S+/cancel/(?:registrations|enrolments)/[^\s?]+\?token=\S+)")


async def _every_message(bootstrap_servers: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        *ALL_TOPICS, *DLQ_TOPICS, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        while batch := await consumer.getmany(timeout_ms=2000):
            values += [record.value for records in batch.values() for record in records]
        return values
    finally:
        await consumer.stop()


def _event_log(client: httpx.Client, api: str) -> str:
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{api}/events", params=params, headers=ORGANISER)
        assert page.status_code == 200, page.text
        pages.append(page.text)
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return "\n".join(pages)


def test_no_working_token_crosses_kafka_or_the_event_log(
    services: Services, smtp: MailCatcher, kafka: Kafka
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=2),
        headers=ORGANISER,
    ).json()
    first, second = member(name="Inger Christensen"), member(name="Tove Ditlevsen")
    guest = companion("Halfdan Rasmussen", email="halfdan.rasmussen@roskilde.example")
    handed_out = []
    for person, companions in ((first, [guest]), (second, [])):
        enrolled = client.post(
            f"{api}/networks/{network['network_id']}/enrolments",
            json={"member": person, "consent": True},
        )
        registered = client.post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": companions},
        )
        assert (enrolled.status_code, registered.status_code) == (201, 201)
        handed_out += [enrolled.json()["cancel_token"], registered.json()["cancel_token"]]
    assert registered.json()["status"] == "waitlisted"
    later = datetime.fromisoformat(meeting["ends_at"]) + timedelta(days=30)
    moved = client.patch(
        f"{api}/meetings/{meeting['meeting_id']}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
        headers=ORGANISER,
    )
    assert moved.status_code == 200

    # The link in the reschedule notice cancels, and the waiting person moves up.
    notice = smtp.wait_for(
        lambda m: m.is_to(first["email"]) and m.subject.startswith("Mødet er flyttet"),
        timeout_s=30,
    )[0]
    link = CANCEL_LINK.search(notice.text)
    assert link is not None, notice.text
    cancelled = client.post(
        link.group(1).split("?")[0], data={"token": TOKEN.search(link.group(1)).group(1)}
    )
    assert cancelled.status_code == 200
    smtp.wait_for(lambda m: m.is_to(second["email"]) and "plads" in m.subject, timeout_s=30)

    mailed = {token for mail in smtp.mails for token in TOKEN.findall(mail.text)}
    assert len(mailed) >= 3, "the emails carry the people's links"
    messages = asyncio.run(_every_message(kafka.bootstrap_servers))
    log = _event_log(client, api)
    assert len(messages) >= 8 and "RegistrationPromoted" in log
    working = mailed | set(handed_out)
    on_kafka = [m for m in messages if b"token=" in m or any(t.encode() in m for t in working)]
    in_log = [t for t in working if t in log] + TOKEN.findall(log)
    assert on_kafka == [] and in_log == []
    print(
        f"self-service links: {len(messages)} messages on {len(ALL_TOPICS) + len(DLQ_TOPICS)} "
        f"topics and the event log searched for {len(working)} working tokens: 0 found"
    )
