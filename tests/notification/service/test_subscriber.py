"""The notification subscriber in memory: FastStream's TestKafkaBroker instead of Kafka (the
real broker is in tests/e2e), against real Postgres."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from notification.clients import PersonalDataOpener
from notification.consumer import create_broker
from notification.dispatcher import Dispatcher
from notification.settings import Settings
from tests.notification.conftest import Meeting, Network
from tilmeld_shared.events import (
    TOPIC_MEETINGS,
    TOPIC_NETWORKS,
    Envelope,
    PartyApplied,
    Payload,
    RegistrationConfirmed,
    SealedPersonalData,
)

DLQ = f"{TOPIC_MEETINGS}.dlq"


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError("these events carry their personal data open: nothing to ask for")


def notification_broker(pool: asyncpg.Pool, settings: Settings) -> tuple[KafkaBroker, Dispatcher]:
    dispatcher = Dispatcher(pool, settings)
    opener = PersonalDataOpener(settings, transport=httpx.MockTransport(refuse))
    return create_broker(settings, pool, dispatcher, opener), dispatcher


def record(event: tuple[Envelope, Payload]) -> bytes:
    return event[0].model_dump_json().encode()


async def test_an_event_published_in_memory_reaches_the_handler_and_queues_its_email(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    broker, dispatcher = notification_broker(pool, settings)
    meeting = Meeting()

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish(record(meeting.scheduled()), topic=TOPIC_MEETINGS)
        await kafka.publish(
            record(meeting.registration(RegistrationConfirmed, status="confirmed")),
            topic=TOPIC_MEETINGS,
        )

    queued = await pool.fetch("SELECT recipient, template, status FROM notifications")
    assert [tuple(row) for row in queued] == [
        ("karen@ishoj.example", "registration_confirmed", "pending")
    ]
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
    assert dispatcher.wakeup.is_set(), "the dispatcher is told to send at once"


async def test_an_unreadable_message_goes_to_the_dead_letters_and_the_batch_is_acked(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    broker, _ = notification_broker(pool, settings)
    notices: list[tuple[dict[str, Any], dict[str, Any]]] = []

    @broker.subscriber(DLQ)
    async def on_dead_letter(message: KafkaMessage) -> None:
        notices.append((json.loads(message.body), message.headers))

    async with TestKafkaBroker(broker) as kafka:
        # Raises if the handler does: a poison message must not fail (and redeliver) the batch.
        await kafka.publish(b"{not an event", topic=TOPIC_MEETINGS, key=b"k")

    kept = await pool.fetch("SELECT origin_topic, raw, error FROM dead_letters")
    assert [(row["origin_topic"], row["raw"]) for row in kept] == [
        (TOPIC_MEETINGS, b"{not an event")
    ]
    [(notice, headers)] = notices
    assert notice["origin_topic"] == TOPIC_MEETINGS
    assert notice["kept_in"] == "notification.dead_letters"
    assert headers["x-failed-by"] == "notification"
    assert await pool.fetchval("SELECT count(*) FROM notifications") == 0


async def test_a_party_application_on_the_networks_topic_is_opened_and_queues_both_emails(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    network = Network(language="da")
    contact_id = uuid.uuid4()
    sealed = SealedPersonalData(member_id=contact_id, nonce="bm9uY2U=", ciphertext="c2VhbGVk")
    applied = network.party(
        PartyApplied,
        language="nb",
        email=None,
        contact_member_id=contact_id,
        personal_sealed=sealed,
    )
    asked: list[dict[str, Any]] = []

    def open_sealed(request: httpx.Request) -> httpx.Response:
        asked.extend(json.loads(request.content)["items"])
        return httpx.Response(
            200, json={"items": [{"name": "Mette Hansen", "email": "mette@rodovre.example"}]}
        )

    opener = PersonalDataOpener(settings, transport=httpx.MockTransport(open_sealed))
    broker = create_broker(settings, pool, Dispatcher(pool, settings), opener)

    async with TestKafkaBroker(broker) as kafka:
        await kafka.publish(record(network.created()), topic=TOPIC_NETWORKS)
        await kafka.publish(record(applied), topic=TOPIC_NETWORKS)

    assert [item["ciphertext"] for item in asked] == ["c2VhbGVk"]
    queued = await pool.fetch(
        "SELECT recipient, template, language, member_id FROM notifications ORDER BY template"
    )
    assert [tuple(row) for row in queued] == [
        ("kultur@kl.example", "organiser_party_applied", "da", None),
        ("mette@rodovre.example", "party_applied", "nb", contact_id),
    ]
