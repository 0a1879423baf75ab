"""One registration, one trace: the registration API in-process, the relay against a real
broker and Postgres, both consumers subscribed on that broker, and the dispatcher sending to a
real SMTP catcher, all recording into one in-memory exporter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import notification.consumer
import reporting.consumer
from devstack.smtp import MailCatcher
from notification.clients import PersonalDataOpener
from notification.dispatcher import Dispatcher
from registration.main import create_app
from registration.outbox import OutboxSignal
from registration.relay import OutboxRelay, create_producer
from reporting.settings import Settings as ReportingSettings
from tests.builders import ORGANISER_TOKEN, member
from tests.infrastructure import Kafka
from tests.notification.conftest import notification_settings
from tests.registration.api.conftest import Api, registration_settings
from tests.shared.test_tracing import spans  # noqa: F401  (the fixture: tracing on, in memory)
from tilmeld_shared.db import create_pool, init_connection
from tilmeld_shared.events import ALL_TOPICS, RegistrationConfirmed
from tilmeld_shared.kafka import ensure_topics

DEV_PERSONAL_DATA_TOKEN = f"dev-only-personal-data:{ORGANISER_TOKEN}"


async def finished(
    exporter: InMemorySpanExporter,
    found: Callable[[list[ReadableSpan]], bool],
    *,
    timeout_s: float = 30,
) -> list[ReadableSpan]:
    async with asyncio.timeout(timeout_s):
        while not found(list(exporter.get_finished_spans())):
            await asyncio.sleep(0.05)
    return list(exporter.get_finished_spans())


def attribute(span: ReadableSpan, name: str) -> object:
    return (span.attributes or {}).get(name)


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


async def test_one_registration_is_one_trace_from_the_request_to_the_email_and_the_report(
    spans: InMemorySpanExporter,  # noqa: F811  (the fixture imported above)
    database_url: str,
    kafka: Kafka,
    smtp: MailCatcher,
) -> None:
    await ensure_topics(kafka.bootstrap_servers, ALL_TOPICS, partitions=3, replication_factor=1)
    on_the_broker = {
        "kafka_bootstrap_servers": kafka.bootstrap_servers,
        "kafka_enable_idempotence": kafka.idempotence,
    }
    settings = registration_settings(database_url).model_copy(update=on_the_broker)
    app = create_app(settings, run_relay=False)
    transport = httpx.ASGITransport(app=app)  # also how notification opens personal data
    person = member()

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://registration/api/v1") as client,
    ):
        api = Api(client, transport)
        network = await api.network()
        meeting = await api.meeting(network["network_id"], open_to_public=True)
        registered = await client.post(
            f"/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        )
        assert registered.status_code == 201, registered.text
        event_id = str(
            await app.state.pool.fetchval(
                "SELECT event_id FROM outbox WHERE event_type = 'RegistrationConfirmed'"
            )
        )

        # The relay: one batch, what its loop does after a commit wakes it.
        conn = await asyncpg.connect(database_url, server_settings={"search_path": "registration"})
        await init_connection(conn)
        producer = create_producer(settings)
        await producer.start()
        try:
            assert await OutboxRelay(settings, OutboxSignal(app.state.pool)).publish_batch(
                conn, producer
            )
        finally:
            await producer.stop()
            await conn.close()

        # Both consumers, subscribed on the broker the relay published to.
        mail_settings = notification_settings(
            database_url,
            registration_url="http://registration",
            personal_data_token=DEV_PERSONAL_DATA_TOKEN,
            smtp_port=smtp.port,
        ).model_copy(update=on_the_broker)
        reporting_settings = ReportingSettings(
            database_url=database_url, kafka_bootstrap_servers=kafka.bootstrap_servers
        ).model_copy(update=on_the_broker)
        mail_pool = await create_pool(database_url, schema="notification")
        report_pool = await create_pool(database_url, schema="reporting")
        opener = PersonalDataOpener(mail_settings, transport=transport)
        dispatcher = Dispatcher(mail_pool, mail_settings)
        mail_broker = notification.consumer.create_broker(
            mail_settings, mail_pool, dispatcher, opener
        )
        report_broker = reporting.consumer.create_broker(reporting_settings, report_pool)
        try:
            await mail_broker.start()
            await report_broker.start()

            def consumed_by_both(found: list[ReadableSpan]) -> bool:
                groups = {
                    attribute(span, "messaging.consumer.group.name")
                    for span in found
                    if attribute(span, "messaging.message.id") == event_id
                    and span.kind == SpanKind.CONSUMER
                }
                return {"tilmeld-notification", "tilmeld-reporting"} <= groups

            await finished(spans, consumed_by_both)
            assert await dispatcher.send_due() >= 1
        finally:
            await mail_broker.stop()
            await report_broker.stop()
            await opener.close()
            await mail_pool.close()
            await report_pool.close()

    assert smtp.to(person["email"]), "the confirmation was not sent"
    found = list(spans.get_finished_spans())
    (request,) = [
        span
        for span in found
        if span.kind == SpanKind.SERVER
        and "POST" in (attribute(span, "http.request.method"), attribute(span, "http.method"))
        and str(attribute(span, "http.route")).endswith("/registrations")
    ]
    (published,) = [
        span
        for span in found
        if span.kind == SpanKind.PRODUCER and attribute(span, "messaging.message.id") == event_id
    ]
    consumed = {
        attribute(span, "messaging.consumer.group.name"): span
        for span in found
        if span.kind == SpanKind.CONSUMER and attribute(span, "messaging.message.id") == event_id
    }
    (written,) = [
        span
        for span in found
        if span.name == "reporting projection write" and trace_id(span) == trace_id(request)
    ]
    (sent,) = [span for span in found if span.name == "smtp send"]

    the_trace = {trace_id(span) for span in (request, published, *consumed.values(), written, sent)}
    assert the_trace == {trace_id(request)}
    assert published.name == f"{RegistrationConfirmed.topic} publish"
    assert parent_of(published) == span_id(request)
    assert parent_of(consumed["tilmeld-notification"]) == span_id(published)
    assert parent_of(consumed["tilmeld-reporting"]) == span_id(published)
    assert parent_of(written) == span_id(consumed["tilmeld-reporting"])
    assert parent_of(sent) == span_id(consumed["tilmeld-notification"])
