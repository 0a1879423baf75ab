"""The canary: a person with unique strings goes through every path (enrol, register with a
companion, waitlist, promotion, cancellation, the emails, a poison message about them), is
exported, then erased; afterwards their strings are in no table of any schema, not in the
outbox, not on the DLQ topics and not in any service's log."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, PERSONAL_DATA, meeting_body, member, network_body
from tests.e2e.conftest import Services
from tests.infrastructure import Kafka
from tilmeld_shared.events import DLQ_TOPICS, TOPIC_MEETINGS

SCHEMAS = ("registration", "notification", "reporting")


def _until(check: Any, *, timeout_s: float = 30, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


async def _rows_naming(database_url: str, needles: list[str]) -> tuple[int, int, list[str]]:
    """Every row of every table of the three schemas, searched as text; bytea shows as hex, so
    the hex of each string is looked for too."""
    patterns = needles + [needle.encode().hex() for needle in needles]
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(SCHEMAS),
        )
        rows_searched, hits = 0, []
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            for row in await conn.fetch(f"SELECT t::text AS row FROM {name} t"):
                rows_searched += 1
                if any(pattern in row["row"].lower() for pattern in patterns):
                    text = row["row"].lower()
                    at = min(text.find(p) for p in patterns if p in text)
                    hits.append(f"{name}: ...{row['row'][max(0, at - 120) : at + 60]}")
        return len(tables), rows_searched, hits
    finally:
        await conn.close()


# The address confirmation's link in an email: /confirm/<id>?token=<token>.
CONFIRM_LINK = re.compile(r"/confirm/([0-9a-f-]{36})\?token=([A-Za-z0-9._~-]+)")


async def _publish_poison(bootstrap_servers: str, body: bytes, key: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC_MEETINGS, body, key=key)
    finally:
        await producer.stop()


async def _dead_letter_topics(bootstrap_servers: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        *DLQ_TOPICS, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        found: list[bytes] = []
        while batch := await consumer.getmany(timeout_ms=2000):
            for records in batch.values():
                for record in records:
                    headers = b" ".join(value for _, value in record.headers or ())
                    found.append((record.value or b"") + b" " + headers)
        return found
    finally:
        await consumer.stop()


async def _count(database_url: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def test_an_erased_person_leaves_no_trace_in_any_service(
    services: Services, smtp: MailCatcher, kafka: Kafka, database_url: str, tmp_path: Path
) -> None:
    api = services.url("registration")
    client = httpx.Client(timeout=15)
    canary = f"kanari{uuid.uuid4().hex[:10]}"
    person = {
        **member(name=f"{canary.title()} Fuglsang"),
        "email": f"{canary}@canary.example",
    }
    guest = {"name": f"{canary.title()} Ledsager", "role": "Klimarådgiver"}
    needles = [canary, person["email"], person["name"].lower(), guest["name"].lower()]
    PERSONAL_DATA.update((person["email"], person["name"], guest["name"]))

    network = client.post(f"{api}/networks", json=network_body(), headers=ORGANISER).json()
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(capacity=2, open_to_public=True),  # the canary needs two seats
        headers=ORGANISER,
    ).json()
    registrations = f"{api}/meetings/{meeting['meeting_id']}/registrations"

    # Enrol; someone else takes the only seat; the canary waits with a companion.
    enrolled = client.post(
        f"{api}/networks/{network['network_id']}/enrolments",
        json={"member": person, "consent": True},
    )
    assert enrolled.status_code == 201
    filler = client.post(registrations, json={"member": member()}).json()
    waiting = client.post(
        registrations,
        json={"member": person, "companions": [guest]},
        headers={"Idempotency-Key": f"canary-{canary}"},
    ).json()
    assert waiting["status"] == "waitlisted"
    member_id = waiting["member_id"]
    # The seat frees up, the canary is promoted, then cancels.
    cancel = f"{api}/registrations/{filler['registration_id']}/cancel"
    assert client.post(cancel, headers=ORGANISER).status_code == 200
    _until(
        lambda: (
            client.get(
                f"{api}/registrations/{waiting['registration_id']}", headers=ORGANISER
            ).json()["status"]
            == "confirmed"
        ),
        what="promotion",
    )
    own_cancel = f"{api}/registrations/{waiting['registration_id']}/cancel"
    assert client.post(own_cancel, headers=ORGANISER).status_code == 200
    # Emails went out (enrolment, waitlist, promotion, cancellation).
    smtp.wait_for(lambda m: m.is_to(person["email"]), count=4, timeout_s=30)

    # The person has their say too: a consultation answered in free text and a topic proposed,
    # which count once they confirm their address through the emailed link, then a vote for the
    # topic; and an answer to a meeting's question (dietary needs) at registration.
    client.patch(
        f"{api}/networks/{network['network_id']}", json={"proposals": "open"}, headers=ORGANISER
    )
    now = datetime.now(UTC)
    consultation = client.post(
        f"{api}/networks/{network['network_id']}/consultations",
        json={
            "title": "Medlemsdialog",
            "description": "Hvad forventer I?",
            "questions": [{"text": "Hvad ønsker du?", "kind": "text", "required": True}],
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(days=7)).isoformat(),
            "audience": "members",
        },
        headers=ORGANISER,
    ).json()
    question_id = consultation["questions"][0]["question_id"]
    answered = client.post(
        f"{api}/consultations/{consultation['consultation_id']}/responses",
        json={
            "member": person,
            "answers": [{"question_id": question_id, "value": f"Mere musik, hilsen {canary}"}],
        },
    )
    assert answered.status_code == 201, answered.text
    proposal = client.post(
        f"{api}/networks/{network['network_id']}/proposals",
        json={"member": person, "title": "Kultur og klima", "body": "Et emne for næste møde."},
    )
    assert proposal.status_code == 201, proposal.text
    link = smtp.wait_for(
        lambda m: m.is_to(person["email"]) and CONFIRM_LINK.search(m.text) is not None
    )[-1]
    found = CONFIRM_LINK.search(link.text)
    assert found is not None
    confirmed = client.post(
        f"{api}/confirmations/{found.group(1)}", params={"token": found.group(2)}
    )
    assert confirmed.status_code == 200, confirmed.text
    voted = client.post(
        f"{api}/proposals/{proposal.json()['proposal_id']}/votes", json={"member": person}
    )
    assert voted.status_code == 201, voted.text
    asked = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(open_to_public=True, questions=[{"text": "Kosthensyn", "kind": "text"}]),
        headers=ORGANISER,
    ).json()
    diet = client.post(
        f"{api}/meetings/{asked['meeting_id']}/registrations",
        json={
            "member": person,
            "answers": [
                {
                    "question_id": asked["questions"][0]["question_id"],
                    "value": f"Vegetar ({canary})",
                }
            ],
        },
    )
    assert diet.status_code == 201, diet.text

    # A poison message about the person: unreadable, so both consumers dead-letter it.
    about_them = {"member_id": member_id, "name": person["name"], "email": person["email"]}
    poison = json.dumps(
        {"event_type": "RegistrationConfirmed", "payload": about_them, "broken": True}
    ).encode()
    asyncio.run(_publish_poison(kafka.bootstrap_servers, poison, meeting["meeting_id"].encode()))
    for schema in ("notification", "reporting"):
        _until(
            lambda s=schema: asyncio.run(
                _count(database_url, f"SELECT count(*) FROM {s}.dead_letters")
            ),
            what=f"{schema} to dead-letter the poison",
        )

    # Export: every service's part, naming the person where that service holds their data.
    exported = client.get(f"{api}/members/{member_id}/export", headers=ORGANISER)
    assert exported.status_code == 200
    export = exported.json()
    assert export["registration"]["member"]["email"] == person["email"]
    assert person["email"] in {n["recipient"] for n in export["notification"]["notifications"]}
    assert export["reporting"]["registrations"], "reporting keeps facts under the member id"
    assert canary not in json.dumps(export["reporting"]).lower()  # and no names or addresses

    assert client.delete(f"{api}/members/{member_id}", headers=ORGANISER).status_code == 204
    # Both consumers apply MemberErased.
    _until(
        lambda: asyncio.run(
            _count(
                database_url,
                "SELECT count(*) FROM reporting.erased_members WHERE member_id = $1",
                uuid.UUID(member_id),
            )
        ),
        what="reporting to apply the erasure",
    )
    _until(
        lambda: asyncio.run(
            _count(
                database_url,
                "SELECT count(*) = 0 FROM notification.notifications "
                "WHERE member_id = $1 AND recipient <> 'erased'",
                uuid.UUID(member_id),
            )
        ),
        what="notification to apply the erasure",
    )
    time.sleep(1)

    tables, rows, hits = asyncio.run(_rows_naming(database_url, needles))
    dead_letters = asyncio.run(_dead_letter_topics(kafka.bootstrap_servers))
    dlq_hits = [m for m in dead_letters if any(n.encode() in m.lower() for n in needles)]
    logs = sorted(tmp_path.glob("*.log"))
    log_hits = [
        f"{log.name}: {line[:160]}"
        for log in logs
        for line in log.read_text(errors="replace").splitlines()
        if any(needle in line.lower() for needle in needles)
    ]
    print(
        f"erasure canary: {rows} rows in {tables} tables, {len(dead_letters)} DLQ messages, "
        f"{sum(len(log.read_text().splitlines()) for log in logs)} log lines searched; "
        f"occurrences: tables={len(hits)} dlq={len(dlq_hits)} logs={len(log_hits)}"
    )
    assert dead_letters, "the poison did reach the DLQ topics"
    assert not hits, hits[:5]
    assert not dlq_hits, dlq_hits[:2]
    assert not log_hits, log_hits[:5]
    # The dialogue keeps its counts, and the free text is gone with the person.
    proposals = client.get(f"{api}/networks/{network['network_id']}/proposals").json()["items"]
    assert [p["votes"] for p in proposals] == [1]
    # Aggregates stay true: one registration each way, counted without the person.
    report = client.get(
        f"{services.url('reporting')}/reports/meetings/{meeting['meeting_id']}",
        headers={"Authorization": "Bearer test-reporting-token"},
    ).json()
    assert report["cancelled"] == 2 and report["registrations_confirmed"] == 0
