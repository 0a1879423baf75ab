"""HTTP -> outbox -> Kafka -> SMTP and reports, through the real processes."""

from __future__ import annotations

import time
from typing import Any

import httpx

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, REPORTING, companion, meeting_body, member, network_body
from tests.e2e.conftest import Services


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(url, json=body, headers=headers or {}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _wait_for(check: Any, *, timeout_s: float = 10) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_registering_with_a_companion_sends_a_confirmation_and_moves_the_report(
    services: Services, smtp: MailCatcher
) -> None:
    api = services.url("registration")
    network = _post(f"{api}/networks", network_body(language="de"), ORGANISER)
    meeting = _post(
        f"{api}/networks/{network['network_id']}/meetings",
        meeting_body(capacity=10, timezone="Europe/Berlin"),
        ORGANISER,
    )
    person = member(name="Jonas Weber", municipality="Münster")
    _post(f"{api}/networks/{network['network_id']}/enrolments", {"member": person, "consent": True})

    started = time.monotonic()
    _post(
        f"{api}/meetings/{meeting['meeting_id']}/registrations",
        {"member": person, "companions": [companion("Eva Begleitung")]},
    )

    confirmation = smtp.wait_for(
        lambda m: m.is_to(person["email"]) and m.subject.startswith("Anmeldung bestätigt"),
        # The first mail of a fresh stack waits for the consumer group's first join, which a
        # busy machine can stretch well past the usual fraction of a second.
        timeout_s=30,
    )[0]
    email_latency = time.monotonic() - started
    assert "Jonas Weber" in confirmation.text
    assert "1 Begleitperson" in confirmation.text
    assert "/cancel/registrations/" in confirmation.text
    invitation = confirmation.attachments("text/calendar")[0]
    assert "METHOD:REQUEST" in invitation and "UID:" in invitation

    reports = services.url("reporting")

    def report() -> dict[str, Any] | None:
        response = httpx.get(
            f"{reports}/reports/meetings/{meeting['meeting_id']}", headers=REPORTING
        )
        body = response.json()
        return body if response.status_code == 200 and body["seats_confirmed"] == 2 else None

    seen = _wait_for(report)
    assert seen is not None, "the report never showed the registration"
    assert (seen["registrations_confirmed"], seen["companions_confirmed"]) == (1, 1)
    assert seen["utilisation"] == 0.2
    network_report = httpx.get(
        f"{reports}/reports/networks/{network['network_id']}", headers=REPORTING
    ).json()
    assert network_report["members_active"] == 1
    assert network_report["seats_confirmed"] == 2
    print(f"POST -> confirmation email: {email_latency * 1000:.0f} ms")


def test_a_waitlisted_member_is_told_so_in_their_own_language(
    services: Services, smtp: MailCatcher
) -> None:
    api = services.url("registration")
    network = _post(f"{api}/networks", network_body(language="da"), ORGANISER)
    meeting = _post(
        f"{api}/networks/{network['network_id']}/meetings", meeting_body(capacity=1), ORGANISER
    )
    first, second = member(), member(name="Ingrid Nordmann", language="nb")
    for person in (first, second):
        _post(
            f"{api}/networks/{network['network_id']}/enrolments",
            {"member": person, "consent": True},
        )
        _post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations",
            {"member": person, "companions": []},
        )

    waitlisted = smtp.wait_for(
        lambda m: m.is_to(second["email"]) and "venteliste" in m.subject,
    )[0]

    assert waitlisted.subject.startswith("Du står på venteliste")
    assert "nummer 1" in waitlisted.text
    notifications = httpx.get(
        f"{services.url('notification')}/notifications",
        params={"recipient": second["email"]},
        headers=ORGANISER,  # the reporting token reads no addresses
    ).json()
    templates = sorted(n["template"] for n in notifications["items"])
    assert templates == ["enrolment_confirmed", "registration_waitlisted"]
    assert all(n["status"] == "sent" and n["language"] == "nb" for n in notifications["items"])
