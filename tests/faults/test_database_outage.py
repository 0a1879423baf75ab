"""The database unreachable for a while, behind a proxy we cut: the API answers 503 problem
details quickly and never a 500; consumers pause and resume; nothing acknowledged is lost."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services, run_services
from tests.faults.proxy import TcpProxy
from tests.infrastructure import Kafka

OUTAGE_S = float(os.environ.get("FAULT_OUTAGE_S", "10"))


@pytest.fixture
def proxies(database_url: str) -> Iterator[dict[str, TcpProxy]]:
    """One proxy in front of the database for the API, one for the two consumers."""
    port = urlsplit(database_url).port or 5432
    pair = {"api": TcpProxy(port), "consumers": TcpProxy(port)}
    for proxy in pair.values():
        proxy.start()
    yield pair
    for proxy in pair.values():
        proxy.stop()


def _through(database_url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))


@pytest.fixture
def services_via_proxy(
    database_url: str,
    proxies: dict[str, TcpProxy],
    kafka: Kafka,
    smtp: MailCatcher,
    tmp_path: Path,
) -> Iterator[Services]:
    os.environ["REGISTRATION_DATABASE_URL"] = _through(database_url, proxies["api"])
    os.environ["NOTIFICATION_DATABASE_URL"] = _through(database_url, proxies["consumers"])
    os.environ["REPORTING_DATABASE_URL"] = _through(database_url, proxies["consumers"])
    try:
        yield from run_services(database_url, kafka, smtp, tmp_path)
    finally:
        for name in ("REGISTRATION", "NOTIFICATION", "REPORTING"):
            os.environ.pop(f"{name}_DATABASE_URL", None)


def test_an_outage_answers_503_quickly_and_loses_nothing_acknowledged(
    services_via_proxy: Services, proxies: dict[str, TcpProxy], smtp: MailCatcher
) -> None:
    proxy = proxies["api"]
    services = services_via_proxy
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=500, open_to_public=True),
        headers=ORGANISER,
    ).json()
    acknowledged, answers = [], []

    def attempt() -> httpx.Response:
        person = member()
        started = time.monotonic()
        response = client.post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        )
        answers.append(
            (
                response.status_code,
                time.monotonic() - started,
                response.headers.get("content-type", ""),
            )
        )
        if response.status_code == 201:
            acknowledged.append(person)
        return response

    for _ in range(10):
        attempt()
    before = len(answers)

    proxy.cut()
    cut_at = time.monotonic()
    during = []
    while time.monotonic() - cut_at < OUTAGE_S:
        during.append(attempt())
        time.sleep(0.2)
    proxy.restore()
    restored_at = time.monotonic()
    while attempt().status_code != 201:
        time.sleep(0.2)
        assert time.monotonic() - restored_at < 10, "no recovery within 10 s"
    recovery_s = time.monotonic() - restored_at
    for _ in range(10):
        attempt()
    # Then the consumers lose the database while registrations go on: they pause, retrying,
    # and catch up when it returns.
    proxies["consumers"].cut()
    consumers_cut_at = time.monotonic()
    while time.monotonic() - consumers_cut_at < OUTAGE_S / 2:
        attempt()
        time.sleep(0.1)
    emails_while_cut = len(smtp.mails)
    proxies["consumers"].restore()

    outage_answers = [a for a in answers[before:] if a[0] != 201]
    statuses = {status for status, _, _ in answers}
    assert proxy.cuts == 1
    assert during and all(r.status_code == 503 for r in during), {r.status_code for r in during}
    assert all(r.headers["content-type"] == "application/problem+json" for r in during)
    assert max(seconds for _, seconds, _ in outage_answers) < 2
    assert 500 not in statuses
    # Everyone acknowledged gets their email and is counted, after the consumers resumed.
    for person in acknowledged:
        smtp.wait_for(lambda m, p=person: m.is_to(p["email"]), timeout_s=30)
    deadline = time.monotonic() + 30
    report: dict[str, object] = {}
    while time.monotonic() < deadline:
        report = client.get(
            f"{services.url('reporting')}/reports/meetings/{meeting['meeting_id']}",
            headers=REPORTING,
        ).json()
        if report.get("registrations_confirmed") == len(acknowledged):
            break
        time.sleep(0.2)
    assert report.get("registrations_confirmed") == len(acknowledged)
    assert emails_while_cut < len(acknowledged), "the consumers never paused"
    print(
        f"outage {OUTAGE_S:.0f}s: attempted={len(answers)} acknowledged={len(acknowledged)} "
        f"refused_503={len(during)} max_503_seconds="
        f"{max(s for _, s, _ in outage_answers):.2f} lost=0 recovery_s={recovery_s:.1f}"
    )
