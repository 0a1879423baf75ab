"""Metrics, health endpoints and logging that every service exposes the same way."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

import orjson
import structlog
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import Counter, Histogram, start_http_server
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tilmeld_shared.correlation import (
    CORRELATION_HEADER,
    correlation_id_if_any,
    current_correlation_id,
    set_correlation_id,
)
from tilmeld_shared.db import migrations_applied
from tilmeld_shared.kafka import broker_reachable
from tilmeld_shared.problems import problem_response
from tilmeld_shared.security import SecurityHeaders
from tilmeld_shared.tracing import TracingSettings, configure_tracing, instrument_app

access_log = logging.getLogger("tilmeld.http")

HTTP_REQUESTS = Counter(
    "tilmeld_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "tilmeld_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetrics:
    """Counts and times every HTTP request by route template (plain ASGI, no extra task)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the application fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # Label by template, not raw path, so ids never explode the metric's cardinality.
            route = route_template(scope)
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], route).observe(elapsed)
            # The route template, never the path or query: those can carry ids and addresses.
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )


def route_template(scope: Scope) -> str:
    """The template of the route that answered, with the prefix its router was included under:
    `/api/v1/networks/{network_id}`, not the page `/networks/{network_id}`.

    FastAPI leaves the route as declared on its router in the scope (without the prefix), so
    the prefix is read back from the path: the shortest head after which the route's own
    pattern matches the rest. Our prefixes are literal (`/api/v1`), so it never holds an id."""
    route = scope.get("route")
    template, pattern = getattr(route, "path_format", None), getattr(route, "path_regex", None)
    if template is None or pattern is None:
        return "unmatched"
    path = str(scope["path"])
    root_path = str(scope.get("root_path", ""))
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    for split, char in enumerate(path):
        if char == "/" and pattern.match(path[split:]):
            return path[:split] + str(template)
    return str(template)


class CorrelationId:
    """Takes the caller's X-Correlation-ID (or makes one) for logs and outgoing events, and
    answers with it, so a caller that sent none can still quote it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        set_correlation_id(Headers(scope=scope).get("x-correlation-id"))
        echoed = current_correlation_id().encode("latin-1", errors="replace")

        async def send_echoing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != CORRELATION_HEADER]
                message = {**message, "headers": [*headers, (CORRELATION_HEADER, echoed)]}
            await send(message)

        await self.app(scope, receive, send_echoing)


ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def health_router(readiness: ReadinessCheck) -> APIRouter:
    """`/health/live` and `/health/ready` (200 only when every check passes). `/metrics` is not
    here: `serve_metrics` answers it on a port of its own."""
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def health_live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready", response_model=None)
    async def health_ready() -> Response | dict[str, object]:
        checks = await readiness()
        if all(checks.values()):
            return {"status": "ready", "checks": checks}
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        return problem_response(503, f"Not ready: {failing}.", slug="not-ready", checks=checks)

    return router


def serve_metrics(*, host: str, port: int) -> None:
    """`GET /metrics` (Prometheus text format) on its own port, from prometheus_client's server
    in a daemon thread. The public port does not answer it; a deployment publishes only the
    public port, so the scraper reaches the metrics and the public does not."""
    start_http_server(port, addr=host)


def install_observability(
    app: FastAPI,
    settings: ObservedSettings,
    *,
    schema: str,
    migrations_dir: Path,
    needs_kafka: bool = True,
) -> None:
    """Request metrics, security headers, and the health routes with the service's readiness
    (`needs_kafka=False`: ready without the broker, for a service whose outbox holds what it
    would send); and, where the settings turn tracing on, a server span per request."""
    configure_tracing(settings)
    instrument_app(app)
    app.add_middleware(RequestMetrics, service=settings.service)
    app.add_middleware(SecurityHeaders)
    readiness = service_readiness(
        app, settings, schema=schema, migrations_dir=migrations_dir, needs_kafka=needs_kafka
    )
    app.include_router(health_router(readiness))


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """One JSON object per line (structlog over the standard library, so uvicorn's, aiokafka's
    and FastStream's records come out the same way), with the correlation id of the request or
    message being handled. Handlers log ids (event_id, registration_id), never names or emails;
    as a second line of defence anything shaped like an email address is masked, since
    exception texts (a database's DETAIL, an SMTP refusal) can carry one."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask_email_addresses,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _json_line(event: object, **options: Any) -> str:
    """A log line through orjson: a line per request at INFO, where the standard library's
    encoder took ~3x as long to render it."""
    return orjson.dumps(event, default=options.get("default")).decode()


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def mask_email_addresses(text: str) -> str:
    return _EMAIL.sub("<email>", text)


def _add_correlation_id(
    _: object, __: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    if (correlation_id := correlation_id_if_any()) is not None:
        event.setdefault("correlation_id", correlation_id)
    return event


def _mask_email_addresses(
    _: object, __: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = mask_email_addresses(value)
    return event


class ReadinessSettings(Protocol):
    """What readiness needs from a service's Settings (see tilmeld_shared/settings.py)."""

    service: ClassVar[str]
    kafka_bootstrap_servers: str


class ObservedSettings(ReadinessSettings, TracingSettings, Protocol):
    """What `install_observability` needs from a service's Settings."""


def service_readiness(
    app: FastAPI,
    settings: ReadinessSettings,
    *,
    schema: str,
    migrations_dir: Path,
    needs_kafka: bool = True,
) -> ReadinessCheck:
    """Ready when the database answers (the pool in `app.state.pool`), its migrations are
    applied and, where the service needs it to work, Kafka is reachable."""
    bootstrap_servers = settings.kafka_bootstrap_servers

    async def readiness() -> dict[str, bool]:
        try:
            database = bool(await app.state.pool.fetchval("SELECT true", timeout=1))
            migrated = await migrations_applied(
                app.state.pool, schema=schema, migrations_dir=migrations_dir
            )
        except Exception:  # any failure here means "not ready", which is what we report
            database, migrated = False, False
        checks = {"database": database, "migrations": migrated}
        if needs_kafka:
            checks["kafka"] = await broker_reachable(bootstrap_servers)
        return checks

    return readiness
