"""Serving the AsyncAPI document FastStream generates from a consumer's subscribers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html


def asyncapi_router(broker: KafkaBroker, *, title: str, description: str) -> APIRouter:
    """`/asyncapi` (a page) and `/asyncapi.json` (the document)."""
    specification = AsyncAPI(broker, title=title, version="1.0.0", description=description)
    router = APIRouter(tags=["asyncapi"])

    @router.get("/asyncapi", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(
            get_asyncapi_html(specification.to_specification(), try_it_out_path=None)
        )

    @router.get("/asyncapi.json", include_in_schema=False)
    async def document() -> JSONResponse:
        content: Any = specification.to_specification().to_jsonable()
        return JSONResponse(content)

    return router
