"""Who may read reports: the platform's tokens (everything), or an organisation's credentials
(its own networks only): a JWT from its OpenID Connect provider, checked here, or an API key,
which only the registration service can check, so it is asked and the answer kept a minute."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated

from fastapi import Depends, Request

from reporting.clients import RegistrationClient
from reporting.settings import Settings
from tilmeld_shared.auth import (
    API_KEY_PREFIX,
    BearerScheme,
    OidcVerifier,
    Principal,
    bearer_token,
    looks_like_jwt,
    role_of,
)
from tilmeld_shared.problems import Forbidden, Unauthorized

KEY_ANSWER_SECONDS = 60.0  # how long a revoked key may still read reports, at most


class Callers:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._oidc = OidcVerifier.configured(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
        )
        self._registration = RegistrationClient(settings)
        self._keys: dict[bytes, tuple[float, Principal | None]] = {}

    async def close(self) -> None:
        await self._registration.close()

    async def principal(self, token: str) -> Principal | None:
        role = role_of(
            token,
            organiser_token=self._settings.organiser_token,
            reporting_token=self._settings.reporting_token,
        )
        if role is not None:
            return Principal(role)
        if token.startswith(API_KEY_PREFIX):
            return await self._api_key(token)
        if self._oidc is not None and looks_like_jwt(token):
            return await self._oidc.verify(token)
        return None

    async def _api_key(self, key: str) -> Principal | None:
        digest = hashlib.sha256(key.encode()).digest()
        cached = self._keys.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        principal = await self._registration.whoami(key)
        self._keys[digest] = (time.monotonic() + KEY_ANSWER_SECONDS, principal)
        return principal


async def _reader(request: Request, _: BearerScheme) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("This endpoint needs `Authorization: Bearer <token>`.")
    callers: Callers = request.app.state.callers
    principal = await callers.principal(token)
    if principal is None:
        raise Unauthorized("The token is not valid (unknown, revoked or expired).")
    return principal


Reader = Annotated[Principal, Depends(_reader)]


async def _platform_reader(principal: Reader) -> Principal:
    if not principal.platform:
        raise Forbidden("The pipeline spans every organisation: the platform's tokens only.")
    return principal


PlatformReader = Annotated[Principal, Depends(_platform_reader)]
