"""Who is calling: bearer-token roles shared by the services, organiser (writes, rosters) and
reporting (reads), each either platform-wide (the configured tokens) or scoped to one
organisation (an API key, or a JWT from the organisation's OpenID Connect provider)."""

from __future__ import annotations

import asyncio
import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import httpx
import jwt
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tilmeld_shared.problems import Forbidden, Unauthorized

# Organisation API keys start so, which tells them from the platform tokens and JWTs.
API_KEY_PREFIX = "tlm_"


class Role(StrEnum):
    ORGANISER = "organiser"
    REPORTING = "reporting"


@dataclass(frozen=True)
class Principal:
    role: Role
    # None: the platform itself (ORGANISER_TOKEN, REPORTING_TOKEN), which sees everything.
    organisation_id: uuid.UUID | None = None

    @property
    def platform(self) -> bool:
        return self.organisation_id is None


class OidcVerifier:
    """Bearer JWTs from an OpenID Connect provider, checked against its published keys (JWKS):
    signature, issuer, audience and expiry. The role comes from the `roles` claim ("organiser"
    or "reporting") and the organisation from the `organisation` claim (its id); a token
    without an organisation is refused, since platform-wide access is only the configured
    tokens'."""

    ALGORITHMS = ("RS256", "ES256", "PS256")

    def __init__(self, *, issuer: str, audience: str, jwks_url: str | None = None) -> None:
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._client: jwt.PyJWKClient | None = None

    @classmethod
    def configured(cls, *, issuer: str, audience: str, jwks_url: str) -> OidcVerifier | None:
        """A verifier when both the issuer and the audience are set; otherwise none."""
        if not (issuer and audience):
            return None
        return cls(issuer=issuer, audience=audience, jwks_url=jwks_url or None)

    def _keys(self) -> jwt.PyJWKClient:
        # Blocking (urllib), so only ever called in a worker thread.
        if self._client is None:
            url = self._jwks_url
            if url is None:
                discovery = f"{self._issuer.rstrip('/')}/.well-known/openid-configuration"
                url = httpx.get(discovery, timeout=5).raise_for_status().json()["jwks_uri"]
            self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        return self._client

    async def verify(self, token: str) -> Principal | None:
        try:
            key = await asyncio.to_thread(lambda: self._keys().get_signing_key_from_jwt(token))
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(self.ALGORITHMS),
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
            organisation = uuid.UUID(str(claims["organisation"]))
        except (jwt.PyJWTError, httpx.HTTPError, KeyError, ValueError):
            return None
        roles = claims.get("roles") or []
        for role in (Role.ORGANISER, Role.REPORTING):
            if role.value in roles:
                return Principal(role, organisation)
        return None


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


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


# Declares the bearer scheme in a service's OpenAPI document, on each operation whose
# dependencies take it; the checks are the services' own (auto_error off: a missing token is
# their 401 with problem details, not FastAPI's bare 403).
_BEARER = HTTPBearer(
    auto_error=False,
    description="ORGANISER_TOKEN or REPORTING_TOKEN (the platform) or, where the service takes "
    "them, an organisation's API key (`tlm_…`) or a JWT from the organisation's OpenID Connect "
    "provider. An operation's description says which roles it admits.",
)
BearerScheme = Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]


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


def app_role(*allowed: Role) -> Callable[..., Awaitable[Role]]:
    """`require_role` against the tokens in the app's own settings (`app.state.settings`)."""

    async def dependency(request: Request, _: BearerScheme) -> Role:
        settings = request.app.state.settings
        check = require_role(
            *allowed,
            organiser_token=lambda: str(settings.organiser_token),
            reporting_token=lambda: str(settings.reporting_token),
        )
        return await check(request)

    return dependency
