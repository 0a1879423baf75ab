"""Dependencies of the routes, as Annotated aliases.

All `async def`: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per
request that cost 8 % of the registration API's CPU when profiled."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from registration.api.abuse import AbuseLimits
from registration.pagination import Cursor
from registration.service import organisations
from registration.settings import Settings
from registration.unit_of_work import IdempotentRequest, ServiceContext, Transactions
from tilmeld_shared.auth import (
    API_KEY_PREFIX,
    BearerScheme,
    OidcVerifier,
    Principal,
    Role,
    bearer_token,
    looks_like_jwt,
    role_of,
)
from tilmeld_shared.problems import Forbidden, Unauthorized


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


async def _principal(request: Request) -> Principal | None:
    """Who the bearer token says is calling, or None for no token or one we do not know."""
    token = bearer_token(request)
    if token is None:
        return None
    settings: Settings = request.app.state.settings
    role = role_of(
        token, organiser_token=settings.organiser_token, reporting_token=settings.reporting_token
    )
    if role is not None:
        return Principal(role)
    if token.startswith(API_KEY_PREFIX):
        transactions: Transactions = request.app.state.transactions
        return await organisations.caller_with_api_key(transactions, token)
    oidc: OidcVerifier | None = request.app.state.oidc
    if oidc is not None and looks_like_jwt(token):
        return await oidc.verify(token)
    return None


async def _caller(request: Request, *allowed: Role) -> Principal:
    if bearer_token(request) is None:
        raise Unauthorized("This endpoint needs `Authorization: Bearer <token>`.")
    principal = await _principal(request)
    if principal is None:
        raise Unauthorized("The token is not valid (unknown, revoked or expired).")
    if principal.role not in allowed:
        raise Forbidden(f"The {principal.role} role may not use this endpoint.")
    return principal


async def _organiser(request: Request, _: BearerScheme) -> Principal:
    return await _caller(request, Role.ORGANISER)


async def _platform_organiser(request: Request, _: BearerScheme) -> Principal:
    principal = await _caller(request, Role.ORGANISER)
    if not principal.platform:
        raise Forbidden("Only the platform administrator may use this endpoint.")
    return principal


async def _platform_reader(request: Request, _: BearerScheme) -> Principal:
    principal = await _caller(request, Role.ORGANISER, Role.REPORTING)
    if not principal.platform:
        raise Forbidden("Only the platform's own tokens may use this endpoint.")
    return principal


async def _organiser_if_any(request: Request) -> Principal | None:
    """For endpoints a person or an organiser may use: the organiser, if a valid one calls."""
    principal = await _principal(request)
    return principal if principal is not None and principal.role is Role.ORGANISER else None


async def _any_caller(request: Request, _: BearerScheme) -> Principal:
    return await _caller(request, Role.ORGANISER, Role.REPORTING)


# An organiser of an organisation, or the platform administrator (ORGANISER_TOKEN).
Organiser = Annotated[Principal, Depends(_organiser)]
PlatformAdmin = Annotated[Principal, Depends(_platform_organiser)]
PlatformReader = Annotated[Principal, Depends(_platform_reader)]
OrganiserIfAny = Annotated[Principal | None, Depends(_organiser_if_any)]
Caller = Annotated[Principal, Depends(_any_caller)]

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
    key: str | None,
    request: Request,
    canonical_body: str,
    *,
    caller: Principal | None,
    person_email: str | None = None,
) -> IdempotentRequest | None:
    """The request as its Idempotency-Key names it, scoped to who sent it: an organisation (or
    the platform), else the person the public request is about; a stored response (with its
    cancel token) goes back only to the same caller."""
    if key is None:
        return None
    if caller is not None:
        scope = "platform" if caller.platform else f"organisation:{caller.organisation_id}"
    elif person_email is not None:
        digest = hashlib.sha256(person_email.strip().lower().encode()).hexdigest()
        scope = f"person:{digest}"
    else:
        scope = "public"
    return IdempotentRequest.of(
        key,
        caller=scope,
        method=request.method,
        path=request.url.path,
        canonical_body=canonical_body,
    )


Limit = Annotated[int, Query(ge=1, le=500)]


async def _cursor(cursor: Annotated[str | None, Query(max_length=500)] = None) -> Cursor | None:
    return Cursor.decode(cursor)


CursorDep = Annotated[Cursor | None, Depends(_cursor)]
