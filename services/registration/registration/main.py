"""The registration service's ASGI app: `create_app(settings)` builds it, nothing at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from registration import web
from registration.api.abuse import AbuseLimits
from registration.api.routes import (
    calendar_feeds,
    confirmations,
    consultations,
    documents,
    feedback,
    meetings,
    messages,
    municipalities,
    networks,
    offers,
    operations,
    organisations,
    participation,
    parties,
    personal_data,
    proposals,
    series,
)
from registration.api.uploads import RouteBodyLimits
from registration.outbox import OutboxSignal
from registration.personal_data import PersonalDataVault
from registration.relay import OutboxRelay
from registration.service.answers import keep_erasing_answers
from registration.service.dialogue_clock import keep_running_dialogue_clock
from registration.service.meeting_lifecycle import keep_marking_held
from registration.service.offer_expiry import keep_expiring_offers
from registration.service.series_enrolment import keep_up_the_series
from registration.settings import Settings
from registration.storage import open_store
from registration.unit_of_work import Clock, ServiceContext, Transactions
from tilmeld_shared.asyncapi import asyncapi_router, registration_document
from tilmeld_shared.auth import OidcVerifier
from tilmeld_shared.db import open_pool
from tilmeld_shared.events import ALL_TOPICS
from tilmeld_shared.kafka import prepare_topics
from tilmeld_shared.observability import CorrelationId, install_observability
from tilmeld_shared.openapi import operation_id, serve_openapi_at_root
from tilmeld_shared.problems import API_PROBLEMS, install_problem_handlers

SCHEMA = "registration"
MIGRATIONS = Path(__file__).parent / "migrations"
API_PREFIX = "/api/v1"


def create_app(
    settings: Settings, *, run_relay: bool | None = None, clock: Clock | None = None
) -> FastAPI:
    """The app; it runs the outbox relay too unless `run_relay` (default: RUN_RELAY) says not."""
    relay_here = settings.run_relay if run_relay is None else run_relay
    app = FastAPI(
        title="Tilmeld registration",
        version="1.0.0",
        description="Networks, meetings, enrolments and registrations with companions.",
        lifespan=_lifespan(settings, relay_here=relay_here, clock=clock or Clock()),
        docs_url="/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.abuse_limits = AbuseLimits(settings)
    app.state.oidc = OidcVerifier.configured(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
    )
    install_problem_handlers(app)
    # Ready without Kafka: a registration commits to the outbox, and the relay publishes it
    # once the broker is back (tilmeld_relay_kafka_up says whether it can now).
    install_observability(
        app, settings, schema=SCHEMA, migrations_dir=MIGRATIONS, needs_kafka=False
    )
    serve_openapi_at_root(app)
    app.include_router(asyncapi_router(registration_document(settings)))
    _add_middleware(app, settings)
    _add_routes(app)
    return app


def _lifespan(
    settings: Settings, *, relay_here: bool, clock: Clock
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The pool, the unit of work and the use cases' context while the app runs; the relay
    and the purge of old Idempotency-Keys beside them."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(settings, schema=SCHEMA)
        signal = OutboxSignal(pool)
        relay = OutboxRelay(settings, signal)
        app.state.pool = pool
        app.state.relay = relay
        app.state.transactions = Transactions(pool, signal)
        app.state.document_store = open_store(settings)
        app.state.context = ServiceContext(
            settings=settings,
            clock=clock,
            vault=PersonalDataVault.from_setting(
                settings.personal_data_key,
                development_fallback=settings.effective_token_secret,
                previous=settings.personal_data_keys_previous,
            ),
        )
        tasks: list[asyncio.Task[None]] = []
        if relay_here:
            await prepare_topics(settings, ALL_TOPICS)
            tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(_purge_idempotency_keys(app, settings)))
        # In every API process, not only where the relay runs: the relay may be a process of its
        # own or off here, and SKIP LOCKED lets replicas share the work.
        tasks.append(
            asyncio.create_task(
                keep_marking_held(app.state.transactions, app.state.context), name="held-meetings"
            )
        )
        tasks.append(
            asyncio.create_task(
                keep_running_dialogue_clock(app.state.transactions, app.state.context),
                name="dialogue-clock",
            )
        )
        tasks.append(
            asyncio.create_task(
                keep_erasing_answers(app.state.transactions, app.state.context),
                name="answers-retention",
            )
        )
        tasks.append(
            asyncio.create_task(
                keep_up_the_series(app.state.transactions, app.state.context), name="series"
            )
        )
        tasks.append(
            asyncio.create_task(
                keep_expiring_offers(app.state.transactions, app.state.context),
                name="seat-offers",
            )
        )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()

    return lifespan


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    # Document uploads stream through a cap of their own (api/uploads.py).
    app.add_middleware(RouteBodyLimits, max_bytes=settings.max_body_bytes)
    app.add_middleware(CorrelationId)
    if origins := [o.strip() for o in settings.cors_allowed_origins.split(",") if o.strip()]:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-ID"],
            max_age=600,
        )


def _add_routes(app: FastAPI) -> None:
    api_routers = (
        networks.router,
        meetings.router,
        messages.router,
        municipalities.router,
        participation.router,
        parties.router,
        operations.router,
        organisations.router,
        personal_data.router,
        calendar_feeds.router,
        consultations.router,
        proposals.router,
        confirmations.router,
        offers.router,
        feedback.router,
        documents.router,
        series.router,
    )
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX, responses=API_PROBLEMS)
    app.include_router(web.router)
    app.add_exception_handler(web.NotSignedIn, web.not_signed_in)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")


async def _purge_idempotency_keys(app: FastAPI, settings: Settings) -> None:
    """Keys are kept at least `idempotency_retention_hours`, then dropped hourly."""
    while True:
        with contextlib.suppress(Exception):
            await app.state.transactions.purge_idempotency_keys(
                older_than_hours=settings.idempotency_retention_hours
            )
        await asyncio.sleep(3600)
