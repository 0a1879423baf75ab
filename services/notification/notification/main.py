"""The notification service's ASGI app: HTTP API, Kafka consumer and SMTP dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from notification.api.routes import router as notifications_router
from notification.clients import PersonalDataOpener
from notification.consumer import create_broker
from notification.dispatcher import Dispatcher
from notification.scheduler import run_reminders
from notification.settings import Settings
from tilmeld_shared.asyncapi import asyncapi_router, consumer_document
from tilmeld_shared.db import open_pool
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS
from tilmeld_shared.kafka import prepare_topics
from tilmeld_shared.observability import CorrelationId, install_observability
from tilmeld_shared.openapi import operation_id, serve_openapi_at_root
from tilmeld_shared.problems import API_PROBLEMS, install_problem_handlers

SCHEMA = "notification"
MIGRATIONS = Path(__file__).parent / "migrations"
API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(settings, schema=SCHEMA)
        dispatcher = Dispatcher(pool, settings)
        app.state.pool = pool
        app.state.dispatcher = dispatcher
        opener = PersonalDataOpener(settings)
        broker = create_broker(settings, pool, dispatcher, opener)
        await prepare_topics(settings, ALL_TOPICS + DLQ_TOPICS)
        await broker.start()
        tasks = [
            asyncio.create_task(dispatcher.run(), name="smtp-dispatcher"),
            asyncio.create_task(
                run_reminders(
                    pool, settings, dispatcher, interval_s=settings.reminder_poll_interval_s
                ),
                name="reminders",
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await broker.stop()
            await opener.close()
            await pool.close()

    app = FastAPI(
        title="Tilmeld notification",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings

    install_problem_handlers(app)
    install_observability(app, settings, schema=SCHEMA, migrations_dir=MIGRATIONS)
    app.add_middleware(CorrelationId)  # taken from the caller, answered, sent on
    serve_openapi_at_root(app)
    app.include_router(
        asyncapi_router(
            consumer_document(
                settings,
                title="Tilmeld notification",
                description="Consumes registration events and sends emails.",
                group_id=settings.kafka_group_id,
            )
        )
    )
    app.include_router(notifications_router, prefix=API_PREFIX, responses=API_PROBLEMS)
    return app
