"""The broker restarted empty (Tansu keeps memory only) while events sat unconsumed: the
operator replays the outbox since a given time; consumers end equal to the truth, and nobody
gets an email twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from devstack.ports import free_port
from devstack.smtp import MailCatcher
from devstack.tansu import TansuBroker
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka


@pytest.fixture
def tansu() -> Iterator[TansuBroker]:
    broker = TansuBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def services_on_tansu(
    database_url: str, tansu: TansuBroker, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    yield from run_services(
        database_url, Kafka(tansu.bootstrap_servers, idempotence=False), smtp, tmp_path
    )


def test_after_the_broker_lost_everything_a_replay_restores_the_consumers(
    services_on_tansu: Services, tansu: TansuBroker, smtp: MailCatcher, database_url: str
) -> None:
    services = services_on_tansu
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    since = datetime.now(UTC)
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=100, open_to_public=True),
        headers=ORGANISER,
    ).json()

    def register(count: int) -> list[dict[str, str]]:
        people = [member() for _ in range(count)]
        for person in people:
            client.post(
                f"{api}/meetings/{meeting['meeting_id']}/registrations",
                json={"member": person, "companions": []},
            ).raise_for_status()
        return people

    early = register(10)
    for person in early:
        smtp.wait_for(lambda m, p=person: m.is_to(p["email"]))
    # Consumers down, more registrations published to the broker, then the broker loses all.
    services.kill("notification")
    services.kill("reporting")
    late = register(10)
    time.sleep(1.5)  # the relay has published them: they now exist only in the broker
    tansu.stop()
    tansu.start()
    services.start("notification")
    services.start("reporting")

    replay = subprocess.run(
        [sys.executable, "-m", "registration", "replay", "--since", since.isoformat()],
        env={**os.environ, **services.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    for person in late:
        smtp.wait_for(lambda m, p=person: m.is_to(p["email"]), timeout_s=30)
    deadline = time.monotonic() + 30
    report: dict[str, object] = {}
    while time.monotonic() < deadline:
        report = client.get(
            f"{services.url('reporting')}/reports/meetings/{meeting['meeting_id']}",
            headers=REPORTING,
        ).json()
        if report.get("registrations_confirmed") == 20:
            break
        time.sleep(0.2)
    time.sleep(1)  # a duplicate would arrive by now
    per_person = {
        p["email"]: sum(1 for m in smtp.mails if m.is_to(p["email"])) for p in early + late
    }

    assert "queued to be published again" in replay.stdout
    assert report.get("registrations_confirmed") == 20
    assert set(per_person.values()) == {1}, per_person  # none lost, none doubled
    print(f"broker loss: replayed {replay.stdout.split()[1]} events; lost=0 duplicated=0")
