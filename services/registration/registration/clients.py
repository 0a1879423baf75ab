"""Every HTTP call the registration service makes to another service."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from registration.settings import Settings
from tilmeld_shared.correlation import forward_correlation_id


async def exports_elsewhere(settings: Settings, member_id: uuid.UUID) -> dict[str, Any]:
    """What notification and reporting hold on the person, by service name.

    All or nothing: ConnectionError if either cannot answer, never a partial export."""
    headers = {"Authorization": f"Bearer {settings.organiser_token}"}
    path = f"/api/v1/members/{member_id}/export"
    async with httpx.AsyncClient(
        timeout=10, headers=headers, event_hooks={"request": [forward_correlation_id]}
    ) as client:
        try:
            return {
                name: (await client.get(url + path)).raise_for_status().json()
                for name, url in (
                    ("notification", settings.notification_url),
                    ("reporting", settings.reporting_url),
                )
            }
        except httpx.HTTPError as error:
            raise ConnectionError("another service could not export its part") from error


async def party_coverage(settings: Settings, network_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Each party's attendance of the network's held meetings, by municipality id, as reporting
    counts it; empty when reporting cannot answer now (the console then says so).

    The platform's credential is presented: the console has already checked that the network
    belongs to the signed-in organiser's organisation."""
    headers = {"Authorization": f"Bearer {settings.organiser_token}"}
    async with httpx.AsyncClient(
        timeout=2, headers=headers, event_hooks={"request": [forward_correlation_id]}
    ) as client:
        try:
            answer = await client.get(
                f"{settings.reporting_url}/api/v1/reports/networks/{network_id}/parties"
            )
            answer.raise_for_status()
        except httpx.HTTPError:
            return {}
    return {str(item["municipality_id"]): item for item in answer.json()["items"]}
