"""RFC 9457 problem details for every error a service returns, including framework ones."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://tilmeld.example/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    431: "Request headers too large",
    500: "Internal server error",
    503: "Service unavailable",
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists invalid fields on a 422.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status"],
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the errors a route may answer, all as problem details."""
    return {
        status: {
            "description": _TITLES[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


# What any API route may answer besides its success (405 and 5xx are the server's, not the
# route's: a 503 is documented since a dependency may be down).
API_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 431, 503)


class Problem(Exception):
    """An error a client can act on; the service layer raises it, the API layer renders it."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, *, slug: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.slug = slug or type(self).slug
        self.extensions = extensions


class NotFound(Problem):
    status = 404
    slug = "not-found"


class Conflict(Problem):
    status = 409
    slug = "conflict"


class TooManyRequests(Problem):
    """A rate limit was reached; `retry_after` seconds until the next attempt may pass."""

    status = 429
    slug = "rate-limited"

    def __init__(self, detail: str, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.retry_after = max(1, retry_after)


class Invalid(Problem):
    status = 422
    slug = "invalid-input"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"


class Forbidden(Problem):
    status = 403
    slug = "forbidden"


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or _TITLES.get(status, "error").lower().replace(" ", "-")),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        # "body" / "query" tell where; the rest names the field a person would recognise.
        errors.append(
            {
                "field": ".".join(location[1:]) or location[0] if location else "",
                "in": location[0] if location else "body",
                "message": item.get("msg", "invalid"),
                "type": item.get("type", "value_error"),
            }
        )
    return errors


def _methods_for(request: Request) -> list[str]:
    """Every method the app's OpenAPI document serves at the request's path."""
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem details: domain problems, validation, HTTP, database down."""

    @app.exception_handler(Problem)
    async def _domain(_: Request, error: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        if isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        return problem_response(
            error.status, error.detail, slug=error.slug, headers=headers, **error.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "The request did not pass validation; see `errors`.",
            slug="invalid-input",
            errors=_validation_errors(error),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 405:
            # Starlette names only the methods of the one route it matched; a path served by
            # several routes (GET and PATCH) must list them all.
            headers["Allow"] = ", ".join(_methods_for(request))
        return problem_response(error.status_code, str(error.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=error)
        return problem_response(500, "Something went wrong on our side; it has been logged.")

    @app.exception_handler(OSError)
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.CannotConnectNowError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(TimeoutError)
    async def _unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("dependency unavailable: %s", type(error).__name__)
        return problem_response(
            503,
            "A backing service is unavailable; retry shortly.",
            slug="unavailable",
            headers={"Retry-After": "2"},
        )


class BodySizeLimit:
    """Refuse bodies over the limit with 413 before the application reads them.

    Plain ASGI rather than BaseHTTPMiddleware: that wrapper costs a task and a stream per
    request, a quarter of the registration API's CPU when measured (docs/figures.md)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        # A chunked body declares no length: read it up to the limit, then hand it on.
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, f"Request bodies are limited to {self.max_bytes} bytes.")
        await response(scope, receive, send)
