"""Small builders of request bodies, so tests say only what matters to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

ORGANISER_TOKEN = "test-organiser-token"
REPORTING_TOKEN = "test-reporting-token"
ORGANISER = {"Authorization": f"Bearer {ORGANISER_TOKEN}"}
REPORTING = {"Authorization": f"Bearer {REPORTING_TOKEN}"}


def network_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Netværk om grøn omstilling i kulturlivet",
        "description": "Kommuner og kulturliv i den grønne omstilling.",
        "organisers": ["KL"],
        "language": "da",
        "max_companions": 1,
        **overrides,
    }


def meeting_body(*, capacity: int = 20, days_ahead: int = 14, **overrides: Any) -> dict[str, Any]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_ahead)
    return {
        "title": "Møde 1: Klima, demokrati og samskabelse",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=5)).isoformat(),
        "location": "Kulturværftet, Helsingør",
        "capacity": capacity,
        **overrides,
    }


# Every name and address the builders hand out: the suite fails if any shows up in a log
# (tests/conftest.py, pytest_sessionfinish).
PERSONAL_DATA: set[str] = set()


def member(
    *, name: str = "Mette Hansen", municipality: str = "Roskilde", language: str | None = None
) -> dict[str, Any]:
    body = {
        "name": name,
        "email": f"{uuid.uuid4().hex[:10]}@{municipality.lower().replace(' ', '-')}.example",
        "municipality": municipality,
        "role": "Kulturkonsulent",
    }
    if language:
        body["language"] = language
    PERSONAL_DATA.update((body["name"], body["email"]))
    return body


def companion(name: str = "Ole Klimarådgiver", email: str | None = None) -> dict[str, Any]:
    PERSONAL_DATA.update(filter(None, (name, email)))
    return {"name": name, "role": "Klimarådgiver", **({"email": email} if email else {})}
