"""An organiser signs in, creates a network and a meeting, sees the roster with companions,
exports it, reschedules, and checks people in on a tablet: tapping, with the connection lost
for a while, and with JavaScript off. Reporting's attendance follows."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER_TOKEN, REPORTING, companion, member
from tests.e2e.conftest import Services
from tests.web.conftest import TABLET, Visit


def _sign_in(page: Page, site: str, visit: Visit) -> None:
    page.goto(f"{site}/console?lang=en")
    expect(page).to_have_url(f"{site}/console/login")
    page.fill("#token", "not-the-key")
    page.click("button[type=submit]")
    expect(page.locator(".summary")).to_contain_text("not recognised")
    visit.audit(page, "sign-in")
    page.fill("#token", ORGANISER_TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Networks")


def _attended(services: Services, meeting_id: str) -> Any:
    answer = httpx.get(
        f"{services.url('reporting')}/reports/meetings/{meeting_id}", headers=REPORTING
    )
    return answer.json().get("attended") if answer.status_code == 200 else None


def _wait(check: Any, expected: Any, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while (value := check()) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_an_organiser_runs_a_meeting_from_the_console_and_the_door(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    context = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, site, visit)
    visit.audit(page, "networks")

    # A network, then a meeting, through the forms; a mistake is shown beside its field.
    page.click("text=New network")
    page.fill("#title", "Kulturchefnetværket Øst")
    page.fill("#description", "Videndeling for kulturchefer.")
    page.click("button:has-text('Create')")
    expect(page.locator("#organisers-error")).to_be_visible()
    visit.audit(page, "network-error")
    page.fill("#organisers", "KL\nRegion Sjælland")
    page.fill("#max_companions", "1")
    page.click("button:has-text('Create')")
    expect(page.locator("h1")).to_have_text("Kulturchefnetværket Øst")
    starts = (datetime.now() + timedelta(days=10)).replace(hour=10, minute=0)
    page.click("summary:has-text('New meeting')")
    page.fill("#title", "Møde om kulturstrategier")
    page.fill("#starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", (starts + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#capacity", "20")
    page.check("#open_to_public")
    visit.audit(page, "network")
    page.click("form[action$='/meetings'] button")
    expect(page.locator("h1")).to_have_text("Møde om kulturstrategier")
    meeting_id = page.url.split("?")[0].rsplit("/", 1)[1]
    expect(page.locator(".notice")).to_have_text("Meeting created.")

    people = [member(name=name) for name in ("Lars Konsulent", "Ingrid Nordmann", "Sara Green")]
    for number, person in enumerate(people):
        body = {"member": person, "companions": [companion("Ole Ledsager")] if number == 0 else []}
        answer = httpx.post(
            f"{services.url('registration')}/meetings/{meeting_id}/registrations", json=body
        )
        assert answer.status_code == 201, answer.text
    page.reload()
    expect(page.locator("main")).to_contain_text("People (3)")
    expect(page.locator("table")).to_contain_text("Ole Ledsager")
    visit.audit(page, "meeting")

    with page.expect_download() as download:
        page.click("text=Download CSV")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert sorted(row["Name"] for row in rows) == sorted(p["name"] for p in people)
    assert [row["Companions"] for row in rows if row["Name"] == "Lars Konsulent"] == [
        "Ole Ledsager"
    ]

    # Rescheduled by an hour: the people registered are told.
    page.click("summary:has-text('Edit')")
    page.fill("#starts_at", (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", (starts + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"))
    page.click("form[action$='" + meeting_id + "'] button")
    expect(page.locator(".notice")).to_have_text(
        "Saved. The 3 people registered are being told of the change."
    )
    smtp.wait_for(
        lambda m: m.is_to(people[1]["email"]) and "Mødet er flyttet" in m.subject, timeout_s=15
    )

    # At the door: search, tap, lose the connection, tap again, get it back. Lars's companion
    # is a person at the door too: a line of their own, found by either name.
    page.click("text=Check-in")
    expect(page.locator("#arrived")).to_have_text("0")
    expect(page.locator("#expected")).to_have_text("4")
    page.fill("#q", "lars")
    expect(page.locator("#people li:visible")).to_have_count(2)
    page.locator("#people li:visible").first.locator("button[data-registration]").click()
    expect(page.locator("#arrived")).to_have_text("1")
    page.fill("#q", "nobody by that name")
    expect(page.locator("#no-matches")).to_be_visible()
    page.fill("#q", "")
    context.set_offline(True)
    page.locator("li", has_text="Ingrid Nordmann").locator("button[data-registration]").click()
    expect(page.locator("#arrived")).to_have_text("2")
    expect(page.locator("#queue")).to_be_visible()  # the tap waits for a connection
    visit.audit(page, "check-in-offline")
    assert _attended(services, meeting_id) in (None, 0, 1)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#queue")).to_be_hidden()
    assert _wait(lambda: _attended(services, meeting_id), 2) == 2
    page.locator("li", has_text="Ole Ledsager").locator("button[data-registration]").click()
    expect(page.locator("#arrived")).to_have_text("3")

    # The same door with JavaScript off: every tap is a plain form post, and so is taking one
    # back when the wrong line was ticked.
    plain = browser.new_context(viewport=TABLET, java_script_enabled=False)
    plain.add_cookies(context.cookies())
    door = plain.new_page()
    door.goto(f"{site}/console/meetings/{meeting_id}/check-in")
    expect(door.locator("#arrived")).to_have_text("3")
    door.locator("li", has_text="Sara Green").locator("button[data-registration]").click()
    expect(door.locator("#arrived")).to_have_text("4")
    visit.audit(door, "check-in-plain")
    assert _wait(lambda: _attended(services, meeting_id), 3) == 3
    door.locator("li", has_text="Ingrid Nordmann").locator("button[data-undo]").click()
    expect(door.locator("#arrived")).to_have_text("3")
    expect(
        door.locator("li", has_text="Ingrid Nordmann").locator("button[data-registration]")
    ).to_be_visible()

    # Cancelling the meeting from the console.
    page.goto(f"{site}/console/meetings/{meeting_id}")
    page.click("summary:has-text('Cancel the meeting')")
    page.fill("#reason", "Sygdom")
    page.click("button.danger")
    # Nothing is cancelled yet: the console says who will be emailed and asks again.
    expect(page.locator("h1")).to_contain_text("Cancel Møde om kulturstrategier?")
    expect(page.locator("main")).to_contain_text("3 people registered or waiting will be emailed")
    visit.audit(page, "cancel-confirm")
    page.click("button:has-text('Yes, cancel it and email 3 people')")
    expect(page.locator(".notice.warning")).to_contain_text("This meeting is cancelled.")
    expect(page.locator(".notice.warning")).to_contain_text("3 people are being emailed")
    expect(page.locator("a:has-text('Check-in')")).to_have_count(0)
    visit.audit(page, "cancelled")
    assert not visit.findings, visit.findings
    plain.close()
    context.close()


def test_console_pages_need_a_session(services: Services) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    for path in (
        "/console",
        "/console/networks/new",
        "/console/meetings/00000000-0000-0000-0000-000000000000",
    ):
        answer = httpx.get(f"{site}{path}", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    forged = httpx.post(
        f"{site}/console/networks",
        data={"title": "x"},
        cookies={"tilmeld_console": "00000000-0000-0000-0000-000000000000:0.forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 303
    check_in = httpx.post(
        f"{site}/console/registrations/00000000-0000-0000-0000-000000000000/check-in",
        headers={"Accept": "application/json"},
    )
    assert check_in.status_code == 401
