"""The demo data's history, loaded as `make run` loads it, through the real processes: the German
series' past meetings email no one, chart at the dates they happened and show as held."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from devstack import demo
from devstack.smtp import MailCatcher
from tests.builders import ORGANISER_TOKEN, REPORTING
from tests.e2e.conftest import Services

SERIES = "Austausch kommunaler Kulturverwaltungen"


async def _handled_by_notification(database_url: str, *, timeout_s: float = 30) -> None:
    """Until notification's inbox holds every event the registration service wrote."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            missing = await conn.fetchval(
                "SELECT count(*) FROM registration.outbox o WHERE NOT EXISTS "
                "(SELECT 1 FROM notification.inbox i WHERE i.event_id = o.event_id)"
            )
            if missing == 0:
                return
            assert time.monotonic() < deadline, f"{missing} events never reached notification"
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def _charted(services: Services, network_id: str, expected: int) -> list[dict]:
    """Reporting's daily registrations of the network, once it has counted `expected`."""
    deadline = time.monotonic() + 30
    while True:
        points = httpx.get(
            f"{services.url('reporting')}/reports/timeseries",
            params={"metric": "registrations", "bucket": "day", "network_id": network_id},
            headers=REPORTING,
        ).json()
        if sum(point["value"] for point in points) >= expected:
            return [point for point in points if point["value"]]
        assert time.monotonic() < deadline, f"reporting never counted {expected} registrations"
        time.sleep(0.2)


async def test_the_demo_series_history_emails_no_one_and_charts_when_it_happened(
    services: Services, smtp: MailCatcher, database_url: str, tmp_path: Path
) -> None:
    base = services.url("registration").removesuffix("/api/v1")
    await asyncio.to_thread(demo.load, base, ORGANISER_TOKEN, tmp_path / "keys.json")
    networks = httpx.get(f"{services.url('registration')}/networks").json()["items"]
    series = next(n for n in networks if n["title"] == SERIES)
    registered = sum(count for _, _, count, _ in demo.HISTORIC_GERMAN_MEETINGS)

    days = await asyncio.to_thread(_charted, services, series["network_id"], registered)
    await _handled_by_notification(database_url)
    # The demo's other members were told, so mail was flowing while the history went through.
    smtp.wait_for(lambda m: m.is_to("sara.green@koege.example"), count=2, timeout_s=20)

    last_held = max(
        datetime.fromisoformat(start) for _, start, _, _ in demo.HISTORIC_GERMAN_MEETINGS
    )
    assert sum(day["value"] for day in days) == registered
    assert len(days) == registered  # each on its own day, as the demo dates them
    assert all(datetime.fromisoformat(day["bucket_start"]) < last_held for day in days)
    assert not [m for m in smtp.mails if any("@kultur.example" in r for r in m.recipients)]
    assert not [m for m in smtp.mails if "verlegt" in m.subject]
    page = httpx.get(f"{base}/networks/{series['network_id']}", params={"lang": "de"}).text
    coming, past = page.split("Vergangene Treffen")
    for title, *_ in demo.HISTORIC_GERMAN_MEETINGS:
        assert title in past
    assert "Personal und Aufgabenverständnis" not in coming
