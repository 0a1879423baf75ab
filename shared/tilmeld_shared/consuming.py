"""What both consumers need around a handler: telling transient failures from poison."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures that go away by themselves: the database restarting, a connection dropped.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


async def retry_transient(
    operation: Callable[[], Awaitable[T]], *, give_up_after_s: float = 120.0
) -> T:
    """Retry with exponential backoff and full jitter while the failure is transient.

    Past `give_up_after_s` the error propagates and the subscriber's NACK_ON_ERROR policy
    redelivers the message, so nothing is committed past an unprocessed event.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after_s
    delay = 0.1
    while True:
        try:
            return await operation()
        except TRANSIENT_ERRORS as error:
            if loop.time() > deadline:
                raise
            log.warning(
                "transient failure (%s); retrying in up to %.1fs", type(error).__name__, delay
            )
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 5.0)
