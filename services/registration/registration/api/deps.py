"""Dependencies of the routes, as Annotated aliases.

All `async def`: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per
request that cost 8 % of the registration API's CPU when profiled."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from registration.api.abuse import AbuseLimits
from registration.pagination import Cursor
from registration.settings import Settings
from registration.unit_of_work import IdempotentRequest, ServiceContext, Transactions
from tilmeld_shared.auth import Role, app_role, bearer_token, role_of


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _transactions(request: Request) -> Transactions:
    transactions: Transactions = request.app.state.transactions
    return transactions


async def _context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


async def _abuse_limits(request: Request) -> AbuseLimits:
    limits: AbuseLimits = request.app.state.abuse_limits
    return limits


SettingsDep = Annotated[Settings, Depends(_settings)]
AbuseLimitsDep = Annotated[AbuseLimits, Depends(_abuse_limits)]
TransactionsDep = Annotated[Transactions, Depends(_transactions)]
ContextDep = Annotated[ServiceContext, Depends(_context)]


Organiser = Annotated[Role, Depends(app_role(Role.ORGANISER))]


async def _is_organiser(request: Request) -> bool:
    """For endpoints a person or an organiser may use: True only for a valid organiser token."""
    token = bearer_token(request)
    if token is None:
        return False
    settings: Settings = request.app.state.settings
    role = role_of(
        token, organiser_token=settings.organiser_token, reporting_token=settings.reporting_token
    )
    return role is Role.ORGANISER


IsOrganiser = Annotated[bool, Depends(_is_organiser)]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retries with the same key and body return the first response.",
    ),
]


def idempotent_request(
    key: str | None, request: Request, canonical_body: str
) -> IdempotentRequest | None:
    if key is None:
        return None
    return IdempotentRequest.of(
        key, method=request.method, path=request.url.path, canonical_body=canonical_body
    )


Limit = Annotated[int, Query(ge=1, le=500)]


async def _cursor(cursor: Annotated[str | None, Query(max_length=500)] = None) -> Cursor | None:
    return Cursor.decode(cursor)


CursorDep = Annotated[Cursor | None, Depends(_cursor)]
