"""What each service's OpenAPI document promises a client: which operations want a bearer token,
what they answer without one, and what the reports look like, as JSON and as CSV."""

from __future__ import annotations

from typing import Any

import pytest

import notification.main
import notification.settings
import reporting.main
import reporting.settings
from tests.builders import ORGANISER_TOKEN, REPORTING_TOKEN

SETTINGS = {
    "database_url": "postgresql://unused/unused",
    "kafka_bootstrap_servers": "unused:9092",
    "organiser_token": ORGANISER_TOKEN,
    "reporting_token": REPORTING_TOKEN,
}


def _document(service: str) -> dict[str, Any]:
    """The service's document, built by its factory without starting it."""
    if service == "notification":
        app = notification.main.create_app(notification.settings.Settings(**SETTINGS))
    else:
        app = reporting.main.create_app(reporting.settings.Settings(**SETTINGS))
    return app.openapi()


def _api_operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
    }


@pytest.mark.parametrize("service", ["notification", "reporting"])
def test_every_api_operation_says_it_needs_a_bearer_token_and_answers_401_and_403(
    service: str,
) -> None:
    document = _document(service)
    (scheme_name, scheme), *_ = document["components"]["securitySchemes"].items()
    operations = _api_operations(document)

    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert operations
    for name, operation in operations.items():
        assert operation.get("security") == [{scheme_name: []}], name
        for status in ("401", "403"):
            assert "application/problem+json" in operation["responses"][status]["content"], name


def test_every_report_documents_its_fields_and_offers_csv() -> None:
    document = _document("reporting")
    schemas = document["components"]["schemas"]
    reports = {
        name: operation["responses"]["200"]["content"]
        for name, operation in _api_operations(document).items()
        if name.startswith("GET /api/v1/reports/") and not name.endswith("/pipeline")
    }

    assert {name.removeprefix("GET /api/v1/reports/") for name in reports} == {
        "overview",
        "meetings",
        "meetings/{meeting_id}",
        "meetings/{meeting_id}/feedback",
        "municipalities",
        "networks",
        "networks/{network_id}",
        "networks/{network_id}/parties",
        "networks/{network_id}/consultations",
        "networks/{network_id}/proposals",
        "consultations/{consultation_id}",
        "timeseries",
    }
    for name, content in reports.items():
        # The dashboard's headline figures are one small object, not a table to download.
        if not name.endswith("/overview"):
            assert content["text/csv"]["schema"] == {"type": "string"}, name
        json_schema = content["application/json"]["schema"]
        if json_schema.get("type") == "array":  # the time series: a bare list, as the contract
            json_schema = json_schema["items"]
        model = schemas[json_schema["$ref"].rsplit("/", 1)[-1]]
        if "items" in model["properties"]:  # a page of reports
            model = schemas[model["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]]
        assert model["properties"], name
    meeting = schemas["MeetingReport"]["properties"]
    assert {"capacity", "seats_confirmed", "no_shows", "utilisation", "as_of"} <= meeting.keys()
