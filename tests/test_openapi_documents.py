"""Each service's OpenAPI document, where clients look for it and as code generators read it.
Building an app opens no connection, so these need no infrastructure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from notification.main import create_app as notification_app
from notification.settings import Settings as NotificationSettings
from registration.main import create_app as registration_app
from registration.settings import Settings as RegistrationSettings
from reporting.main import create_app as reporting_app
from reporting.settings import Settings as ReportingSettings

NEVER_CONNECTED = {
    "database_url": "postgresql://127.0.0.1:1/never-connected",
    "kafka_bootstrap_servers": "127.0.0.1:1",
}
APPS: dict[str, Callable[[], FastAPI]] = {
    "registration": lambda: registration_app(RegistrationSettings(**NEVER_CONNECTED)),
    "notification": lambda: notification_app(NotificationSettings(**NEVER_CONNECTED)),
    "reporting": lambda: reporting_app(ReportingSettings(**NEVER_CONNECTED)),
}


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as client:
        return await client.get(path)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (operation["operationId"], method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


@pytest.mark.parametrize("name", APPS)
async def test_each_service_answers_its_openapi_document_at_the_root_too(name: str) -> None:
    app = APPS[name]()

    at_root = await _get(app, "/openapi.json")
    under_the_api = await _get(app, "/api/v1/openapi.json")

    assert at_root.status_code == 200
    assert at_root.headers["content-type"] == "application/json"
    assert at_root.json() == under_the_api.json()
    assert at_root.json()["info"]["title"] == f"Tilmeld {name}"


@pytest.mark.parametrize("name", APPS)
async def test_every_operation_is_named_by_its_function_once_per_service(name: str) -> None:
    app = APPS[name]()

    operations = _operations((await _get(app, "/openapi.json")).json())
    ids = [operation_id for operation_id, _, _ in operations]
    # FastAPI's default id ends in the path and the method: `list_networks_api_v1_networks_get`.
    generated = [op for op in operations if op[0].endswith(f"_{op[1].lower()}")]

    assert len(ids) == len(set(ids)), f"{name} names two operations alike: {sorted(ids)}"
    assert not generated, f"{name} has generated operation ids: {generated}"
    assert ("list_notifications" if name == "notification" else "health_ready") in ids
    if name == "registration":
        assert ("list_networks", "GET", "/api/v1/networks") in operations
