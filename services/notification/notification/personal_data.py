"""Events carry people's names and addresses sealed with a key only the registration service
holds; this asks it to open them, a batch at a time, just before the emails are built. What it
returns lives in memory and in the delivery ledger (which erasure blanks), never in a log."""

from __future__ import annotations

from typing import Any

import httpx

from notification.settings import Settings
from tilmeld_shared.events import Envelope, Payload, PersonalData


class PersonalDataUnavailable(ConnectionError):
    """The registration service could not answer now: transient, the batch is retried."""


Event = tuple[Envelope, Payload | None]


class PersonalDataOpener:
    def __init__(self, settings: Settings) -> None:
        self._client = httpx.AsyncClient(
            base_url=settings.registration_url,
            headers={"Authorization": f"Bearer {settings.effective_personal_data_token}"},
            timeout=5,
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
        opened = await self._open(items)
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
