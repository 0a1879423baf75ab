"""The reporting service's ASGI app: report API and the Kafka consumer that feeds it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from reporting.api.auth import Callers
from reporting.api.dialogue import router as dialogue_router
from reporting.api.feedback import router as feedback_router
from reporting.api.routes import members_router
from reporting.api.routes import router as reports_router
from reporting.consumer import create_broker
from reporting.pipeline import PipelineHealth
from reporting.settings import Settings
from tilmeld_shared.asyncapi import asyncapi_router, consumer_document
from tilmeld_shared.db import open_pool
from tilmeld_shared.events import ALL_TOPICS, DLQ_TOPICS
from tilmeld_shared.kafka import prepare_topics
from tilmeld_shared.observability import CorrelationId, install_observability
from tilmeld_shared.openapi import operation_id, serve_openapi_at_root
from tilmeld_shared.problems import API_PROBLEMS, install_problem_handlers

SCHEMA = "reporting"
MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(settings, schema=SCHEMA)
        app.state.pool = pool
        app.state.callers = Callers(settings)
        broker = create_broker(settings, pool)
        await prepare_topics(settings, ALL_TOPICS + DLQ_TOPICS)
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await app.state.callers.close()
            await pool.close()

    app = FastAPI(
        title="Tilmeld reporting",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.pipeline = PipelineHealth(settings)

    install_problem_handlers(app)
    install_observability(app, settings, schema=SCHEMA, migrations_dir=MIGRATIONS)
    app.add_middleware(CorrelationId)  # taken from the caller, answered, sent on
    serve_openapi_at_root(app)
    app.include_router(
        asyncapi_router(
            consumer_document(
                settings,
                title="Tilmeld reporting",
                description="Consumes registration events into aggregates without personal data.",
                group_id=settings.kafka_group_id,
            )
        )
    )
    app.include_router(reports_router, prefix=API_PREFIX, responses=API_PROBLEMS)
    app.include_router(dialogue_router, prefix=API_PREFIX, responses=API_PROBLEMS)
    app.include_router(feedback_router, prefix=API_PREFIX, responses=API_PROBLEMS)
    app.include_router(members_router, prefix=API_PREFIX, responses=API_PROBLEMS)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard() -> FileResponse:
        """The ops and organiser dashboard; it asks for the reporting token and reads the API."""
        return FileResponse(STATIC / "dashboard.html", headers={"Cache-Control": "no-cache"})

    return app
