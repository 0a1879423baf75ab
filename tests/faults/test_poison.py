"""One percent poison: malformed messages go to the dead-letter topics, every good event is
processed, and the consumers' lag returns to zero."""

from __future__ import annotations

import time

import httpx
from aiokafka import AIOKafkaProducer

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services
from tests.infrastructure import Kafka
from tilmeld_shared.events import TOPIC_MEETINGS

GOOD = 200
POISON = 2  # 1 %


async def test_one_percent_poison_is_dead_lettered_and_the_rest_flows(
    services: Services, smtp: MailCatcher, kafka: Kafka
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=GOOD, open_to_public=True),
        headers=ORGANISER,
    ).json()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    people = [member() for _ in range(GOOD)]
    try:
        for i, person in enumerate(people):
            client.post(
                f"{api}/meetings/{meeting['meeting_id']}/registrations",
                json={"member": person, "companions": []},
            ).raise_for_status()
            if i % (GOOD // POISON) == GOOD // (2 * POISON):
                # Same key as the meeting's events, so the poison sits in their partition.
                await producer.send_and_wait(
                    TOPIC_MEETINGS, b'{"event_type": 42}', key=meeting["meeting_id"].encode()
                )
    finally:
        await producer.stop()

    smtp.wait_for(lambda m: True, count=GOOD, timeout_s=60)
    reports = services.url("reporting")
    deadline = time.monotonic() + 30
    pipeline: dict[str, object] = {}
    while time.monotonic() < deadline:
        report = client.get(
            f"{reports}/reports/meetings/{meeting['meeting_id']}", headers=REPORTING
        ).json()
        pipeline = client.get(f"{reports}/reports/pipeline", headers=REPORTING).json()
        lag = pipeline.get("consumer_lag") or {}
        if (
            report["registrations_confirmed"] == GOOD
            and lag
            and all(value == 0 for value in lag.values())
        ):
            break
        time.sleep(0.3)

    dead = pipeline["dead_letters"]
    assert isinstance(dead, dict)
    assert dead[f"{TOPIC_MEETINGS}.dlq"] == 2 * POISON  # once from each consumer group
    assert report["registrations_confirmed"] == GOOD
    assert pipeline["consumer_lag"] == {"tilmeld-notification": 0, "tilmeld-reporting": 0}
    assert len({m.recipients[0] for m in smtp.mails}) == GOOD
    print(
        f"poison: good={GOOD} poison={POISON} dead_lettered={dead[f'{TOPIC_MEETINGS}.dlq']} "
        f"emails={len(smtp.mails)} lag=0"
    )
