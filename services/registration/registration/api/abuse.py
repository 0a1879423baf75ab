"""Rate limits on the public POSTs: per client address and per email, so one client cannot
flood sign-ups or mail someone else's inbox, while everyone else still gets through.

Moving windows from the `limits` library; the storage is a setting, so several replicas can
share one (Redis) instead of each counting alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MovingWindowSupport
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from registration.settings import Settings
from tilmeld_shared.auth import Principal
from tilmeld_shared.problems import TooManyRequests


class AbuseLimits:
    def __init__(self, settings: Settings) -> None:
        storage = storage_from_string(settings.rate_limit_storage)  # "async+..." schemes
        if not isinstance(storage, MovingWindowSupport):
            raise ValueError(f"{settings.rate_limit_storage} cannot count moving windows")
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_address = _parse(settings.rate_limit_per_address)
        self._per_email = _parse(settings.rate_limit_per_email)
        self._dialogue_per_email = _parse(settings.rate_limit_dialogue_per_email)

    def public_request(
        self, request: Request, organiser: Principal | None
    ) -> Callable[[], Awaitable[None]] | None:
        """The admission check of a public POST, to run only if it will act (a replay of an
        Idempotency-Key never counts); organisers enter people themselves and are not limited."""
        if organiser is not None:
            return None
        return lambda: self.check_address(request)

    def public_sign_up(
        self, request: Request, email: str, organiser: Principal | None
    ) -> Callable[[], Awaitable[None]] | None:
        """As public_request, and per email too, so nobody floods someone else's inbox."""
        if organiser is not None:
            return None

        async def admit() -> None:
            await self.check_address(request)
            await self.check_email(email)

        return admit

    def public_voice(
        self, request: Request, email: str, organiser: Principal | None
    ) -> Callable[[], Awaitable[None]] | None:
        """The admission check of a response, proposal or vote: per client address, and per
        email by a limit of its own (one person votes for many proposals, and an unconfirmed
        one mails them once, not per vote). Refused, it is stored nowhere and never counted."""
        if organiser is not None:
            return None

        async def admit() -> None:
            await self.check_address(request)
            await self._hit(self._dialogue_per_email, "email", email.strip().lower())

        return admit

    async def check_address(self, request: Request) -> None:
        address = request.client.host if request.client else "unknown"
        await self._hit(self._per_address, "address", address)

    async def check_email(self, email: str) -> None:
        await self._hit(self._per_email, "email", email.strip().lower())

    async def _hit(self, limit: RateLimitItem | None, kind: str, who: str) -> None:
        if limit is None or await self._limiter.hit(limit, kind, who):
            return
        stats = await self._limiter.get_window_stats(limit, kind, who)
        raise TooManyRequests(
            f"Too many requests from this {kind}; try again later.",
            retry_after=math.ceil(stats.reset_time - time.time()),
        )


def _parse(text: str) -> RateLimitItem | None:
    return parse(text) if text.strip() else None
