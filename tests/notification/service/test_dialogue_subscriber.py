"""The dialogue topic under FastStream's TestKafkaBroker, against real Postgres: the subscriber
reads it, has its sealed people opened, queues their emails, and keeps poison as a dead letter
with a notice on the topic's DLQ."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from notification.clients import PersonalDataOpener
from notification.consumer import create_broker
from notification.dispatcher import Dispatcher
from notification.settings import Settings
from tests.builders import PERSONAL_DATA
from tests.notification.service.test_dialogue import Consultation
from tilmeld_shared.events import ALL_TOPICS, TOPIC_DIALOGUE, SealedPersonalData

DLQ = f"{TOPIC_DIALOGUE}.dlq"


def test_the_dialogue_topic_is_one_the_subscriber_reads() -> None:
    assert TOPIC_DIALOGUE in ALL_TOPICS


async def test_a_sealed_invitation_on_the_dialogue_topic_is_opened_and_queued_once_if_sent_twice(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    consultation = Consultation(language="da")
    member = uuid.uuid4()
    sealed = SealedPersonalData(member_id=member, nonce="bm9uY2U=", ciphertext="c2VhbGVk")
    envelope, _ = consultation.invitation(member, 7, language="da")
    envelope = envelope.model_copy(
        update={
            "payload": {
                **envelope.payload,
                "personal": None,
                "personal_sealed": sealed.model_dump(mode="json"),
            }
        }
    )
    PERSONAL_DATA.update(("Mette Hansen", "mette@rodovre.example"))
    asked: list[dict[str, Any]] = []

    def open_sealed(request: httpx.Request) -> httpx.Response:
        asked.extend(json.loads(request.content)["items"])
        opened = {
            "name": "Mette Hansen",
            "email": "mette@rodovre.example",
            "action_url": "http://127.0.0.1:8001/consultations/c?token=form",
        }
        return httpx.Response(200, json={"items": [opened]})

    opener = PersonalDataOpener(settings, transport=httpx.MockTransport(open_sealed))
    dispatcher = Dispatcher(pool, settings)
    broker = create_broker(settings, pool, dispatcher, opener)
    opened_event, _ = consultation.opened()

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish(opened_event.model_dump_json().encode(), topic=TOPIC_DIALOGUE)
        await kafka.publish(envelope.model_dump_json().encode(), topic=TOPIC_DIALOGUE)
        await kafka.publish(envelope.model_dump_json().encode(), topic=TOPIC_DIALOGUE)

    assert {item["ciphertext"] for item in asked} == {"c2VhbGVk"}
    queued = await pool.fetch("SELECT recipient, template, language, member_id FROM notifications")
    assert [tuple(row) for row in queued] == [
        ("mette@rodovre.example", "consultation_invitation", "da", member)
    ]
    assert await pool.fetchval("SELECT count(*) FROM consultations") == 1
    assert dispatcher.wakeup.is_set()


async def test_poison_on_the_dialogue_topic_goes_to_its_dead_letter_queue(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing to open")

    opener = PersonalDataOpener(settings, transport=httpx.MockTransport(refuse))
    broker = create_broker(settings, pool, Dispatcher(pool, settings), opener)
    notices: list[dict[str, Any]] = []

    @broker.subscriber(DLQ)
    async def on_dead_letter(message: KafkaMessage) -> None:
        notices.append(json.loads(message.body))

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish(b'{"event_type": "ResponseSubmitted"', topic=TOPIC_DIALOGUE, key=b"n")

    kept = await pool.fetch("SELECT origin_topic FROM dead_letters")
    assert [row["origin_topic"] for row in kept] == [TOPIC_DIALOGUE]
    [notice] = notices
    assert notice["origin_topic"] == TOPIC_DIALOGUE
    assert await pool.fetchval("SELECT count(*) FROM notifications") == 0
