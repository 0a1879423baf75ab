"""Writing events to the transactional outbox, in the same transaction as the state change."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime

import asyncpg

from registration.repository import events
from tilmeld_shared.correlation import current_correlation_id
from tilmeld_shared.db import Connection
from tilmeld_shared.events import Payload, new_envelope
from tilmeld_shared.tracing import current_trace_context

NOTIFY_CHANNEL = "tilmeld_outbox"

# When the events being recorded happened, if not now: set only while history is written down
# after the fact (service/history.py), like the correlation id, so use cases need not pass it.
_OCCURRED_AT: ContextVar[datetime | None] = ContextVar("occurred_at", default=None)


async def record_event(
    conn: Connection,
    payload: Payload,
    *,
    aggregate_id: uuid.UUID,
    aggregate_version: int,
    key: uuid.UUID,
) -> uuid.UUID:
    """Add one event to the outbox; the caller's transaction makes it atomic with the change."""
    entry = outbox_entry(
        payload, aggregate_id=aggregate_id, aggregate_version=aggregate_version, key=key
    )
    await events.insert(
        conn,
        event_id=entry.event_id,
        topic=entry.topic,
        message_key=entry.message_key,
        event_type=entry.event_type,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        envelope=entry.envelope,
        traceparent=entry.traceparent,
        tracestate=entry.tracestate,
    )
    return entry.event_id


def outbox_entry(
    payload: Payload, *, aggregate_id: uuid.UUID, aggregate_version: int, key: uuid.UUID
) -> events.OutboxEntry:
    """The event's outbox row, for a statement that writes it along with its change.

    The current trace context (the request's span, when tracing is on) is kept with the row,
    read here like the correlation id so use cases need not pass it; the relay sends it on."""
    trace_context = current_trace_context()
    envelope = new_envelope(
        payload,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        correlation_id=current_correlation_id(),
        occurred_at=_OCCURRED_AT.get(),
    )
    return events.OutboxEntry(
        event_id=envelope.event_id,
        topic=payload.topic,
        message_key=str(key),
        event_type=payload.event_type,
        envelope=envelope.model_dump(mode="json"),
        traceparent=trace_context.get("traceparent"),
        tracestate=trace_context.get("tracestate"),
    )


@contextlib.contextmanager
def occurring_at(moment: datetime) -> Iterator[None]:
    """Events recorded inside this block say they occurred at `moment`."""
    token = _OCCURRED_AT.set(moment)
    try:
        yield
    finally:
        _OCCURRED_AT.reset(token)


class OutboxSignal:
    """Wakes the relay after a commit that wrote events.

    In the relay's own process an asyncio event does it; other processes get a NOTIFY, debounced
    to one per `debounce_s`, because NOTIFY takes a global lock at commit and one per request
    would serialise every writer. The relay's polling covers a wake-up lost to a crash.
    """

    def __init__(self, pool: asyncpg.Pool, *, debounce_s: float = 0.02) -> None:
        self._pool = pool
        self._debounce_s = debounce_s
        self._pending: asyncio.Task[None] | None = None
        self.local_wakeup = asyncio.Event()
        self.local_relay_is_leader: Callable[[], bool] = lambda: False

    def events_committed(self) -> None:
        self.local_wakeup.set()
        if self.local_relay_is_leader() or self._pending is not None:
            return
        self._pending = asyncio.create_task(self._notify_soon())

    async def _notify_soon(self) -> None:
        try:
            await asyncio.sleep(self._debounce_s)
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await events.notify(self._pool, channel=NOTIFY_CHANNEL)
        finally:
            self._pending = None
