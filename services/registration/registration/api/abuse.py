"""Rate limits on the public POSTs: per client address and per email, so one client cannot
flood sign-ups or mail someone else's inbox, while everyone else still gets through.

Moving windows from the `limits` library; the storage is a setting, so several replicas can
share one (Redis) instead of each counting alone.
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MovingWindowSupport
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from registration.settings import Settings
from tilmeld_shared.problems import TooManyRequests


class AbuseLimits:
    def __init__(self, settings: Settings) -> None:
        storage = storage_from_string(settings.rate_limit_storage)  # "async+..." schemes
        if not isinstance(storage, MovingWindowSupport):
            raise ValueError(f"{settings.rate_limit_storage} cannot count moving windows")
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_address = _parse(settings.rate_limit_per_address)
        self._per_email = _parse(settings.rate_limit_per_email)

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
