"""Traces, in-process: the request's span context is what the outbox row keeps, the Kafka
headers carry it, and with tracing off nothing is recorded or stored."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util._once import Once

from registration.main import create_app
from tests.builders import member
from tests.registration.api.conftest import Api, registration_settings
from tilmeld_shared.correlation import forward_correlation_id, set_correlation_id
from tilmeld_shared.tracing import (
    TRACER,
    Received,
    current_trace_context,
    from_kafka_headers,
    kafka_headers,
    message_trace_context,
    processing,
    span_continuing,
    tracing_on,
)

# One provider for every test that traces: the tracers the code holds (proxies) bind to the
# first provider they meet, so installing another would split the spans between two.
_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider(resource=Resource.create({"service.name": "tilmeld-tests"}))
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))


def _set_global_provider(provider: TracerProvider | None) -> None:
    # The API sets its provider once per process; the tests put it in and take it out again,
    # as OpenTelemetry's own test utilities do, so no other test runs traced.
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    if provider is not None:
        trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, into memory (what OTEL_TRACES_EXPORTER=otlp sets up, without
    the exporter's network)."""
    _set_global_provider(_PROVIDER)
    _EXPORTER.clear()
    try:
        yield _EXPORTER
    finally:
        _set_global_provider(None)
        _EXPORTER.clear()


def traceparent_of(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


async def registered_through_http(database_url: str) -> tuple[httpx.Response, asyncpg.Record]:
    """A person registers through the API (built now, so traced as the test says); the
    response, and the outbox row of the registration."""
    app = create_app(registration_settings(database_url), run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://registration/api/v1"
        ) as client:
            api = Api(client, transport)
            network = await api.network()
            meeting = await api.meeting(network["network_id"], open_to_public=True)
            response = await client.post(
                f"/meetings/{meeting['meeting_id']}/registrations",
                json={"member": member(), "companions": []},
                headers={"X-Correlation-ID": "corr-trace-1"},
            )
            assert response.status_code == 201, response.text
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT traceparent, tracestate, envelope ->> 'correlation_id' AS correlation_id "
            "FROM registration.outbox WHERE event_type = 'RegistrationConfirmed'"
        )
    finally:
        await conn.close()
    assert row is not None
    return response, row


async def test_the_outbox_row_keeps_the_context_of_the_request_that_wrote_it(
    spans: InMemorySpanExporter, database_url: str
) -> None:
    response, row = await registered_through_http(database_url)

    (request,) = [
        span
        for span in spans.get_finished_spans()
        if span.kind == SpanKind.SERVER
        and span.attributes is not None
        and span.attributes.get("http.request.method", span.attributes.get("http.method")) == "POST"
        and str(span.attributes.get("http.route", "")).endswith("/registrations")
    ]
    assert row["traceparent"] == traceparent_of(request)
    assert row["correlation_id"] == "corr-trace-1"
    assert response.headers["X-Correlation-ID"] == "corr-trace-1"


async def test_untraced_a_registration_keeps_no_context_and_still_answers_its_correlation_id(
    database_url: str,
) -> None:
    assert not tracing_on()

    response, row = await registered_through_http(database_url)

    assert row["traceparent"] is None and row["tracestate"] is None
    assert response.headers["X-Correlation-ID"] == "corr-trace-1"


def test_kafka_headers_carry_the_context_and_a_stored_one_is_continued(
    spans: InMemorySpanExporter,
) -> None:
    with TRACER.start_as_current_span("request") as request:
        headers = kafka_headers(current_trace_context())
    carrier = from_kafka_headers([("event_type", b"RegistrationConfirmed"), *headers])

    with span_continuing(carrier, "later"):
        pass

    (later,) = [span for span in spans.get_finished_spans() if span.name == "later"]
    assert carrier["traceparent"] == traceparent_of(request)  # type: ignore[arg-type]
    assert later.parent is not None
    assert later.parent.span_id == request.get_span_context().span_id
    assert later.context is not None
    assert later.context.trace_id == request.get_span_context().trace_id


def test_untraced_there_is_no_context_to_store_or_send() -> None:
    assert not tracing_on()
    traced = Received(
        event_id="e1",
        topic="tilmeld.registrations",
        partition=0,
        offset=7,
        headers=[("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
    )

    with processing([traced], group_id="tilmeld-notification"):
        assert message_trace_context("e1") == {}
    assert current_trace_context() == {}
    assert from_kafka_headers(None) == {}


async def test_a_call_to_another_service_carries_the_correlation_id() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Correlation-ID"))
        return httpx.Response(200)

    set_correlation_id("corr-forwarded")
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(answer), event_hooks={"request": [forward_correlation_id]}
    ) as client:
        await client.get("http://notification/api/v1/members/x/export")

    assert seen == ["corr-forwarded"]


_CONFIGURE = """
from opentelemetry import trace
from registration.settings import Settings
from tilmeld_shared.tracing import TRACER, configure_tracing

settings = Settings(database_url="postgresql://x@127.0.0.1/x", kafka_bootstrap_servers="x:1")
print("on" if configure_tracing(settings) else "off", flush=True)
with TRACER.start_as_current_span("configured"):
    pass
provider = trace.get_tracer_provider()
if hasattr(provider, "shutdown"):
    provider.shutdown()
"""


@pytest.mark.parametrize(
    ("exporter", "expected"), [("none", "off"), ("console", "tilmeld-registration")]
)
def test_the_settings_turn_tracing_on_per_process_named_for_the_service(
    exporter: str, expected: str
) -> None:
    # A process of its own: a provider, once installed, stays for the life of the process.
    environment = {**os.environ, "OTEL_TRACES_EXPORTER": exporter}
    done = subprocess.run(
        [sys.executable, "-c", _CONFIGURE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert expected in done.stdout
    if exporter == "none":
        assert '"configured"' not in done.stdout
    else:
        assert done.stdout.startswith("on") and '"name": "configured"' in done.stdout
