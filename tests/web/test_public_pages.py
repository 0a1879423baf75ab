# ruff: noqa: E501  (each language's phrases on one line, to compare them side by side)
"""A person on a phone, JavaScript off: enrols, registers with a companion, meets the waitlist,
cancels from the email, and the next person is promoted, in each of the four languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, meeting_body, network_body
from tests.e2e.conftest import Services
from tests.web.conftest import PHONE, Visit

# What each language's pages say at the steps the test checks.
SAYS = {
    "da": {"register": "Tilmeld mig", "confirmed": "Du er tilmeldt", "missing_email": "Skriv en gyldig e-mailadresse", "waitlisted": "Du er nummer 1 på ventelisten", "enrol": "Meld mig ind", "enrolled": "Du er meldt ind", "members_only": "kun for netværkets medlemmer"},
    "nb": {"register": "Meld meg på", "confirmed": "Du er påmeldt", "missing_email": "Skriv en gyldig e-postadresse", "waitlisted": "Du er nummer 1 på ventelisten", "enrol": "Meld meg inn", "enrolled": "Du er meldt inn", "members_only": "bare for nettverkets medlemmer"},
    "de": {"register": "Anmelden", "confirmed": "Sie sind angemeldet", "missing_email": "Geben Sie eine gültige E-Mail-Adresse ein", "waitlisted": "Sie sind Nummer 1 auf der Warteliste", "enrol": "Beitreten", "enrolled": "Sie sind beigetreten", "members_only": "nur für Mitglieder des Netzwerks"},
    "en": {"register": "Register", "confirmed": "You are registered", "missing_email": "Enter a valid email address", "waitlisted": "You are number 1 on the waitlist", "enrol": "Join", "enrolled": "You have joined", "members_only": "for the network's members only"},
}  # fmt: skip
ACCEPT_LANGUAGE = {"da": "da-DK", "nb": "nb-NO", "de": "de-DE", "en": "en-GB"}


@pytest.fixture
def site(services: Services) -> str:
    return f"http://127.0.0.1:{services.ports['registration']}"


def _api(services: Services, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{services.url('registration')}{path}", json=body, headers=ORGANISER)
    assert response.status_code == 201, response.text
    return response.json()


def _meeting(services: Services, *, language: str, capacity: int, **extra: Any) -> str:
    network = _api(services, "/networks", network_body(language=language, max_companions=1))
    meeting = _api(
        services,
        f"/networks/{network['network_id']}/meetings",
        meeting_body(capacity=capacity, open_to_public=True, **extra),
    )
    return str(meeting["meeting_id"])


def _phone(browser: Browser, language: str) -> Iterator[Page]:
    """A 360 px phone whose browser prefers the language, with JavaScript off."""
    context = browser.new_context(
        viewport=PHONE,
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": ACCEPT_LANGUAGE[language]},
    )
    yield context.new_page()
    context.close()


def _fill_person(page: Page, name: str, email: str) -> None:
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#municipality", "Roskilde")
    page.fill("#role", "Kulturkonsulent")


def test_a_person_registers_with_a_companion_in_each_language(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit, site: str
) -> None:
    for language in SAYS:
        _register_with_companion(services, smtp, browser, visit, site, language)
    assert not visit.findings, visit.findings


def _register_with_companion(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit, site: str, language: str
) -> None:
    says = SAYS[language]
    meeting_id = _meeting(services, language="da", capacity=10, timezone="Europe/Copenhagen")
    page = next(_phone(browser, language))
    page.goto(f"{site}/meetings/{meeting_id}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#seats")).to_contain_text("10")
    visit.audit(page, f"{language}-meeting")

    # A mistake: the form comes back with the error beside the field, nothing typed lost.
    _fill_person(page, "Mette Hansen", "mette-at-roskilde")
    page.fill("#companion_1_name", "Ole Klimarådgiver")
    page.click(f"button:has-text('{says['register']}')")
    expect(page.locator("#email-error")).to_contain_text(says["missing_email"])
    expect(page.locator(".summary a[href='#email']")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Mette Hansen")
    expect(page.locator("#companion_1_name")).to_have_value("Ole Klimarådgiver")
    visit.audit(page, f"{language}-error")

    email = f"mette.{language}@roskilde.example"
    page.fill("#email", email)
    page.click(f"button:has-text('{says['register']}')")
    expect(page.locator("h1")).to_have_text(says["confirmed"])
    visit.audit(page, f"{language}-confirmed")

    # The confirmation offers the calendar file, and the email in the same language arrives.
    calendar_url = page.locator("a[download]").get_attribute("href")
    assert calendar_url is not None
    calendar = httpx.get(f"{site}{calendar_url}")
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in calendar.text and "Klima" in calendar.text
    mail = smtp.wait_for(lambda m: m.is_to(email), timeout_s=15)[0]
    assert "Ole Klimarådgiver" not in mail.subject
    roster = httpx.get(
        f"{services.url('registration')}/meetings/{meeting_id}/registrations", headers=ORGANISER
    ).json()["items"]
    assert [(item["seats"], item["status"]) for item in roster] == [(2, "confirmed")]


def test_a_full_meeting_waitlists_and_a_cancellation_from_the_email_promotes(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit, site: str
) -> None:
    meeting_id = _meeting(services, language="da", capacity=1)
    first = next(_phone(browser, "da"))
    first.goto(f"{site}/meetings/{meeting_id}")
    _fill_person(first, "Anne Først", "anne@roskilde.example")
    first.click("button:has-text('Tilmeld mig')")
    expect(first.locator("h1")).to_have_text(SAYS["da"]["confirmed"])

    second = next(_phone(browser, "da"))
    second.goto(f"{site}/meetings/{meeting_id}")
    expect(second.locator("#seats")).to_contain_text("venteliste")
    visit.audit(second, "full-meeting")
    _fill_person(second, "Bo Næste", "bo@roskilde.example")
    second.click("button:has-text('Tilmeld mig')")
    expect(second.locator("main")).to_contain_text(SAYS["da"]["waitlisted"])
    visit.audit(second, "waitlisted")
    waiting_page = second.url

    # Anne cancels through the link in her confirmation email, read from the real SMTP server.
    confirmation = smtp.wait_for(lambda m: m.is_to("anne@roskilde.example"), timeout_s=15)[0]
    link = re.search(r"https?://\S+/cancel/registrations/\S+", confirmation.text)
    assert link is not None
    first.goto(link.group(0))
    visit.audit(first, "cancel-ask")
    first.click("button")
    expect(first.locator("main")).to_contain_text("afmeldt")
    visit.audit(first, "cancelled")

    # Bo is promoted: his confirmation page says so, and he is told by email.
    smtp.wait_for(
        lambda m: m.is_to("bo@roskilde.example") and "fået en plads" in m.subject,
        timeout_s=15,
    )
    second.goto(waiting_page)
    expect(second.locator("h1")).to_have_text(SAYS["da"]["confirmed"])
    visit.audit(second, "promoted")
    assert not visit.findings, visit.findings


def test_a_members_only_meeting_sends_a_person_to_enrol_first(
    services: Services, browser: Browser, visit: Visit, site: str
) -> None:
    network = _api(services, "/networks", network_body(language="de", max_companions=0))
    meeting = _api(
        services,
        f"/networks/{network['network_id']}/meetings",
        meeting_body(capacity=5, timezone="Europe/Berlin"),
    )
    page = next(_phone(browser, "de"))
    page.goto(f"{site}/meetings/{meeting['meeting_id']}")
    expect(page.locator("fieldset")).to_have_count(0)  # this network allows no companions
    _fill_person(page, "Jonas Weber", "jonas@muenster.example")
    page.click("button:has-text('Anmelden')")
    expect(page.locator(".summary")).to_contain_text(SAYS["de"]["members_only"])
    expect(page.locator("#name")).to_have_value("Jonas Weber")

    page.goto(f"{site}/networks/{network['network_id']}")
    visit.audit(page, "network")
    _fill_person(page, "Jonas Weber", "jonas@muenster.example")
    page.click("button:has-text('Beitreten')")
    expect(page.locator("#consent-error")).to_be_visible()  # consent is asked, not assumed
    page.check("#consent")
    page.click("button:has-text('Beitreten')")
    expect(page.locator("h1")).to_have_text(SAYS["de"]["enrolled"])
    visit.audit(page, "enrolled")

    page.goto(f"{site}/meetings/{meeting['meeting_id']}")
    _fill_person(page, "Jonas Weber", "jonas@muenster.example")
    page.click("button:has-text('Anmelden')")
    expect(page.locator("h1")).to_have_text(SAYS["de"]["confirmed"])
    assert not visit.findings, visit.findings


def test_the_language_can_be_switched_and_is_remembered(
    services: Services, browser: Browser, visit: Visit, site: str
) -> None:
    page = next(_phone(browser, "en"))
    page.goto(site)
    expect(page.locator("h1")).to_have_text("Networks")
    page.click("a[hreflang=nb]")
    expect(page.locator("h1")).to_have_text("Nettverk")
    page.goto(site)  # no ?lang any more: the choice is remembered
    expect(page.locator("h1")).to_have_text("Nettverk")
    visit.audit(page, "networks")
    assert httpx.get(f"{site}/meetings/00000000-0000-0000-0000-000000000000").status_code == 404
    assert not visit.findings, visit.findings


def test_a_person_registers_with_the_keyboard_alone(
    services: Services, browser: Browser, visit: Visit, site: str
) -> None:
    meeting_id = _meeting(services, language="en", capacity=5)
    page = next(_phone(browser, "en"))
    page.goto(f"{site}/meetings/{meeting_id}")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()  # the first stop skips the header
    for _ in range(30):  # on through the links to the form's first field
        if page.evaluate("document.activeElement.id") == "name":
            break
        page.keyboard.press("Tab")
    for text in ("Kari Nordmann", "kari@tynset.example", "Tynset", "Kultursjef"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # submits the form from the organisation field
    expect(page.locator("h1")).to_have_text(SAYS["en"]["confirmed"])
    visit.audit(page, "keyboard-confirmed")
    assert not visit.findings, visit.findings
