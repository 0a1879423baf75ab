"""Every HTTP call notification makes to another service; today one, to registration.

Events carry people's names and addresses sealed with a key only the registration service
holds; `PersonalDataOpener` asks it to open them, a batch at a time, just before the emails are
built. What it returns lives in memory and in the delivery ledger (which erasure blanks), never
in a log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from notification.settings import Settings
from tilmeld_shared.consuming import Event
from tilmeld_shared.correlation import forward_correlation_id
from tilmeld_shared.events import PersonalData

# The registration service refuses request bodies over 64 KiB (413). A consumer batch after a
# backlog holds hundreds of sealed items, so they are asked for in requests kept well below it.
REQUEST_BYTES = 48 * 1024


class PersonalDataUnavailable(ConnectionError):
    """The registration service could not answer now: transient, the batch is retried."""


class PersonalDataOpener:
    """`POST /api/v1/personal-data/open` on the registration service, with the personal data
    token; `transport` lets tests answer in-process."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=settings.registration_url,
            transport=transport,
            headers={"Authorization": f"Bearer {settings.effective_personal_data_token}"},
            timeout=5,
            event_hooks={"request": [forward_correlation_id]},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def open_all(self, events: list[Event]) -> list[Event]:
        """The events with `personal` filled in where it came sealed; an erased member's stays
        None, so nobody is written to."""
        sealed = [
            (index, payload)
            for index, (_, payload) in enumerate(events)
            if getattr(payload, "personal_sealed", None) is not None
            and getattr(payload, "personal", None) is None
        ]
        if not sealed:
            return events
        items = [payload.personal_sealed.model_dump(mode="json") for _, payload in sealed]  # type: ignore[union-attr]
        opened: list[dict[str, Any] | None] = []
        for chunk in _chunks(items, REQUEST_BYTES):
            opened.extend(await self._open(chunk))
        result = list(events)
        for (index, payload), data in zip(sealed, opened, strict=True):
            personal = PersonalData.model_validate(data) if data else None
            assert payload is not None
            result[index] = (events[index][0], payload.model_copy(update={"personal": personal}))
        return result

    async def _open(self, items: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        try:
            answer = await self._client.post("/api/v1/personal-data/open", json={"items": items})
        except httpx.TransportError as error:
            raise PersonalDataUnavailable(
                f"registration unreachable: {type(error).__name__}"
            ) from error
        if answer.status_code >= 500:
            raise PersonalDataUnavailable(f"registration answered {answer.status_code}")
        answer.raise_for_status()  # 401/422: a misconfiguration; the batch is redelivered
        opened: list[dict[str, Any] | None] = answer.json()["items"]
        return opened


def _chunks(items: list[dict[str, Any]], max_bytes: int) -> Iterator[list[dict[str, Any]]]:
    """The items in order, in runs whose JSON stays under `max_bytes` (one item per run at
    least, however large)."""
    chunk: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item)) + 2
        if chunk and size + item_bytes > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_bytes
    if chunk:
        yield chunk
