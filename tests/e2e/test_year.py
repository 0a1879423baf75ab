"""The network's year through the real processes, Kafka, SMTP and Postgres: one enrolment in an
auto_register network brings a confirmation for each of its meetings, and a joint meeting
counts for each of its networks in reporting, once in the total."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, PERSONAL_DATA, REPORTING, meeting_body, network_body
from tests.e2e.conftest import Services


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(url, json=body, headers=headers or {}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _person(name: str, place: str) -> dict[str, Any]:
    email = f"{uuid.uuid4().hex[:8]}@{place}.kommune.example"
    PERSONAL_DATA.update((name, email))  # looked for in every log the run wrote
    return {
        "name": name,
        "email": email,
        "municipality": place.capitalize(),
        "role": "Kulturkonsulent",
        "language": "da",
    }


def _eventually(read: Any, done: Any, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def test_a_years_enrolment_and_a_joint_meeting_reach_email_and_reports(
    services: Services, smtp: MailCatcher
) -> None:
    api = services.url("registration")
    green = _post(
        f"{api}/networks",
        network_body(title="Grøn omstilling i kulturlivet", auto_register=True),
        ORGANISER,
    )
    climate = _post(f"{api}/networks", network_body(title="Klimapolitisk netværk"), ORGANISER)
    first = _post(
        f"{api}/networks/{green['network_id']}/meetings",
        meeting_body(title="Møde 1: Klima og samskabelse", days_ahead=14),
        ORGANISER,
    )
    joint = _post(
        f"{api}/networks/{green['network_id']}/meetings",
        meeting_body(
            title="Fælles møde om klimapolitik", days_ahead=30, co_hosts=[climate["network_id"]]
        ),
        ORGANISER,
    )

    # One enrolment in the year: a confirmation of it, and one for each members' meeting.
    karen = _person("Karen Holm", "helsingor")
    _post(f"{api}/networks/{green['network_id']}/enrolments", {"member": karen, "consent": True})
    confirmations = smtp.wait_for(
        lambda m: m.is_to(karen["email"]) and m.subject.startswith("Tilmelding bekræftet"),
        count=2,
        timeout_s=20,
    )
    assert {m.subject.split(": ", 1)[1] for m in confirmations} == {
        first["title"],
        joint["title"],
    }
    # And the welcome to the network: three emails in all.
    assert len(smtp.wait_for(lambda m: m.is_to(karen["email"]), count=3)) == 3
    # A member of the co-host registers for the joint meeting herself.
    ole = _person("Ole Lund", "koege")
    _post(f"{api}/networks/{climate['network_id']}/enrolments", {"member": ole, "consent": True})
    _post(f"{api}/meetings/{joint['meeting_id']}/registrations", {"member": ole})
    listed = httpx.get(f"{api}/networks/{climate['network_id']}/meetings", timeout=10).json()
    assert [m["meeting_id"] for m in listed["items"]] == [joint["meeting_id"]]

    reports = services.url("reporting")

    def network_report(network: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.get(
            f"{reports}/reports/networks/{network['network_id']}", headers=REPORTING, timeout=10
        )
        return answer.json() if answer.status_code == 200 else {}

    green_report = _eventually(
        lambda: network_report(green), lambda r: r.get("registrations_confirmed") == 3
    )
    climate_report = _eventually(
        lambda: network_report(climate), lambda r: r.get("registrations_confirmed") == 2
    )
    assert (green_report["meetings_scheduled"], green_report["members_active"]) == (2, 1)
    assert (climate_report["meetings_scheduled"], climate_report["members_active"]) == (1, 1)
    joint_report = httpx.get(
        f"{reports}/reports/meetings/{joint['meeting_id']}", headers=REPORTING, timeout=10
    ).json()
    assert joint_report["registrations_confirmed"] == 2
    everywhere = httpx.get(f"{reports}/reports/municipalities", headers=REPORTING, timeout=10)
    counted = {m["municipality"]: m["registrations_confirmed"] for m in everywhere.json()["items"]}
    assert (counted["Helsingor"], counted["Koege"]) == (2, 1)  # the joint meeting once each
