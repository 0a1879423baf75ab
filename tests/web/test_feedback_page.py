"""A meeting's questions and its feedback in a real browser on a phone with JavaScript off:
the registration form asks the questions by kind (a required one left out is named in the
error summary and beside it), the organiser sees the answers; once the meeting is held the
attendee's email brings the feedback link, the page takes the answers once, and reporting
counts them. Every page is checked with axe-core."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, PERSONAL_DATA, REPORTING, meeting_body
from tests.builders import member as person_body
from tests.e2e.conftest import Services, run_services
from tests.infrastructure import Kafka
from tests.web.conftest import PHONE, TABLET, Visit
from tests.web.test_offer_pages import sql

FEEDBACK_LINK = re.compile(r"(http://\S+/meetings/[^/\s]+/feedback\?registration=\S+)")
NEEDS = "Trappefri adgang, tak"
WRITTEN = "Flere pauser"
PERSONAL_DATA.update((NEEDS, WRITTEN))


@pytest.fixture
def services(
    database_url: str, kafka: Kafka, smtp: MailCatcher, tmp_path: Path
) -> Iterator[Services]:
    # Ended meetings are looked for every half second.
    yield from run_services(
        database_url, kafka, smtp, tmp_path, extra_env={"HELD_CHECK_INTERVAL_S": "0.5"}
    )


def _meeting(client: httpx.Client, api: str) -> dict[str, Any]:
    network = client.post(
        f"{api}/networks",
        json={
            "title": "Grøn omstilling i kulturlivet",
            "description": "Kommuner og kulturliv.",
            "organisers": ["KL"],
            "language": "da",
            "max_companions": 0,
        },
        headers=ORGANISER,
    ).json()
    created = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        json=meeting_body(
            open_to_public=True,
            questions=[
                {"text": "Kost", "kind": "choice", "options": ["Alt", "Vegetar"], "required": True},
                {"text": "Tilgængelighed", "kind": "text"},
            ],
            feedback=[
                {"text": "Var mødet nyttigt?", "kind": "choice", "options": ["Ja", "Nej"]},
                {"text": "Samlet vurdering", "kind": "scale", "min": 1, "max": 5, "required": True},
                {"text": "Hvad kan vi gøre bedre?", "kind": "text"},
            ],
        ),
        headers=ORGANISER,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_questions_at_registration_and_feedback_after_the_meeting(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit, database_url: str
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    api = services.url("registration")
    client = httpx.Client(timeout=10)
    meeting = _meeting(client, api)
    meeting_id = meeting["meeting_id"]
    diet, access = meeting["questions"]
    person = person_body(name="Karen Blixen")

    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "da-DK"}
    )
    page = phone.new_page()
    page.goto(f"{site}/meetings/{meeting_id}")
    expect(page.get_by_role("group", name="Kost")).to_be_visible()
    expect(page.get_by_label("Tilgængelighed")).to_be_visible()
    visit.audit(page, "registration-form")
    for field in ("name", "email", "municipality", "role"):
        page.fill(f"#{field}", person[field])
    page.fill(f"#question-{access['question_id']}", NEEDS)
    page.click("button:has-text('Tilmeld')")
    expect(page.locator(f".summary a[href='#question-{diet['question_id']}']")).to_be_visible()
    expect(page.locator(f"#question-{diet['question_id']}-error")).to_be_visible()
    expect(page.locator(f"#question-{access['question_id']}")).to_have_value(NEEDS)
    visit.audit(page, "registration-answer-missing")
    page.get_by_label("Vegetar").check()
    page.click("button:has-text('Tilmeld')")
    expect(page.locator("h1")).to_contain_text("tilmeldt")
    phone.close()

    roster = client.get(f"{api}/meetings/{meeting_id}/registrations", headers=ORGANISER).json()
    (registration,) = roster["items"]
    assert {a["value"] for a in registration["answers"]} == {"Vegetar", NEEDS}
    tablet = browser.new_context(viewport=TABLET)
    console = tablet.new_page()
    console.goto(f"{site}/console/login?lang=da")
    console.fill("#token", ORGANISER_TOKEN)
    console.click("button[type=submit]")
    console.goto(f"{site}/console/meetings/{meeting_id}?lang=da")
    expect(console.locator("table")).to_contain_text(NEEDS)
    visit.audit(console, "console-answers")
    console.click("a:has-text('Spørgsmål og feedback')")
    expect(console.locator("#r1_text")).to_have_value("Kost")
    expect(console.locator("#f2_kind")).to_have_value("scale")
    visit.audit(console, "console-questions")
    tablet.close()

    checked_in = client.post(
        f"{api}/registrations/{registration['registration_id']}/check-in", headers=ORGANISER
    )
    assert checked_in.status_code == 200, checked_in.text
    # The meeting took place: it ended a moment ago, and the scheduler marks it held.
    sql(
        database_url,
        "UPDATE registration.meetings SET starts_at = now() - interval '3 hours', "
        "ends_at = now() - interval '1 minute' WHERE id = $1",
        uuid.UUID(meeting_id),
    )
    mail = smtp.wait_for(
        lambda m: m.is_to(person["email"]) and m.subject.startswith("Hvordan gik"), timeout_s=60
    )[0]
    found = FEEDBACK_LINK.search(mail.text)
    assert found is not None, mail.text
    link = found.group(1)

    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "da-DK"}
    )
    page = phone.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Din feedback")
    expect(page.get_by_role("group", name="Samlet vurdering")).to_be_visible()
    visit.audit(page, "feedback-form")
    page.get_by_label("Ja").check()
    page.fill("textarea", WRITTEN)
    page.click("button:has-text('Send feedback')")
    expect(page.locator(".summary")).to_contain_text("Samlet vurdering")
    expect(page.locator("textarea")).to_have_value(WRITTEN)
    visit.audit(page, "feedback-answer-missing")
    page.get_by_role("group", name="Samlet vurdering").get_by_label("4").check()
    page.click("button:has-text('Send feedback')")
    expect(page.locator("h1")).to_have_text("Tak for din feedback")
    visit.audit(page, "feedback-given")
    page.goto(link)  # the link again: given once, and it says so
    expect(page.locator("h1")).to_have_text("Tak for din feedback")
    expect(page.locator("button")).to_have_count(0)
    phone.close()
    again = client.post(
        f"{site}{link.split(site, 1)[1]}",
        data={f"question-{meeting['feedback'][1]['question_id']}": "5"},
    )
    assert again.status_code == 409

    # Reporting counts the answers, and never holds what was written.
    reports = services.url("reporting")
    deadline = time.monotonic() + 30
    report: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = client.get(f"{reports}/reports/meetings/{meeting_id}/feedback", headers=REPORTING)
        if answer.status_code == 200 and answer.json()["responses"] == 1:
            report = answer.json()
            break
        time.sleep(0.5)
    assert report, "reporting did not count the feedback"
    useful, rating = report["questions"]
    assert {a["value"]: a["count"] for a in useful["answers"]} == {"Ja": 1, "Nej": 0}
    assert rating["mean"] == 4
    assert WRITTEN not in str(report)
    assert not visit.findings, visit.findings
