"""Consumers killed with SIGKILL mid-stream: no notification twice, reports still true."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from devstack.smtp import MailCatcher
from notification.dispatcher import UNMARKED_MAX
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services

PEOPLE = 150


async def _scalar(database_url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def _truth(database_url: str, meeting_id: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'confirmed') AS registrations_confirmed,"
            " coalesce(sum(seats) FILTER (WHERE status = 'confirmed'), 0) AS seats_confirmed,"
            " count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,"
            " count(*) FILTER (WHERE status = 'cancelled') AS cancelled"
            " FROM registration.registrations WHERE meeting_id = $1",
            meeting_id,
        )
        return dict(row)
    finally:
        await conn.close()


async def _wait_until(check: Callable[[], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError


async def test_killing_consumers_mid_stream_loses_and_doubles_nothing(
    services: Services, smtp: MailCatcher, database_url: str
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    # Reporting is down while the traffic arrives, and reads it back in small batches later.
    services.kill("reporting")
    services.env["BATCH_MAX_RECORDS"] = "25"
    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=120),
        headers=ORGANISER,
    ).json()
    cancellations = 0
    for i in range(PEOPLE):
        person = member()
        client.post(
            f"{api}/networks/{network['network_id']}/enrolments",
            json={"member": person, "consent": True},
        ).raise_for_status()
        booked = client.post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        ).json()
        if i % 10 == 0:
            client.post(
                f"{api}/registrations/{booked['registration_id']}/cancel",
                json={"token": booked["cancel_token"]},
            ).raise_for_status()
            cancellations += 1
    # Enrolment + registration for everyone, a cancellation for every tenth, and a promotion
    # email for each waitlisted registration a cancellation let in.
    promoted = await _scalar(
        database_url,
        "SELECT count(*) FROM registration.outbox WHERE event_type = 'RegistrationPromoted'",
    )
    expected = PEOPLE * 2 + cancellations + promoted
    total_events = await _scalar(database_url, "SELECT count(*) FROM registration.outbox")

    kill_points = []
    for _ in range(2):  # notification: killed twice while emails are going out
        sent_now = await _wait_until(
            lambda: _scalar(
                database_url,
                "SELECT nullif(count(*), 0) FROM notification.notifications WHERE status = 'sent'",
            )
        )
        services.kill("notification")
        kill_points.append(("notification", sent_now, expected))
        services.start("notification")
    services.start("reporting")
    applied_now = await _wait_until(
        lambda: _scalar(database_url, "SELECT nullif(count(*), 0) FROM reporting.inbox")
    )
    services.kill("reporting")
    kill_points.append(("reporting", applied_now, total_events))
    services.start("reporting")

    smtp.wait_for(lambda m: True, count=expected, timeout_s=60)
    time.sleep(1)  # let any late duplicate arrive before counting
    by_identity: dict[tuple[str, str], int] = {}
    for mail in smtp.mails:
        key = (mail.recipients[0], mail.subject)
        by_identity[key] = by_identity.get(key, 0) + 1
    duplicates = sum(n - 1 for n in by_identity.values())
    rows = await _scalar(database_url, "SELECT count(*) FROM notification.notifications")

    assert any(0 < done < of for _, done, of in kill_points), f"no kill mid-stream: {kill_points}"
    assert len(by_identity) == expected == rows  # nothing lost, no notification twice
    # A duplicate email needs a kill between the SMTP server's acceptance and the commit of
    # `sent`; the dispatcher never has more than UNMARKED_MAX accepted and not yet marked.
    notification_kills = sum(1 for name, _, _ in kill_points if name == "notification")
    assert duplicates <= notification_kills * UNMARKED_MAX

    truth = await _truth(database_url, meeting["meeting_id"])
    report_url = f"{services.url('reporting')}/reports/meetings/{meeting['meeting_id']}"

    async def matches() -> bool:
        report = client.get(report_url, headers=REPORTING).json()
        return all(report.get(k) == v for k, v in truth.items())

    await _wait_until(matches)
    print(
        f"kills at {kill_points}; emails {len(smtp.mails)} of {expected}, duplicates {duplicates}"
    )
