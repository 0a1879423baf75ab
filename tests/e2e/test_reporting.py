"""Reporting through the real processes: the dashboard in a browser, reconcile and rebuild."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.browser import rendered_dom, screenshot
from tests.builders import ORGANISER, REPORTING, REPORTING_TOKEN, meeting_body, member, network_body
from tests.e2e.conftest import Services

ARTIFACTS = Path(__file__).parent.parent.parent / "artifacts"


def _post(url: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(url, json=body, headers=ORGANISER, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def seed(services: Services) -> dict[str, Any]:
    """Two upcoming meetings (one full, with a waitlist) and one that took place."""
    api = services.url("registration")
    network = _post(f"{api}/networks", network_body(title="Grøn omstilling i kulturlivet"))
    upcoming = [
        _post(
            f"{api}/networks/{network['network_id']}/meetings",
            meeting_body(capacity=capacity, title=f"Kommende møde {capacity}", days_ahead=days),
        )
        for capacity, days in ((2, 7), (30, 21))
    ]
    held = _post(
        f"{api}/networks/{network['network_id']}/meetings",
        meeting_body(capacity=10, title="Afholdt møde", days_ahead=3),
    )
    people = [member(municipality=m) for m in ("Køge", "Køge", "Roskilde", "Herlev")]
    for person in people:
        _post(
            f"{api}/networks/{network['network_id']}/enrolments",
            {"member": person, "consent": True},
        )
        _post(
            f"{api}/meetings/{upcoming[0]['meeting_id']}/registrations",
            {"member": person, "companions": []},
        )
        booked = _post(
            f"{api}/meetings/{held['meeting_id']}/registrations",
            {"member": person, "companions": []},
        )
        if person["municipality"] == "Køge":
            _post(f"{api}/registrations/{booked['registration_id']}/check-in")
    then = datetime.now(UTC) - timedelta(days=20)
    moved = httpx.patch(
        f"{api}/meetings/{held['meeting_id']}",
        headers=ORGANISER,
        json={"starts_at": then.isoformat(), "ends_at": (then + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200
    return {"network": network, "upcoming": upcoming, "held": held}


def wait_for_reports(services: Services, meeting_id: str, **expected: Any) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        report = httpx.get(
            f"{services.url('reporting')}/reports/meetings/{meeting_id}", headers=REPORTING
        ).json()
        if all(report.get(k) == v for k, v in expected.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"reporting never showed {expected}")


def canvas(dom: str, chart: str) -> dict[str, str]:
    tag = re.search(rf'<canvas id="{chart}"[^>]*>', dom)
    assert tag is not None, f"{chart} is not on the page"
    return dict(re.findall(r'data-(\w+)="([^"]*)"', tag.group(0)))


def test_the_dashboard_draws_the_numbers_in_the_chosen_language(services: Services) -> None:
    seeded = seed(services)
    wait_for_reports(services, seeded["held"]["meeting_id"], attended=2, no_shows=2)
    url = (
        f"{services.url('reporting').removesuffix('/api/v1')}/dashboard?lang=da"
        f"#token={REPORTING_TOKEN}"
    )

    dom = rendered_dom(url)
    picture = screenshot(url, ARTIFACTS / "dashboard.png")

    assert 'data-ready="true"' in dom
    assert "Kommende møder: pladser og venteliste" in dom
    upcoming = canvas(dom, "chart-upcoming")
    assert upcoming["drawn"] == "2"  # two upcoming meetings, two bars of seats taken
    assert upcoming["values"] == "2|0"  # the full one holds 2 seats, the other none
    municipalities = canvas(dom, "chart-municipalities")
    assert municipalities["labels"].split("|")[0] == "Køge"  # the most members, drawn first
    assert municipalities["values"].split("|")[0] == "2"
    past = canvas(dom, "chart-past")
    assert (past["drawn"], past["values"]) == ("1", "2")  # one meeting held; two came
    assert picture.stat().st_size > 10_000


def _run_reporting_command(services: Services, command: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **services.env,
        "REGISTRATION_URL": services.url("registration").removesuffix("/api/v1"),
    }
    return subprocess.run(
        [sys.executable, "-m", "reporting", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reconcile_finds_no_drift_and_a_rebuild_ends_where_live_reporting_was(
    services: Services,
) -> None:
    seeded = seed(services)
    wait_for_reports(services, seeded["held"]["meeting_id"], attended=2, no_shows=2)
    wait_for_reports(services, seeded["upcoming"][0]["meeting_id"], waitlisted=2)
    reports = services.url("reporting")
    live = httpx.get(f"{reports}/reports/meetings", headers=REPORTING).json()["items"]

    reconciled = _run_reporting_command(services, "reconcile")
    rebuilt = _run_reporting_command(services, "rebuild")
    after = httpx.get(f"{reports}/reports/meetings", headers=REPORTING).json()["items"]
    reconciled_again = _run_reporting_command(services, "reconcile")

    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "drift: 0" in reconciled.stdout
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert after == live
    assert "drift: 0" in reconciled_again.stdout
