"""Every HTTP call reporting makes to another service: all of them go to registration.

- `whoami`: an organisation's API key, which only registration can check (api/auth.py).
- `outbox_status`: the relay's backlog, for the pipeline dashboard (pipeline.py).
- `events` and `stats`: the event log and registration's own counts, for rebuilding and
  reconciling (maintenance.py).
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import httpx

from reporting.settings import Settings
from tilmeld_shared.auth import Principal, Role
from tilmeld_shared.correlation import forward_correlation_id

# Per call: a key check holds up a request, the dashboard polls, the log pages are large.
WHOAMI_TIMEOUT_S = 5.0
OUTBOX_STATUS_TIMEOUT_S = 1.5
EVENT_LOG_TIMEOUT_S = 30.0


class RegistrationClient:
    """The registration service's API as reporting uses it; close it, or use `async with`."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._client = httpx.AsyncClient(
            base_url=f"{settings.registration_url}/api/v1",
            transport=transport,
            timeout=WHOAMI_TIMEOUT_S,
            event_hooks={"request": [forward_correlation_id]},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> RegistrationClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def whoami(self, key: str) -> Principal | None:
        """Whose key this is; None for one registration does not know (or has revoked).

        Raises ConnectionError when it cannot say now (answered 503 with Retry-After)."""
        try:
            answer = await self._client.get("/whoami", headers=_bearer(key))
        except httpx.HTTPError as error:
            raise ConnectionError("the registration service cannot check keys now") from error
        if answer.status_code == 401:
            return None
        if answer.status_code != 200:
            raise ConnectionError(f"checking a key, registration answered {answer.status_code}")
        body = answer.json()
        organisation = body.get("organisation_id")
        organisation_id = uuid.UUID(organisation) if organisation else None
        return Principal(Role(body["role"]), organisation_id)

    async def outbox_status(self) -> dict[str, Any] | None:
        """The relay's backlog; None when registration cannot say (the dashboard shows that)."""
        token = self._settings.reporting_token or self._settings.organiser_token
        try:
            response = await self._client.get(
                "/outbox/status", headers=_bearer(token), timeout=OUTBOX_STATUS_TIMEOUT_S
            )
            return dict(response.json()) if response.status_code == 200 else None
        except httpx.HTTPError:
            return None

    async def events(self, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
        """A page of the event log: `items` (each an `envelope` and its `position`) and
        `next_cursor`."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self._organiser_get("/events", params=params)

    async def stats(self) -> dict[str, Any]:
        """Registration's own counts per meeting and network, and member dialogue's per
        consultation and proposal."""
        return await self._organiser_get("/stats")

    async def _organiser_get(
        self, path: str, *, params: dict[str, str | int] | None = None
    ) -> dict[str, Any]:
        response = await self._client.get(
            path,
            params=params,
            headers=_bearer(self._settings.organiser_token),
            timeout=EVENT_LOG_TIMEOUT_S,
        )
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
