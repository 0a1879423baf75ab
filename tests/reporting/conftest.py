"""The reporting service's pool and its report API in process, against real Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from reporting.api.auth import Callers
from reporting.api.dialogue import router as dialogue_router
from reporting.api.feedback import router as feedback_router
from reporting.api.routes import router
from reporting.settings import Settings
from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN
from tilmeld_shared.db import create_pool
from tilmeld_shared.problems import install_problem_handlers


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, schema="reporting")
    yield pool
    await pool.close()


@pytest.fixture
async def client(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router, prefix="/api/v1")
    app.include_router(dialogue_router, prefix="/api/v1")
    app.include_router(feedback_router, prefix="/api/v1")
    app.state.pool = pool
    app.state.settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers="-",
        organiser_token=ORGANISER_TOKEN,
        reporting_token=REPORTING_TOKEN,
    )
    app.state.callers = Callers(app.state.settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reporting/api/v1"
    ) as http:
        yield http
    await app.state.callers.close()
