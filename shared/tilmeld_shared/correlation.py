"""The correlation id of the request or message being handled, for logs and outgoing events."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

import httpx

# Taken from a request, answered with it, and sent on every call to another service.
CORRELATION_HEADER = b"x-correlation-id"

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str:
    value = _current.get()
    if value is None:
        value = str(uuid.uuid4())
        _current.set(value)
    return value


def set_correlation_id(value: str | None) -> None:
    _current.set(value or str(uuid.uuid4()))


def correlation_id_if_any() -> str | None:
    """The current id, without making one (for log lines outside any request or message)."""
    return _current.get()


async def forward_correlation_id(request: httpx.Request) -> None:
    """An httpx request hook: the call to another service carries the current id."""
    if (value := _current.get()) is not None:
        request.headers.setdefault("X-Correlation-ID", value)
