"""The member dialogue through the real processes, Kafka, SMTP and Postgres: the audience is
invited when a consultation opens, an answer waits for the emailed confirmation link (its page
confirms only on the button), the receipt follows; votes count in reporting exactly as the
registration service counts them, and stay so when every event is delivered again, in order
and newest first."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer

from devstack import demo, demo_dialogue
from devstack.ports import free_port
from devstack.smtp import CaughtMail, MailCatcher, mailbox_app
from tests.builders import ORGANISER, ORGANISER_TOKEN, REPORTING, member, network_body
from tests.e2e.conftest import Services

CONFIRM_LINK = re.compile(r"(/confirm/[0-9a-f-]{36}\?token=[A-Za-z0-9._~-]+)")
QUESTIONS = [
    {
        "text": "Hvilket område bør KS prioritere?",
        "kind": "choice",
        "options": ["Kulturskolen", "Bibliotek", "Kulturarv"],
        "required": True,
    },
    {"text": "Hvor godt ivaretar KS kommunenes interesser?", "kind": "scale"},
    {"text": "Hvilke forventninger har dere til KS?", "kind": "text"},
]


def _post(
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    response = httpx.post(url, json=body or {}, headers=headers or {}, params=params, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _confirm_link(smtp: MailCatcher, email: str) -> str:
    mail = smtp.wait_for(lambda m: m.is_to(email) and CONFIRM_LINK.search(m.text) is not None)[-1]
    found = CONFIRM_LINK.search(mail.text)
    assert found is not None
    return found.group(1)


def _mails_to(smtp: MailCatcher, *emails: str) -> list[CaughtMail]:
    return [mail for mail in smtp.mails if any(mail.is_to(email) for email in emails)]


def _until(what: str, check: Any, timeout_s: float = 30) -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def _counts(services: Services, network_id: str, consultation_id: str) -> dict[str, Any]:
    """Registration's own counts beside reporting's: votes per proposal, responses."""
    api, reports = services.url("registration"), services.url("reporting")
    listed = httpx.get(f"{api}/networks/{network_id}/proposals", params={"sort": "votes"})
    results = httpx.get(f"{api}/consultations/{consultation_id}/results", headers=ORGANISER)
    ranking = httpx.get(f"{reports}/reports/networks/{network_id}/proposals", headers=REPORTING)
    report = httpx.get(f"{reports}/reports/consultations/{consultation_id}", headers=REPORTING)
    return {
        "registration_votes": {p["proposal_id"]: p["votes"] for p in listed.json()["items"]},
        "registration_responses": results.json()["responses"],
        "reporting_votes": {p["proposal_id"]: p["votes"] for p in ranking.json()["items"]}
        if ranking.status_code == 200
        else None,
        "reporting_pending": sum(p["votes_pending"] for p in ranking.json()["items"])
        if ranking.status_code == 200
        else None,
        "reporting_responses": report.json()["responses"] if report.status_code == 200 else None,
    }


def _replay(services: Services) -> str:
    """The operator's `registration replay`: every retained event published again."""
    done = subprocess.run(
        [sys.executable, "-m", "registration", "replay"],
        env={**os.environ, **services.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _reconcile(services: Services) -> subprocess.CompletedProcess[str]:
    """The operator's `reporting reconcile`: reporting against registration's own counts."""
    return subprocess.run(
        [sys.executable, "-m", "reporting", "reconcile"],
        env={**os.environ, **services.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _publish_newest_first(services: Services, database_url: str) -> int:
    """Every dialogue event again, straight onto the topic and newest first: each aggregate's
    older states arrive after its newer ones."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT topic, message_key, envelope::text AS envelope FROM registration.outbox "
            "WHERE topic = 'registration.dialogue.v1' ORDER BY id DESC"
        )
    finally:
        await conn.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=services.env["KAFKA_BOOTSTRAP_SERVERS"],
        enable_idempotence=services.env["KAFKA_ENABLE_IDEMPOTENCE"] == "true",
    )
    await producer.start()
    try:
        for row in rows:
            await producer.send_and_wait(
                row["topic"],
                key=row["message_key"].encode(),
                value=row["envelope"].encode(),
                headers=[("event_type", json.loads(row["envelope"])["event_type"].encode())],
            )
    finally:
        await producer.stop()
    return len(rows)


def test_votes_counted_in_reporting_equal_registrations_count_after_redelivery_and_reordering(
    services: Services, smtp: MailCatcher, database_url: str
) -> None:
    api = services.url("registration")
    site = api.removesuffix("/api/v1")
    network = _post(
        f"{api}/networks",
        network_body(title="Kultur for framtida", language="nb", organisers=["KS"]),
        ORGANISER,
    )
    network_id = network["network_id"]
    patched = httpx.patch(
        f"{api}/networks/{network_id}", json={"proposals": "open"}, headers=ORGANISER
    )
    assert patched.status_code == 200, patched.text
    tynset, bodo, alta = (
        member(name=name, municipality=place, language="nb")
        for name, place in (("Kari Fjell", "Tynset"), ("Ola Strand", "Bodø"), ("Siv Aas", "Alta"))
    )
    for person in (tynset, bodo, alta):
        _post(f"{api}/networks/{network_id}/enrolments", {"member": person, "consent": True})

    # The window has begun: the consultation opens as it is created, and its audience is invited.
    opens = datetime.now(UTC) - timedelta(minutes=1)
    consultation = _post(
        f"{api}/networks/{network_id}/consultations",
        {
            "title": "Kultur for framtida: Medlemsdialog",
            "questions": QUESTIONS,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(days=14)).isoformat(),
            "audience": "members",
        },
        ORGANISER,
    )
    consultation_id = consultation["consultation_id"]
    choice, scale, text = (q["question_id"] for q in consultation["questions"])
    form_link = f"/consultations/{consultation_id}"
    for person in (tynset, bodo, alta):
        smtp.wait_for(lambda m, p=person: m.is_to(p["email"]) and form_link in m.text)

    # Tynset answers on the page; the answer waits for the emailed link.
    with httpx.Client(base_url=site, timeout=10) as browser:
        sent = browser.post(
            f"{form_link}/respond?lang=nb",
            data={
                **{key: tynset[key] for key in ("name", "email", "municipality", "role")},
                f"q_{choice}": "Kulturskolen",
                f"q_{scale}": "4",
                f"q_{text}": "Mer erfaringsdeling mellom små kommuner.",
            },
        )
        assert sent.status_code == 303, sent.text
        link = _confirm_link(smtp, tynset["email"])
        shown = browser.get(link)
        assert shown.status_code == 200 and "Bekreft adressen min" in shown.text
        assert _counts(services, network_id, consultation_id)["registration_responses"] == 0
        token = re.search(r'name="token" value="([^"]+)"', shown.text)
        assert token is not None
        confirmed = browser.post(link.split("?")[0], data={"token": token.group(1)})
        assert "Adressen din er bekreftet" in confirmed.text
    # The receipt (its link amends the answers) follows once the answer counts.
    smtp.wait_for(lambda m: m.is_to(tynset["email"]) and f"{form_link}/responses/" in m.text)

    # Bodø answers and confirms through the API; Tynset, confirmed, proposes (counted at once).
    _post(
        f"{api}/consultations/{consultation_id}/responses",
        {
            "member": bodo,
            "answers": [
                {"question_id": choice, "value": "Bibliotek"},
                {"question_id": scale, "value": 3},
            ],
        },
    )
    bodo_link = _confirm_link(smtp, bodo["email"])
    confirmation_id, bodo_token = re.findall(r"/confirm/([^?]+)\?token=(.+)", bodo_link)[0]
    _post(f"{api}/confirmations/{confirmation_id}", token=bodo_token)
    proposal = _post(
        f"{api}/networks/{network_id}/proposals",
        {
            "member": tynset,
            "title": "Kulturskolen i kommuneplanen",
            "body": "Hvordan får vi kulturskolen inn i planarbeidet?",
        },
    )
    assert (proposal["status"], proposal["counted"]) == ("published", True)
    votes = f"{api}/proposals/{proposal['proposal_id']}/votes"
    assert _post(votes, {"member": tynset})["status"] == "counted"
    assert _post(votes, {"member": bodo})["status"] == "counted"
    assert _post(votes, {"member": alta})["status"] == "pending"
    again = httpx.post(votes, json={"member": bodo}, timeout=10)
    assert again.status_code == 409

    expected_votes = {proposal["proposal_id"]: 2}
    counts = _until(
        "reporting counts what registration counts",
        lambda: (
            (c := _counts(services, network_id, consultation_id))["reporting_votes"]
            == expected_votes
            and c["reporting_responses"] == 2
            and c["reporting_pending"] == 1
            and c
        ),
    )
    assert counts["registration_votes"] == expected_votes
    assert counts["registration_responses"] == 2
    mails_before = len(_mails_to(smtp, tynset["email"], bodo["email"]))

    # Everything again: the operator's replay (in order), then the dialogue's events newest
    # first, straight onto the topic.
    assert "queued to be published again" in _replay(services)
    assert asyncio.run(_publish_newest_first(services, database_url)) > 10

    # Alta confirms: her vote counts. Behind the redelivered events on the network's partition,
    # reporting sees it only once it has read them all.
    alta_link = _confirm_link(smtp, alta["email"])
    confirmation_id, alta_token = re.findall(r"/confirm/([^?]+)\?token=(.+)", alta_link)[0]
    _post(f"{api}/confirmations/{confirmation_id}", token=alta_token)
    expected_votes = {proposal["proposal_id"]: 3}
    counts = _until(
        "reporting counts Alta's vote after the redelivered events",
        lambda: (
            (c := _counts(services, network_id, consultation_id))["reporting_votes"]
            == expected_votes
            and c
        ),
        timeout_s=60,
    )
    assert counts["registration_votes"] == counts["reporting_votes"] == expected_votes
    assert counts["registration_responses"] == counts["reporting_responses"] == 2
    assert counts["reporting_pending"] == 0
    # The operator's reconcile agrees: every consultation's responses and proposal's votes (and
    # every meeting and network) as registration counts them.
    reconciled = _reconcile(services)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert reconciled.stdout.strip().splitlines()[-1] == "drift: 0"
    time.sleep(1)  # any duplicate email would have gone out by now
    assert len(_mails_to(smtp, tynset["email"], bodo["email"])) == mails_before


@contextmanager
def _mailbox(smtp: MailCatcher) -> Iterator[int]:
    """The mail catcher's web mailbox, as `make run` serves it, on a port of its own."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(mailbox_app(smtp), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until("the mailbox serves", lambda: server.started, timeout_s=10)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_demo_dialogue_loads_with_each_address_confirmed_by_its_emailed_link(
    services: Services, smtp: MailCatcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = services.url("registration")
    with _mailbox(smtp) as port:
        monkeypatch.setenv("DEVSTACK_MAILBOX_PORT", str(port))
        demo.load(api.removesuffix("/api/v1"), ORGANISER_TOKEN, tmp_path / "keys.json")

    listed = httpx.get(f"{api}/networks", params={"limit": 200}).json()["items"]
    by_title = {network["title"]: network["network_id"] for network in listed}
    ks, green = by_title[demo_dialogue.KS_NETWORK], by_title[demo_dialogue.GREEN_NETWORK]
    [consultation] = httpx.get(f"{api}/networks/{ks}/consultations").json()["items"]
    assert consultation["title"] == "Kultur for framtida: Medlemsdialog"
    assert consultation["status"] == "open"
    results = httpx.get(
        f"{api}/consultations/{consultation['consultation_id']}/results", headers=ORGANISER
    ).json()
    assert (results["responses"], results["pending"]) == (len(demo_dialogue.KS_ANSWERS), 0)
    counties = [m["municipality"] for m in results["municipalities"] if "fylke" in str(m)]
    assert results["audience_size"] == len(demo_dialogue.KS_ANSWERS) and counties

    ranking = httpx.get(f"{api}/networks/{green}/proposals", params={"sort": "votes"}).json()
    [winner, *others] = ranking["items"]
    assert winner["title"] == demo_dialogue.PROPOSALS[0][1]
    assert winner["status"] == "scheduled" and winner["votes"] == 4
    assert all(proposal["votes"] < 4 for proposal in others) and len(others) == 2
    meeting = httpx.get(f"{api}/meetings/{winner['meeting_id']}").json()
    assert meeting["title"].startswith("Møde 2")
    assert any(item.get("proposal_id") == winner["proposal_id"] for item in meeting["agenda"])
