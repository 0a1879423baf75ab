"""The OpenAPI document every service publishes the same way: readable operation ids, and the
document at the root as well as under the API's base path."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """The route's function name (`list_networks`), which generated clients name methods by.

    FastAPI's default appends the path and method (`list_networks_api_v1_networks_get`); a
    function name is unique within its module, and the tests keep it unique per service."""
    return route.name


def serve_openapi_at_root(app: FastAPI) -> None:
    """`GET /openapi.json`, where clients and tools look first, answers the same document as
    `app.openapi_url` (`/api/v1/openapi.json`, which the docs page reads)."""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())
