"""Notification through the real processes: poison, reminders, reschedules, the cancel link."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, meeting_body, member, network_body
from tests.e2e.conftest import Services
from tests.infrastructure import Kafka
from tilmeld_shared.events import TOPIC_MEETINGS


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(url, json=body, headers=headers or {}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _registered(services: Services, **meeting: Any) -> tuple[dict, dict, dict]:
    api = services.url("registration")
    network = _post(f"{api}/networks", network_body(), ORGANISER)
    scheduled = _post(
        f"{api}/networks/{network['network_id']}/meetings", meeting_body(**meeting), ORGANISER
    )
    person = member(name="Karen Hansen")
    _post(f"{api}/networks/{network['network_id']}/enrolments", {"member": person, "consent": True})
    registration = _post(
        f"{api}/meetings/{scheduled['meeting_id']}/registrations",
        {"member": person, "companions": []},
    )
    return scheduled, person, registration


async def test_a_poison_message_is_dead_lettered_and_the_next_good_one_is_handled(
    services: Services, smtp: MailCatcher, kafka: Kafka, database_url: str
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC_MEETINGS, b"{not json", key=b"poison")
    finally:
        await producer.stop()

    _, person, _ = _registered(services)

    smtp.wait_for(lambda m: m.is_to(person["email"]) and "bekræftet" in m.subject)
    dlq = AIOKafkaConsumer(
        f"{TOPIC_MEETINGS}.dlq",
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"test-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await dlq.start()
    try:
        dead: list[Any] = []
        async with asyncio.timeout(15):
            while len(dead) < 2:  # one from notification, one from reporting
                for records in (await dlq.getmany(timeout_ms=200)).values():
                    dead += records
    finally:
        await dlq.stop()
    headers = [dict(record.headers) for record in dead]
    assert {h["x-failed-by"] for h in headers} == {b"notification", b"reporting"}
    assert all(h["x-origin-topic"] == TOPIC_MEETINGS.encode() for h in headers)
    # The topic carries where it came from and a digest; the bytes stay where erasure reaches.
    notices = [json.loads(record.value) for record in dead]
    assert {n["sha256"] for n in notices} == {hashlib.sha256(b"{not json").hexdigest()}
    kept_in = {n["kept_in"] for n in notices}
    assert kept_in == {"notification.dead_letters", "reporting.dead_letters"}
    conn = await asyncpg.connect(database_url)
    try:
        for schema in ("notification", "reporting"):
            kept = await conn.fetchval(f"SELECT raw FROM {schema}.dead_letters")
            assert kept == b"{not json"
    finally:
        await conn.close()


def test_a_reminder_goes_out_a_day_ahead_and_only_once(
    services: Services, smtp: MailCatcher
) -> None:
    starts = datetime.now(UTC) + timedelta(days=1, seconds=4)
    _, person, _ = _registered(
        services, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=2)).isoformat()
    )

    reminder = smtp.wait_for(
        lambda m: m.is_to(person["email"]) and m.subject.startswith("Påmindelse"),
        timeout_s=20,
    )
    time.sleep(2)

    assert len(reminder) == 1
    assert len([m for m in smtp.mails if m.subject.startswith("Påmindelse")]) == 1


def test_a_reschedule_tells_the_member_once_and_moves_their_calendar_entry(
    services: Services, smtp: MailCatcher
) -> None:
    meeting, person, registration = _registered(services)
    smtp.wait_for(lambda m: m.is_to(person["email"]) and "bekræftet" in m.subject)
    later = datetime.fromisoformat(meeting["starts_at"]) + timedelta(days=7)

    moved = httpx.patch(
        f"{services.url('registration')}/meetings/{meeting['meeting_id']}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat()},
        headers=ORGANISER,
    )
    notice = smtp.wait_for(
        lambda m: m.is_to(person["email"]) and m.subject.startswith("Mødet er flyttet")
    )

    assert moved.status_code == 200
    invitation = notice[0].attachments("text/calendar")[0]
    assert "SEQUENCE:1" in invitation
    assert f"UID:{registration['registration_id']}@tilmeld" in invitation
    assert later.astimezone(UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in invitation


def test_the_link_in_the_confirmation_opens_a_page_that_cancels_only_on_the_button(
    services: Services, smtp: MailCatcher
) -> None:
    meeting, person, _ = _registered(services)
    confirmation = smtp.wait_for(lambda m: m.is_to(person["email"]) and "bekræftet" in m.subject)[0]
    link = re.search(r"(http://\S+/cancel/registrations/\S+)", confirmation.text)
    assert link is not None
    url = link.group(1)

    page = httpx.get(url)
    seats_after_visit = httpx.get(
        f"{services.url('registration')}/meetings/{meeting['meeting_id']}"
    ).json()["seats_taken"]
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    done = httpx.post(url.split("?")[0], data={"token": token.group(1)})

    assert page.status_code == 200
    assert seats_after_visit == 1
    assert done.status_code == 200
    assert (
        httpx.get(f"{services.url('registration')}/meetings/{meeting['meeting_id']}").json()[
            "seats_taken"
        ]
        == 0
    )
    smtp.wait_for(lambda m: m.is_to(person["email"]) and "Afmelding" in m.subject)
