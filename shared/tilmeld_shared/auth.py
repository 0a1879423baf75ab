"""Bearer-token roles shared by the services: organiser (writes, rosters) and reporting (reads)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Request

from tilmeld_shared.problems import Forbidden, Unauthorized


class Role(StrEnum):
    ORGANISER = "organiser"
    REPORTING = "reporting"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def role_of(token: str, *, organiser_token: str, reporting_token: str | None) -> Role | None:
    # Constant-time comparisons: a token is a secret, and timing must not leak its prefix.
    if organiser_token and hmac.compare_digest(token.encode(), organiser_token.encode()):
        return Role.ORGANISER
    if reporting_token and hmac.compare_digest(token.encode(), reporting_token.encode()):
        return Role.REPORTING
    return None


def require_role(
    *allowed: Role, organiser_token: Callable[[], str], reporting_token: Callable[[], str | None]
) -> Callable[[Request], Awaitable[Role]]:
    """A FastAPI dependency that admits only the given roles: 401 without a known token, 403 for
    a known token of another role."""

    async def dependency(request: Request) -> Role:
        token = bearer_token(request)
        if token is None:
            raise Unauthorized("This endpoint needs `Authorization: Bearer <token>`.")
        role = role_of(token, organiser_token=organiser_token(), reporting_token=reporting_token())
        if role is None:
            raise Unauthorized("The token is not valid.")
        if role not in allowed:
            raise Forbidden(f"The {role} role may not use this endpoint.")
        return role

    return dependency


def app_role(*allowed: Role) -> Callable[[Request], Awaitable[Role]]:
    """`require_role` against the tokens in the app's own settings (`app.state.settings`)."""

    async def dependency(request: Request) -> Role:
        settings = request.app.state.settings
        check = require_role(
            *allowed,
            organiser_token=lambda: str(settings.organiser_token),
            reporting_token=lambda: str(settings.reporting_token),
        )
        return await check(request)

    return dependency
