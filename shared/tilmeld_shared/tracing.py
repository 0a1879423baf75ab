"""OpenTelemetry traces: one trace per registration, from the HTTP request through the outbox,
Kafka and the consumers to the email sent and the report written.

Off by default (`OTEL_TRACES_EXPORTER=none`): no provider is installed, the API's own no-op
tracer answers every call, nothing is instrumented, and no context is stored or sent. On, each
process installs one SDK `TracerProvider` named for its service and exports over OTLP/HTTP.

The context crosses what a request cannot: it is stored as W3C `traceparent`/`tracestate` with
the outbox row, sent in the Kafka message's headers, and stored again with a queued email.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER = trace.get_tracer("tilmeld")  # a proxy until (and unless) a provider is installed

# The headers that carry a context, in a Kafka message and in a stored row.
TRACE_HEADERS = ("traceparent", "tracestate")

TraceContext = dict[str, str]


class TracingSettings(Protocol):
    """What tracing needs from a service's Settings (see tilmeld_shared/settings.py)."""

    service: ClassVar[str]
    otel_traces_exporter: Literal["none", "otlp", "console"]
    otel_exporter_otlp_endpoint: str
    otel_traces_sampler_arg: float


def tracing_on() -> bool:
    """Whether an SDK provider is installed (by `configure_tracing`, or by a test)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def configure_tracing(settings: TracingSettings) -> bool:
    """Install the process's provider as the settings say; returns whether tracing is on.

    Once per process: a provider already installed (another app in the process, a test's
    in-memory one) is kept."""
    if settings.otel_traces_exporter == "none":
        return tracing_on()
    if tracing_on():
        return True
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    exporter: SpanExporter
    if settings.otel_traces_exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
        exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces" if endpoint else None)
    provider = TracerProvider(
        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, where set, are merged in by the SDK.
        resource=Resource.create({"service.name": f"tilmeld-{settings.service}"}),
        # A trace started elsewhere keeps its caller's decision; a new one is sampled at the ratio.
        sampler=ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_arg)),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # Calls between services carry the context (and make client spans).
    HTTPXClientInstrumentor().instrument()
    return True


def instrument_app(app: Any) -> None:
    """A server span per HTTP request, continuing a caller's `traceparent`; nothing when off.
    The health checks are left out: a probe every few seconds is not worth a trace."""
    if not tracing_on():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="/health/live,/health/ready",
        # The inner send/receive spans double the spans of every request and say nothing new.
        exclude_spans=["receive", "send"],
    )


def current_trace_context() -> TraceContext:
    """The current span's context as W3C headers; empty when nothing is being traced."""
    carrier: TraceContext = {}
    inject(carrier)
    return {name: value for name, value in carrier.items() if name in TRACE_HEADERS}


def context_from(carrier: Mapping[str, str | None]) -> otel_context.Context:
    """The context stored as W3C headers (missing ones are simply absent)."""
    return extract({name: value for name, value in carrier.items() if value})


def kafka_headers(carrier: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in carrier.items()]


def from_kafka_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> TraceContext:
    carrier: TraceContext = {}
    for name, value in headers or ():
        if name in TRACE_HEADERS and value:
            carrier[name] = value.decode("ascii", errors="replace")
    return carrier


@contextlib.contextmanager
def span_continuing(
    carrier: Mapping[str, str | None],
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """A current span whose parent is a stored context (a new trace when none was stored)."""
    with TRACER.start_as_current_span(
        name, context=context_from(carrier), kind=kind, attributes=attributes
    ) as span:
        yield span


# The consumer spans of the batch being handled, by event id, for the service's own spans.
_MESSAGE_SPANS: ContextVar[Mapping[Any, Span] | None] = ContextVar("message_spans", default=None)


@dataclass(frozen=True)
class Received:
    """A consumed message, as much of it as its span says."""

    event_id: Any
    topic: str
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes | None]] | None


@contextlib.contextmanager
def processing(messages: Iterable[Received], *, group_id: str) -> Iterator[None]:
    """A consumer span per message that carries a context, as the child of its producer span,
    open while the batch is handled. One span per message, not one per batch with a link to each:
    a registration's trace then runs on into each consumer, where a batch span would be a trace
    of its own that no registration's trace leads to."""
    if not tracing_on():
        yield
        return
    spans: dict[Any, Span] = {}
    for message in messages:
        carrier = from_kafka_headers(message.headers)
        if not carrier or message.event_id in spans:
            continue  # untraced (a root span per message would be noise), or a redelivery
        spans[message.event_id] = TRACER.start_span(
            f"{message.topic} process",
            context=context_from(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.topic,
                "messaging.destination.partition.id": str(message.partition),
                "messaging.kafka.offset": message.offset,
                "messaging.message.id": str(message.event_id),
                "messaging.consumer.group.name": group_id,
            },
        )
    token = _MESSAGE_SPANS.set(spans)
    try:
        yield
    except BaseException as error:
        for span in spans.values():
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        _MESSAGE_SPANS.reset(token)
        for span in spans.values():
            span.end()


def message_trace_context(event_id: Any) -> TraceContext:
    """The W3C headers of the consumer span of the event being handled (empty: untraced), to
    store with what a later step does for it (the email the dispatcher sends)."""
    span = (_MESSAGE_SPANS.get() or {}).get(event_id)
    if span is None:
        return {}
    with trace.use_span(span, end_on_exit=False):
        return current_trace_context()


@contextlib.contextmanager
def spans_for_events(
    name: str, event_ids: Iterable[Any], *, attributes: Mapping[str, str | int] | None = None
) -> Iterator[None]:
    """One span per traced event, each the child of its consumer span, around a step done for
    the whole batch at once (the projection's write): each event's trace shows the step."""
    message_spans = _MESSAGE_SPANS.get() or {}
    if not message_spans:
        yield
        return
    spans = [
        TRACER.start_span(
            name, context=trace.set_span_in_context(message_spans[event_id]), attributes=attributes
        )
        for event_id in dict.fromkeys(event_ids)
        if event_id in message_spans
    ]
    try:
        yield
    except BaseException as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        for span in spans:
            span.end()


__all__ = [
    "TRACER",
    "Received",
    "SpanKind",
    "configure_tracing",
    "context_from",
    "current_trace_context",
    "from_kafka_headers",
    "instrument_app",
    "kafka_headers",
    "message_trace_context",
    "processing",
    "span_continuing",
    "spans_for_events",
    "tracing_on",
]
